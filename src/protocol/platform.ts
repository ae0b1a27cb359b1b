import type { MaskKernel } from './mask.js';
import { wasmMask } from './mask-wasm.js';
import { sha1Base64Portable } from './sha1.js';
import { isUtf8Portable, type Utf8Check } from './utf8.js';

/**
 * What the engine needs from its runtime. The engine itself never touches a socket, a timer or a
 * runtime-specific module; the Node transport passes a faster platform built on `Buffer`.
 */
export interface Platform {
  /** Whole-buffer UTF-8 check. */
  isUtf8: Utf8Check;
  /** Bytes whose contents the caller overwrites entirely. */
  alloc(size: number): Uint8Array;
  /** Joins `chunks`, whose lengths add up to `total`, into one buffer. */
  concat(chunks: readonly Uint8Array[], total: number): Uint8Array;
  /** UTF-8 length of `text`. */
  byteLength(text: string): number;
  /**
   * Writes `text` as UTF-8 into `target` at `offset` (which has room); returns the bytes written.
   * `byteLength` is `text`'s UTF-8 length when the caller has measured it: equal to `text.length`,
   * it says every character is ASCII, which a platform may copy without encoding.
   */
  encodeInto(text: string, target: Uint8Array, offset: number, byteLength?: number): number;
  /** Decodes UTF-8 bytes already known to be valid. */
  decode(bytes: Uint8Array): string;
  /** Fills `target` with cryptographically strong random bytes (masking keys, handshake keys). */
  randomFill(target: Uint8Array): void;
  /** SHA-1 of an ASCII string, in base64 (`Sec-WebSocket-Accept`). */
  sha1Base64(text: string): string;
  /**
   * Masking and unmasking (RFC 6455 section 5.3); without it the engine uses the portable
   * 32-bit JavaScript loop, `applyMask`.
   */
  mask?: MaskKernel;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A platform built only on web-standard globals (WebAssembly SIMD masking where the runtime has it);
 * works in browsers, Deno, Bun and Node.
 */
export const portablePlatform: Platform = {
  isUtf8: isUtf8Portable,
  alloc: (size) => new Uint8Array(size),
  concat(chunks, total) {
    const out = new Uint8Array(total);
    let offset = 0;
    for (const chunk of chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  },
  byteLength: (text) => encoder.encode(text).length,
  encodeInto: (text, target, offset) => encoder.encodeInto(text, target.subarray(offset)).written,
  decode: (bytes) => decoder.decode(bytes),
  randomFill(target) {
    // getRandomValues takes at most 65536 bytes per call.
    for (let i = 0; i < target.length; i += 65536) {
      crypto.getRandomValues(target.subarray(i, Math.min(i + 65536, target.length)));
    }
  },
  sha1Base64: sha1Base64Portable,
  mask: wasmMask,
};
