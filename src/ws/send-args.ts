/** `ws`'s calling conventions for `send`, `ping`, `pong` and `close`, and its data conversions. */
import { Buffer } from 'node:buffer';
import { type Callback, READY_STATES, type SendData } from './types.js';

/** The empty payload. */
export const EMPTY = Buffer.alloc(0);

/** Whether `value` is a `Blob` (where the runtime has them). */
export function isBlob(value: unknown): value is Blob {
  return typeof Blob !== 'undefined' && value instanceof Blob;
}

/** ws's conversion of `send`/`ping` data to bytes. */
export function toBuffer(data: Exclude<SendData, string | number | Blob>): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer || data instanceof SharedArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  // A message received with binaryType 'fragments' is sent back as its bytes.
  if (data.length > 0 && data.every((part) => part instanceof Uint8Array)) {
    return Buffer.concat(data as readonly Uint8Array[]);
  }
  return Buffer.from(data as readonly number[]);
}

/** The same bytes as a `Buffer`, without copying. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** How many bytes `data` would take on the wire (0 for nothing). */
export function byteLengthOf(data: SendData | undefined): number {
  if (data === undefined || data === null || data === '') return 0;
  if (isBlob(data)) return data.size;
  if (typeof data === 'string') return Buffer.byteLength(data);
  return toBuffer(data as Buffer).length;
}

/** The error of an operation that needs an open connection. */
export function notOpen(readyState: number): Error {
  return new Error(
    `WebSocket is not open: readyState ${readyState} (${READY_STATES[readyState] ?? 'CLOSED'})`,
  );
}

/** `send(data, options, cb)`, `ping(data, mask, cb)` or `pong(...)` after ws's shuffling. */
export interface OutgoingCall<O> {
  /** The data, numbers already turned into their decimal text. */
  data: Exclude<SendData, number> | undefined;
  /** `send`'s options or the control frames' `mask`. */
  second: O | undefined;
  cb: Callback | undefined;
}

/**
 * Reads the arguments of `send`, `ping` and `pong` as ws does: the callback may take the place of
 * the second argument, and, for `ping` and `pong` (`leadingCallback`), of the data too.
 */
export function outgoingCall<O>(
  data: SendData | Callback | undefined,
  second: O | Callback | undefined,
  cb: Callback | undefined,
  leadingCallback: boolean,
): OutgoingCall<O> {
  if (leadingCallback && typeof data === 'function') {
    return { data: undefined, second: undefined, cb: data };
  }
  const given =
    typeof data === 'number' ? data.toString() : (data as Exclude<SendData, number> | undefined);
  if (typeof second === 'function')
    return { data: given, second: undefined, cb: second as Callback };
  return { data: given, second, cb };
}

/** Refuses a `mask` that does not match the side (RFC 6455 section 5.3). */
export function checkMask(mask: boolean | undefined, isServer: boolean): void {
  if (mask !== undefined && mask !== !isServer) {
    throw new TypeError(
      `mask: ${mask} is not supported: ${isServer ? 'a server never masks' : 'a client always masks'} its frames (RFC 6455 section 5.3)`,
    );
  }
}

/** The payload of a ping or pong, checked: at most 125 bytes (RFC 6455 section 5.5), no Blob. */
export function controlPayload(data: Exclude<SendData, number> | undefined): Buffer {
  if (isBlob(data)) {
    throw new TypeError('ping and pong data must be a string or bytes, not a Blob');
  }
  const payload =
    data === undefined || data === null || data === ''
      ? EMPTY
      : typeof data === 'string'
        ? Buffer.from(data)
        : toBuffer(data);
  if (payload.length > 125) {
    throw new RangeError('The data size must not be greater than 125 bytes');
  }
  return payload;
}

/** The reason `close(code, data)` sends, after checking both as ws does. */
export function closeReason(code: number | undefined, data: string | Buffer | undefined): string {
  if (code !== undefined && (typeof code !== 'number' || !isValidStatusCode(code))) {
    throw new TypeError('First argument must be a valid error code number');
  }
  const reason = code === undefined || data === undefined ? '' : String(data);
  // RFC 6455 section 5.5: a control frame's payload, 2 bytes of which are the code, is <= 125.
  if (reason !== '' && Buffer.byteLength(reason) > 123) {
    throw new RangeError('The message must not be greater than 123 bytes');
  }
  return reason;
}

/** Close codes an application may send (`ws`'s rule; RFC 6455 section 7.4). */
function isValidStatusCode(code: number): boolean {
  return (
    (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) ||
    (code >= 3000 && code <= 4999)
  );
}
