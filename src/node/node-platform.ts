import { Buffer, isUtf8 } from 'node:buffer';
import { createHash, randomFillSync } from 'node:crypto';
import type { Platform } from '../protocol/platform.js';

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** The engine's platform on Node: pooled `Buffer`s, SIMD UTF-8 checks, native SHA-1. */
export const nodePlatform: Platform = {
  isUtf8: (bytes) => isUtf8(bytes),
  alloc: (size) => Buffer.allocUnsafe(size),
  concat: (chunks, total) => Buffer.concat(chunks, total),
  byteLength: (text) => Buffer.byteLength(text),
  encodeInto: (text, target, offset) => asBuffer(target).write(text, offset),
  decode: (bytes) => asBuffer(bytes).toString(),
  randomFill: (target) => {
    randomFillSync(target);
  },
  sha1Base64: (text) => createHash('sha1').update(text, 'latin1').digest('base64'),
};
