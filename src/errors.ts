/**
 * Typed errors of wskit. Every error has a stable `code` string to branch on, a message that says
 * what happened and what to do, and (where one exists) the original error as `cause`.
 */

/** Stable error codes. The README lists each with its meaning and its Qt `SocketError` number. */
export type WebSocketErrorCode =
  | 'ERR_WS_INVALID_URL'
  | 'ERR_WS_INVALID_ARGUMENT'
  | 'ERR_WS_INVALID_STATE'
  | 'ERR_WS_CONNECTION_REFUSED'
  | 'ERR_WS_CONNECTION_RESET'
  | 'ERR_WS_CONNECTION_CLOSED'
  | 'ERR_WS_HOST_NOT_FOUND'
  | 'ERR_WS_TIMEOUT'
  | 'ERR_WS_NETWORK'
  | 'ERR_WS_ACCESS'
  | 'ERR_WS_RESOURCE'
  | 'ERR_WS_ADDRESS_IN_USE'
  | 'ERR_WS_ADDRESS_NOT_AVAILABLE'
  | 'ERR_WS_UNSUPPORTED_OPERATION'
  | 'ERR_WS_TEMPORARY'
  | 'ERR_WS_HANDSHAKE'
  | 'ERR_WS_HANDSHAKE_TIMEOUT'
  | 'ERR_WS_TLS'
  | 'ERR_WS_TLS_CERTIFICATE'
  | 'ERR_WS_TLS_INTERNAL'
  | 'ERR_WS_PROXY'
  | 'ERR_WS_PROXY_AUTH'
  | 'ERR_WS_PROXY_REFUSED'
  | 'ERR_WS_PROXY_CLOSED'
  | 'ERR_WS_PROXY_TIMEOUT'
  | 'ERR_WS_PROXY_NOT_FOUND'
  | 'ERR_WS_PROTOCOL'
  | 'ERR_WS_INVALID_UTF8'
  | 'ERR_WS_MESSAGE_TOO_BIG'
  | 'ERR_WS_INVALID_COMPRESSED_DATA'
  | 'ERR_WS_BACKPRESSURE'
  | 'ERR_WS_QUEUE_FULL'
  | 'ERR_WS_NOT_SENT'
  | 'ERR_WS_BROKER_UNAVAILABLE'
  | 'ERR_WS_BROKER_QUEUE_FULL'
  | 'ERR_WS_BROKER_CLOSED'
  | 'ERR_WS_UNKNOWN';

/** Base class of every error wskit raises or reports. */
export class WebSocketError extends Error {
  override name = 'WebSocketError';
  readonly code: WebSocketErrorCode;

  constructor(code: WebSocketErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** A network-level failure: refused, reset, host not found, timeout, TLS, proxy. */
export class ConnectionError extends WebSocketError {
  override name = 'ConnectionError';
}

/** The opening handshake failed: the server refused the upgrade or answered something invalid. */
export class HandshakeError extends WebSocketError {
  override name = 'HandshakeError';
  /** HTTP status of the server's answer, when there was one. */
  readonly status: number | undefined;
  /** Response headers of the server's answer, lower-cased names, when there was one. */
  readonly headers: Readonly<Record<string, string>> | undefined;
  /** The start of the response body, when the server sent one with a refusal. */
  readonly body: string | undefined;

  constructor(
    message: string,
    details: {
      code?: WebSocketErrorCode;
      status?: number;
      headers?: Record<string, string>;
      body?: string;
      cause?: unknown;
    } = {},
  ) {
    super(details.code ?? 'ERR_WS_HANDSHAKE', message, { cause: details.cause });
    this.status = details.status;
    this.headers = details.headers;
    this.body = details.body;
  }
}

/** The peer broke RFC 6455; `closeCode` is the code the connection was failed with. */
export class ProtocolError extends WebSocketError {
  override name = 'ProtocolError';
  readonly closeCode: number;

  constructor(closeCode: number, message: string, code?: WebSocketErrorCode) {
    super(
      code ??
        (closeCode === 1007
          ? 'ERR_WS_INVALID_UTF8'
          : closeCode === 1009
            ? 'ERR_WS_MESSAGE_TOO_BIG'
            : 'ERR_WS_PROTOCOL'),
      message,
    );
    this.closeCode = closeCode;
  }
}
