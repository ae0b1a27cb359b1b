import { Buffer } from 'node:buffer';
import {
  constants,
  createDeflateRaw,
  createInflateRaw,
  type DeflateRaw,
  type InflateRaw,
} from 'node:zlib';
import { ProtocolError } from '../../errors.js';
import type { MessageCompressor } from '../../protocol/extensions/message-compressor.js';
import {
  checkDeflateNegotiationOptions,
  type DeflateAgreement,
  type DeflateNegotiationOptions,
} from '../../protocol/extensions/permessage-deflate.js';
import type { Role } from '../../protocol/websocket-protocol.js';
import { zlibLimiter } from './zlib-limiter.js';

/** permessage-deflate settings of a client or a server (`perMessageDeflate` option). */
export interface PerMessageDeflateOptions extends DeflateNegotiationOptions {
  /** Messages shorter than this many bytes are sent uncompressed (default 1024). */
  threshold?: number;
  /** zlib compression level, 0-9 (default: zlib's default, 6). */
  level?: number;
  /** zlib memory level, 1-9 (default 8). */
  memLevel?: number;
  /**
   * Most zlib jobs running at once in this process, all connections together (default 10).
   * Process-wide: only the first value counts, and not at all once `zlibLimiter.limit` was set,
   * which is the way to set it. Kept for `ws` compatibility.
   */
  concurrencyLimit?: number;
}

function checkRange(name: string, value: number | undefined, min: number, max: number): void {
  if (value !== undefined && (!Number.isInteger(value) || value < min || value > max)) {
    throw new RangeError(
      `perMessageDeflate.${name} must be an integer from ${min} to ${max}, got ${value}`,
    );
  }
}

/** Throws a RangeError naming the first invalid `perMessageDeflate` setting. */
export function checkDeflateOptions(options: PerMessageDeflateOptions): void {
  checkDeflateNegotiationOptions(options);
  checkRange('level', options.level, -1, 9);
  checkRange('memLevel', options.memLevel, 1, 9);
  checkRange('threshold', options.threshold, 0, Number.MAX_SAFE_INTEGER);
  checkRange('concurrencyLimit', options.concurrencyLimit, 1, 1_000_000);
}

/** RFC 7692 section 7.2.1: the tail a sync flush leaves, stripped on send and restored on receive. */
const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);
const EMPTY_BLOCK = Buffer.from([0x00]);

/**
 * permessage-deflate (RFC 7692) on Node's zlib: one raw deflate and one raw inflate context per
 * connection, created on first use, reset after each message when context takeover is off, and
 * every job run through the process-wide {@link zlibLimiter}. Inflation counts its output as it
 * is produced and stops at the first chunk past `maxBytes`, so a decompression bomb costs at most
 * `maxBytes` plus one zlib chunk.
 */
export class NodeDeflateCompressor implements MessageCompressor {
  readonly threshold: number;
  readonly #level: number;
  readonly #memLevel: number;
  readonly #windowBits: number;
  readonly #resetDeflate: boolean;
  readonly #resetInflate: boolean;
  #deflate: DeflateRaw | null = null;
  #inflate: InflateRaw | null = null;
  #closed = false;

  constructor(agreement: DeflateAgreement, role: Role, options: PerMessageDeflateOptions = {}) {
    checkDeflateOptions(options);
    this.threshold = options.threshold ?? 1024;
    this.#level = options.level ?? constants.Z_DEFAULT_COMPRESSION;
    this.#memLevel = options.memLevel ?? 8;
    if (options.concurrencyLimit !== undefined) zlibLimiter.adoptOption(options.concurrencyLimit);
    const server = role === 'server';
    this.#windowBits = server ? agreement.serverMaxWindowBits : agreement.clientMaxWindowBits;
    checkRange('window bits of the agreement', this.#windowBits, 9, 15);
    this.#resetDeflate = server
      ? agreement.serverNoContextTakeover
      : agreement.clientNoContextTakeover;
    this.#resetInflate = server
      ? agreement.clientNoContextTakeover
      : agreement.serverNoContextTakeover;
  }

  compress(
    data: Uint8Array,
    callback: (error: Error | null, result: Uint8Array | null) => void,
  ): void {
    zlibLimiter.run((done) => {
      if (this.#closed) {
        done();
        return;
      }
      if (!this.#deflate) {
        try {
          this.#deflate = createDeflateRaw({
            level: this.#level,
            memLevel: this.#memLevel,
            windowBits: this.#windowBits,
          });
        } catch (error) {
          done();
          callback(error as Error, null);
          return;
        }
      }
      const deflate = this.#deflate;
      const chunks: Buffer[] = [];
      let total = 0;
      const onData = (chunk: Buffer) => {
        chunks.push(chunk);
        total += chunk.length;
      };
      const onError = (error: Error) => {
        deflate.removeListener('data', onData);
        this.#deflate = null;
        deflate.close();
        done();
        callback(error, null);
      };
      deflate.on('data', onData);
      deflate.once('error', onError);
      deflate.write(data);
      deflate.flush(constants.Z_SYNC_FLUSH, () => {
        deflate.removeListener('data', onData);
        deflate.removeListener('error', onError);
        if (this.#closed) {
          done();
          return;
        }
        let out = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
        if (
          out.length >= 4 &&
          out[out.length - 4] === 0 &&
          out[out.length - 3] === 0 &&
          out[out.length - 2] === 0xff &&
          out[out.length - 1] === 0xff
        ) {
          out = out.subarray(0, out.length - 4);
        }
        if (out.length === 0) out = EMPTY_BLOCK;
        if (this.#resetDeflate) deflate.reset();
        done();
        callback(null, out);
      });
    });
  }

  decompress(
    data: Uint8Array,
    maxBytes: number,
    callback: (error: ProtocolError | null, result: Uint8Array | null) => void,
    check?: (chunk: Uint8Array) => boolean,
  ): void {
    zlibLimiter.run((done) => {
      if (this.#closed) {
        done();
        return;
      }
      if (!this.#inflate) this.#inflate = createInflateRaw({ windowBits: 15 });
      const inflate = this.#inflate;
      const chunks: Buffer[] = [];
      let total = 0;
      let finished = false;
      const finish = (error: ProtocolError | null, result: Buffer | null) => {
        if (finished) return;
        finished = true;
        inflate.removeListener('data', onData);
        inflate.removeListener('error', onError);
        if (error) {
          // The connection fails now; drop the context and whatever it was still producing.
          this.#inflate = null;
          inflate.on('error', () => {});
          inflate.close();
        } else if (this.#resetInflate) {
          inflate.reset();
        }
        done();
        callback(error, result);
      };
      const onData = (chunk: Buffer) => {
        total += chunk.length;
        if (maxBytes > 0 && total > maxBytes) {
          finish(
            new ProtocolError(1009, `decompressed message exceeds maxPayload of ${maxBytes} bytes`),
            null,
          );
          return;
        }
        if (check && !check(chunk)) {
          finish(new ProtocolError(1007, 'text message is not valid UTF-8'), null);
          return;
        }
        chunks.push(chunk);
      };
      const onError = (error: Error) => {
        finish(
          new ProtocolError(
            1007,
            `invalid compressed data: ${error.message}`,
            'ERR_WS_INVALID_COMPRESSED_DATA',
          ),
          null,
        );
      };
      inflate.on('data', onData);
      inflate.on('error', onError);
      inflate.write(data);
      inflate.write(TAIL);
      inflate.flush(() => {
        if (finished) return;
        finish(null, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total));
      });
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const stream of [this.#deflate, this.#inflate]) {
      if (stream) {
        stream.on('error', () => {});
        stream.close();
      }
    }
    this.#deflate = null;
    this.#inflate = null;
  }
}
