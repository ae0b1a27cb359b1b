import { Buffer } from 'node:buffer';
import { CloseCode, isValidWireCloseCode } from '../protocol/close-codes.js';
import { checkCloseReason } from '../protocol/close-lifecycle.js';

/** WebIDL `[Clamp] unsigned short`. */
function clampUnsignedShort(value: unknown): number {
  const n = Number(value);
  if (Number.isNaN(n)) return 0;
  const clamped = Math.min(Math.max(n, 0), 65535);
  const floor = Math.floor(clamped);
  const diff = clamped - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** WebIDL USVString: lone surrogates become U+FFFD. */
function toUSVString(text: string): string {
  return Buffer.from(text).toString();
}

/**
 * The code and reason `close(code?, reason?)` sends, checked as the WHATWG standard says: a
 * `code` other than 1000 or 3000-4999 is an `InvalidAccessError` (with `anyValidCode`, as on
 * server-side sockets, any code valid on the wire is allowed), a reason over 123 UTF-8 bytes a
 * `SyntaxError`. A reason without a code is sent with 1000.
 */
export function closeArguments(
  code: number | undefined,
  reason: string | undefined,
  anyValidCode: boolean,
): [code: number | undefined, reason: string] {
  let wireCode: number | undefined;
  if (code !== undefined) {
    wireCode = clampUnsignedShort(code);
    // Server-side sockets may also send the codes servers need (1001, 1008, 1011, ...).
    const allowed = anyValidCode
      ? isValidWireCloseCode(wireCode)
      : wireCode === 1000 || (wireCode >= 3000 && wireCode <= 4999);
    if (!allowed) {
      throw new DOMException(
        `close code ${wireCode} is not allowed: use 1000 or 3000-4999`,
        'InvalidAccessError',
      );
    }
  }
  const text = reason === undefined ? '' : toUSVString(String(reason));
  try {
    checkCloseReason(text, Buffer.byteLength);
  } catch (error) {
    throw new DOMException((error as RangeError).message, 'SyntaxError');
  }
  if (wireCode === undefined && text !== '') wireCode = CloseCode.Normal;
  return [wireCode, text];
}
