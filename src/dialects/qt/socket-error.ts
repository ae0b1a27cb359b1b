/**
 * Qt's socket-error numbering (`QAbstractSocket::SocketError`), which InCore's
 * `IpSocket.Error` and Overte's `SocketError` share, and the one mapping from wskit's failures to
 * it that both dialects use, in Node and in browsers.
 */
import { WebSocketError, type WebSocketErrorCode } from '../../errors.js';

/**
 * The Qt socket-error number of each wskit error code; -1 is `UnknownSocketError`. A refused or
 * invalid opening handshake and an invalid URL are 0 (`ConnectionRefusedError`), as
 * `QWebSocket` reports them; protocol violations after the opening have no Qt socket error.
 */
export const SOCKET_ERROR_BY_CODE: Readonly<Record<WebSocketErrorCode, number>> = Object.freeze({
  ERR_WS_CONNECTION_REFUSED: 0,
  ERR_WS_CONNECTION_RESET: 1,
  ERR_WS_CONNECTION_CLOSED: 1,
  ERR_WS_HOST_NOT_FOUND: 2,
  ERR_WS_ACCESS: 3,
  ERR_WS_RESOURCE: 4,
  ERR_WS_TIMEOUT: 5,
  ERR_WS_HANDSHAKE_TIMEOUT: 5,
  ERR_WS_NETWORK: 7,
  ERR_WS_ADDRESS_IN_USE: 8,
  ERR_WS_ADDRESS_NOT_AVAILABLE: 9,
  ERR_WS_UNSUPPORTED_OPERATION: 10,
  ERR_WS_PROXY_AUTH: 11,
  ERR_WS_TLS: 12,
  ERR_WS_TLS_CERTIFICATE: 12,
  ERR_WS_PROXY_REFUSED: 14,
  ERR_WS_PROXY_CLOSED: 15,
  ERR_WS_PROXY_TIMEOUT: 16,
  ERR_WS_PROXY_NOT_FOUND: 17,
  ERR_WS_PROXY: 18,
  ERR_WS_INVALID_STATE: 19,
  ERR_WS_TLS_INTERNAL: 20,
  ERR_WS_TEMPORARY: 22,
  ERR_WS_INVALID_URL: 0,
  ERR_WS_INVALID_ARGUMENT: -1,
  ERR_WS_HANDSHAKE: 0,
  ERR_WS_PROTOCOL: -1,
  ERR_WS_INVALID_UTF8: -1,
  ERR_WS_MESSAGE_TOO_BIG: -1,
  ERR_WS_INVALID_COMPRESSED_DATA: -1,
  ERR_WS_BACKPRESSURE: 4,
  ERR_WS_BROKER_UNAVAILABLE: -1,
  ERR_WS_BROKER_QUEUE_FULL: -1,
  ERR_WS_BROKER_CLOSED: -1,
  ERR_WS_QUEUE_FULL: 19,
  ERR_WS_NOT_SENT: 19,
  ERR_WS_UNKNOWN: -1,
});

/** The Qt socket-error number for any error: its code's entry, or -1 (unknown). */
export function socketErrorOf(error: unknown): number {
  if (error instanceof WebSocketError) return SOCKET_ERROR_BY_CODE[error.code] ?? -1;
  return -1;
}

const SCHEME = /^\s*([a-zA-Z][a-zA-Z0-9+.-]*):/;
const SUPPORTED_SCHEMES = new Set(['ws', 'wss', 'http', 'https', 'ws+unix']);

/**
 * The Qt number for a URL the socket refused at once, as `QWebSocket::open()` reports it: 10
 * (`UnsupportedSocketOperationError`, "Unsupported WebSocket scheme") when the URL has no scheme
 * or one wskit cannot connect with; 0 (`ConnectionRefusedError`, "Invalid URL") otherwise.
 */
export function socketErrorOfUrl(url: string): number {
  const scheme = SCHEME.exec(url)?.[1]?.toLowerCase();
  return scheme !== undefined && SUPPORTED_SCHEMES.has(scheme) ? 0 : 10;
}

/**
 * The Qt number for a connection failure reported by a socket's `error` event: a wskit error's
 * entry in {@link SOCKET_ERROR_BY_CODE}; without a typed error (browsers give no detail) 0
 * (`ConnectionRefusedError`) before the connection opened, since Qt reports a refused
 * connection and a refused handshake alike, and 1 (`RemoteHostClosedError`) after.
 */
export function socketErrorOfFailure(error: unknown, opened: boolean): number {
  if (error instanceof WebSocketError) return socketErrorOf(error);
  return opened ? 1 : 0;
}
