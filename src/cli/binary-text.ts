/**
 * Binary messages written as text: hex (`/binary`, `--binary-input hex`, `--binary-output hex`)
 * and base64 (`--binary-input base64`, `--binary-output base64`).
 */
import { Buffer } from 'node:buffer';

/** How binary data is written as text. */
export type BinaryEncoding = 'hex' | 'base64';

/** The encodings, for option checks and help texts. */
export const BINARY_ENCODINGS: readonly BinaryEncoding[] = ['base64', 'hex'];

/** The bytes of hex digits, optionally with spaces, colons or 0x prefixes; undefined if invalid. */
export function parseHex(input: string): Buffer | undefined {
  const digits = input.replace(/0x/gi, '').replace(/[\s:,]/g, '');
  if (digits.length === 0 || digits.length % 2 !== 0 || !/^[0-9a-f]+$/i.test(digits))
    return undefined;
  return Buffer.from(digits, 'hex');
}

/**
 * The bytes of base64 text (standard or URL-safe alphabet, padding optional, white space
 * ignored); undefined when it is not base64. `Buffer.from` alone would skip bad characters.
 */
export function parseBase64(input: string): Buffer | undefined {
  const text = input.replace(/\s/g, '');
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(text)) return undefined;
  const unpadded = text.replace(/=+$/, '');
  // A single character left over encodes less than one byte.
  if (unpadded.length % 4 === 1) return undefined;
  if (text.includes('=') && text.length % 4 !== 0) return undefined;
  return Buffer.from(unpadded.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

/** `input` decoded as `encoding`, or undefined when it is not valid in that encoding. */
export function decodeBinary(input: string, encoding: BinaryEncoding): Buffer | undefined {
  if (encoding === 'hex') return input.trim() === '' ? Buffer.alloc(0) : parseHex(input);
  return parseBase64(input);
}

/** `data` as text in `encoding`. */
export function encodeBinary(data: Uint8Array, encoding: BinaryEncoding): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString(encoding);
}
