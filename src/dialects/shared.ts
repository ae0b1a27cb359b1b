/**
 * What the three dialects share: byte conversions, the test for binary data, the JSON text of a
 * value to send, and how an exception thrown by user code (a handler, a callback, a signal
 * connection) is reported without ending the process or the connection.
 */

const encoder = new TextEncoder();

/** Binary data as the dialects accept it to send. */
export type BinaryData = ArrayBuffer | ArrayBufferView | Blob;

/**
 * The bytes of `data` without copying: an `ArrayBuffer`, any view (typed array, `DataView`,
 * Node `Buffer`) or a string (as UTF-8). Throws a `TypeError` for anything else.
 */
export function toBytes(data: unknown): Uint8Array {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data))
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (typeof data === 'string') return encoder.encode(data);
  throw new TypeError('expected an ArrayBuffer, a typed array or a string');
}

/** An `ArrayBuffer` holding exactly `bytes`: their own buffer when they span it, else a copy. */
export function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.byteOffset === 0 &&
    bytes.byteLength === bytes.buffer.byteLength &&
    bytes.buffer instanceof ArrayBuffer
    ? bytes.buffer
    : (bytes.slice().buffer as ArrayBuffer);
}

/** The UTF-8 length of `text` in bytes. */
export function utf8Length(text: string): number {
  return encoder.encode(text).byteLength;
}

/**
 * `text` cut to at most `maxBytes` UTF-8 bytes at a character boundary (never inside a
 * character's bytes), as Qt cuts a close reason instead of refusing it.
 */
export function truncateUtf8(text: string, maxBytes: number): string {
  const bytes = encoder.encode(text);
  if (bytes.length <= maxBytes) return text;
  let end = maxBytes;
  // A byte 10xxxxxx continues a character: back off to the start of that character.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return new TextDecoder().decode(bytes.subarray(0, end));
}

/**
 * Makes the named static properties of `target` read-only, as enum values and constants are in
 * the products (assigning one then throws in strict code).
 */
export function freezeStatics(target: object, names: readonly string[]): void {
  for (const name of names)
    Object.defineProperty(target, name, { writable: false, configurable: false });
}

/**
 * Whether `value` is sent as a binary message: an `ArrayBuffer`, any view, or a `Blob` (where
 * the runtime has one).
 */
export function isBinary(value: unknown): value is BinaryData {
  return (
    value instanceof ArrayBuffer ||
    ArrayBuffer.isView(value) ||
    (typeof Blob === 'function' && value instanceof Blob)
  );
}

/**
 * The JSON text a dialect sends for `value`, or `undefined` when JSON has no text for it
 * (`undefined`, a function, a symbol): each dialect decides what that means. A cycle or a
 * BigInt throws `JSON.stringify`'s `TypeError`.
 */
export function jsonText(value: unknown): string | undefined {
  return JSON.stringify(value) as string | undefined;
}

/** The `code` of the warning under which Node reports an exception thrown by user code. */
export const CALLBACK_WARNING_CODE = 'WSKIT_CALLBACK_THREW';

interface WarningProcess {
  emitWarning(warning: Error): void;
}

/**
 * Reports an exception thrown by user code (`where` names the handler) and returns, so the
 * caller carries on: the connection keeps working and the next events are delivered, as QML
 * logs a handler's error and carries on, and as Overte's script engine logs it.
 *
 * - Node (and runtimes with `process.emitWarning`): a process warning named `CallbackError`
 *   with code `WSKIT_CALLBACK_THREW`, the thrown value as its `cause` and the stack in its
 *   message; Node prints it on stderr, `process.on('warning')` sees it. Never
 *   `uncaughtException`: one mistake in a handler must not end a server.
 * - Browsers: `reportError(error)`, as the DOM reports a listener's exception (the console
 *   shows it; `window.onerror` / the `error` event see it).
 */
export function reportUserError(error: unknown, where: string): void {
  const proc = (globalThis as { process?: Partial<WarningProcess> }).process;
  if (proc !== undefined && typeof proc.emitWarning === 'function') {
    const detail = error instanceof Error ? (error.stack ?? String(error)) : String(error);
    const warning = new Error(`${where} threw (the connection carries on): ${detail}`, {
      cause: error,
    });
    warning.name = 'CallbackError';
    (warning as Error & { code: string }).code = CALLBACK_WARNING_CODE;
    proc.emitWarning(warning);
    return;
  }
  const report = (globalThis as { reportError?: (error: unknown) => void }).reportError;
  if (typeof report === 'function') report(error);
  else console.error(`${where} threw (the connection carries on):`, error);
}

/**
 * Calls `fn` with `thisArg` and `args`; an exception is reported through
 * {@link reportUserError} instead of propagating.
 */
export function callUserCode<A extends unknown[]>(
  where: string,
  fn: (...args: A) => unknown,
  thisArg: unknown,
  ...args: A
): void {
  try {
    fn.apply(thisArg, args);
  } catch (error) {
    reportUserError(error, where);
  }
}
