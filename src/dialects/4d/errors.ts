/**
 * The `errors` collection of the 4D dialect's `onError` event.
 *
 * Every entry is `{ errCode, message, componentSignature: 'wskit' }`. The numbers are wskit's own
 * (4D's error numbers are internal to 4D):
 *
 * | errCode | name                | when                                                               |
 * |---------|---------------------|--------------------------------------------------------------------|
 * | 1       | `CONNECTION_FAILED` | The connection could not be opened (refused, host not found, handshake refused, TLS, proxy, timeout). `onTerminate` follows with 1006. |
 * | 2       | `NOT_OPEN`          | `send()` while `status` is not "Connected". Nothing is sent.       |
 * | 3       | `INVALID_JSON`      | `dataType` "object": a received message is not valid JSON. The message is dropped; the connection stays up. |
 * | 4       | `CONNECTION_ERROR`  | The open connection failed: protocol violation by the server, invalid UTF-8, message too big, reset, timeout. `onTerminate` follows. |
 * | 5       | `SEND_FAILED`       | `send()` got something it cannot send: `undefined`, a function or symbol, an object `JSON.stringify` rejects (cycle, BigInt), or the socket refused the data. |
 *
 * In Node, the messages of 1 and 4 end with the stable wskit error code in parentheses, such as
 * `(ERR_WS_CONNECTION_REFUSED)` or `(ERR_WS_PROTOCOL)` (see `WebSocketError` in the main entry).
 * Browsers give no detail about failed connections, so there the message says only that.
 */
export const FourDErrorCode = Object.freeze({
  /** The connection could not be opened. */
  CONNECTION_FAILED: 1,
  /** `send()` while the connection is not open. */
  NOT_OPEN: 2,
  /** dataType "object": a received message is not valid JSON. */
  INVALID_JSON: 3,
  /** The open connection failed. */
  CONNECTION_ERROR: 4,
  /** `send()` got a value it cannot send. */
  SEND_FAILED: 5,
} as const);

/** One of the {@link FourDErrorCode} numbers. */
export type FourDErrorCodeNumber = (typeof FourDErrorCode)[keyof typeof FourDErrorCode];

/** The signature of the component that reports every error of this dialect. */
export const COMPONENT_SIGNATURE = 'wskit';

/** One entry of `event.errors` in `onError`, read-only. */
export interface FourDError {
  /** The error number: see {@link FourDErrorCode}. */
  readonly errCode: number;
  /** What happened, and for Node connection errors the wskit error code in parentheses. */
  readonly message: string;
  /** Always "wskit". */
  readonly componentSignature: string;
}

/** A frozen errors entry. */
export function fourDError(errCode: FourDErrorCodeNumber, message: string): FourDError {
  return Object.freeze({ errCode, message, componentSignature: COMPONENT_SIGNATURE });
}

/**
 * Describes what a socket error event carries: a wskit error's message with its stable `code`,
 * another error's message, the event's message, or nothing (browsers).
 */
export function describeSocketError(error: unknown, eventMessage: string | undefined): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' && code !== '' ? `${error.message} (${code})` : error.message;
  }
  if (typeof eventMessage === 'string' && eventMessage !== '') return eventMessage;
  return '';
}
