/** How a connection's failure is reported through InCore's `error` and its Qt error numbers. */
import type { WebSocketError, WebSocketErrorCode } from '../../errors.js';
import { socketErrorOfFailure } from '../qt/socket-error.js';
import type { PortCloseEvent } from '../socket-port.js';
import { InCoreError } from './enums.js';

/** An error as the object reports it: `error`, `errorString` and the signals' arguments. */
export interface InCoreFailure {
  error: InCoreError;
  text: string;
  /** The argument of `ipSocketErrorOccurred`, or null not to emit it. */
  socketError: number | null;
  /** The argument of `sslErrorOccurred`, or null not to emit it. */
  sslText: string | null;
}

/** `QAbstractSocket::SocketResourceError`: the read buffer is full. */
const SOCKET_RESOURCE_ERROR = 4;

const TLS_CODES = new Set<WebSocketErrorCode>([
  'ERR_WS_TLS',
  'ERR_WS_TLS_CERTIFICATE',
  'ERR_WS_TLS_INTERNAL',
]);

/** A connection that failed or closed abnormally (`opened`: after it was established). */
export function socketFailure(
  failure: unknown,
  event: PortCloseEvent,
  opened: boolean,
): InCoreFailure {
  const code = (failure as WebSocketError | undefined)?.code;
  const text =
    failure instanceof Error
      ? failure.message
      : typeof failure === 'string'
        ? failure
        : `the connection closed abnormally (code ${event.code})`;
  if (code !== undefined && TLS_CODES.has(code)) {
    return { error: InCoreError.SslError, text, socketError: null, sslText: text };
  }
  return {
    error: InCoreError.IpSocketError,
    text,
    socketError: socketErrorOfFailure(failure, opened),
    sslText: null,
  };
}

/** A binary message that would overflow the read buffer, which fails the connection. */
export function overflowFailure(held: number, limit: number, incoming: number): InCoreFailure {
  return {
    error: InCoreError.IpSocketError,
    text: `the read buffer is full (${held} bytes held, limit ${limit}): a binary message of ${incoming} bytes cannot be buffered, so the connection was closed; read the buffer (read(), readAll(), readLine()) as data arrives, or raise readBufferSize`,
    socketError: SOCKET_RESOURCE_ERROR,
    sslText: null,
  };
}
