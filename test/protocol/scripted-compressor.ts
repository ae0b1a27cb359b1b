/**
 * A MessageCompressor whose operations complete when a test says so: what lets the engine's
 * ordering around compression (RFC 7692 with asynchronous zlib) be checked without zlib. Its
 * "compression" reverses the bytes, so a test sees which payloads went through it.
 */
import { ProtocolError } from '../../src/errors.js';
import type { MessageCompressor } from '../../src/protocol/extensions/message-compressor.js';

export interface PendingCompression {
  data: Uint8Array;
  /** Completes it: with the reversed bytes, or with `error`. */
  finish(error?: Error): void;
}

export interface PendingDecompression {
  data: Uint8Array;
  maxBytes: number;
  /**
   * Completes it: each of `pieces` (default: the reversed data) goes through the engine's check
   * first, as inflated output would; the result is the pieces joined. With `error`, fails, and
   * when the check refuses a piece, fails with 1007 as the contract says.
   */
  finish(options?: { pieces?: Uint8Array[]; error?: ProtocolError }): void;
}

export class ScriptedCompressor implements MessageCompressor {
  readonly compressions: PendingCompression[] = [];
  readonly decompressions: PendingDecompression[] = [];
  closed = false;

  constructor(readonly threshold = 0) {}

  compress(
    data: Uint8Array,
    callback: (error: Error | null, result: Uint8Array | null) => void,
  ): void {
    this.compressions.push({
      data: Uint8Array.from(data),
      finish: (error) => (error ? callback(error, null) : callback(null, reversed(data))),
    });
  }

  decompress(
    data: Uint8Array,
    maxBytes: number,
    callback: (error: ProtocolError | null, result: Uint8Array | null) => void,
    check?: (chunk: Uint8Array) => boolean,
  ): void {
    const copy = Uint8Array.from(data);
    this.decompressions.push({
      data: copy,
      maxBytes,
      finish: ({ pieces = [reversed(copy)], error } = {}) => {
        if (error) return callback(error, null);
        for (const piece of pieces) {
          // The contract: a refused piece stops decompression, which fails with 1007.
          if (check && !check(piece)) {
            return callback(
              new ProtocolError(1007, 'refused by check', 'ERR_WS_INVALID_UTF8'),
              null,
            );
          }
        }
        callback(null, Buffer.concat(pieces));
      },
    });
  }

  close(): void {
    this.closed = true;
  }
}

/** The bytes in reverse order: this compressor's "compression", its own inverse. */
export function reversed(data: Uint8Array | string): Uint8Array {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  return Uint8Array.from(bytes).reverse();
}
