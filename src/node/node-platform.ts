import { Buffer, isAscii, isUtf8 } from 'node:buffer';
import { createHash, randomFillSync } from 'node:crypto';
import type { MaskKernel } from '../protocol/mask.js';
import { wasmMask } from '../protocol/mask-wasm.js';
import type { Platform } from '../protocol/platform.js';

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** `bufferutil`'s native `mask(source, mask, output, offset, length)`. */
type NativeMask = (
  source: Buffer,
  mask: Buffer,
  output: Buffer,
  offset: number,
  length: number,
) => void;

/** Text at least this long is checked for ASCII before decoding (see `decode`). */
const ASCII_CHECK_MIN = 1024;

/** Below this many bytes a call into the addon costs more than it saves. */
const NATIVE_MIN = 128;

let nativeMask: NativeMask | null = null;

/**
 * Loads the optional `bufferutil` addon where the application has installed it (it is never a
 * dependency of wskit). Its native mask is used only if the native build loaded: bufferutil falls
 * back to JavaScript without one, and the WebAssembly kernel is faster than that fallback. Until
 * the import settles (and without the addon) masking goes through the WebAssembly kernel.
 */
function loadBufferutil(): Promise<boolean> {
  // A variable specifier: bundlers and the type checker leave the optional module alone.
  const specifier = 'bufferutil';
  return import(specifier).then(
    (module: { default?: { mask?: unknown }; mask?: unknown }) => {
      const mask = module.default?.mask ?? module.mask;
      if (
        typeof mask !== 'function' ||
        !/\[native code\]/.test(Function.prototype.toString.call(mask))
      )
        return false;
      nativeMask = mask as NativeMask;
      return true;
    },
    () => false,
  );
}

/** Settles once the optional `bufferutil` addon is loaded (true) or known to be unavailable. */
export const bufferutilReady: Promise<boolean> = loadBufferutil();

/** Masking with bufferutil when it is installed, else the WebAssembly SIMD kernel. */
const nodeMask: MaskKernel = (
  source,
  sourceOffset,
  target,
  targetOffset,
  length,
  mask,
  maskOffset,
) => {
  const native = nativeMask;
  if (native === null || length < NATIVE_MIN) {
    wasmMask(source, sourceOffset, target, targetOffset, length, mask, maskOffset);
    return;
  }
  // bufferutil reads its source and mask from their first byte, and asserts that every
  // argument is a Buffer.
  const from =
    sourceOffset === 0 && source.length === length
      ? source
      : source.subarray(sourceOffset, sourceOffset + length);
  const key =
    maskOffset === 0 && mask.length === 4 ? mask : mask.subarray(maskOffset, maskOffset + 4);
  native(asBuffer(from), asBuffer(key), asBuffer(target), targetOffset, length);
};

/** Whether masking uses the native `bufferutil` addon (it loads asynchronously, if installed). */
export function usesBufferutil(): boolean {
  return nativeMask !== null;
}

/**
 * The engine's platform on Node: pooled `Buffer`s, SIMD UTF-8 checks, native SHA-1, masking with
 * `bufferutil` when the application has it installed and WebAssembly SIMD otherwise.
 */
export const nodePlatform: Platform = {
  isUtf8: (bytes) => isUtf8(bytes),
  alloc: (size) => Buffer.allocUnsafe(size),
  concat: (chunks, total) => Buffer.concat(chunks, total),
  byteLength: (text) => Buffer.byteLength(text),
  // Text measured as ASCII is copied as latin1 (its bytes are the same): measured here about 3x
  // faster than the UTF-8 encoder at 4 KiB and more.
  encodeInto: (text, target, offset, byteLength) =>
    byteLength === text.length
      ? asBuffer(target).write(text, offset, 'latin1')
      : asBuffer(target).write(text, offset),
  decode: (bytes) => {
    const buffer = asBuffer(bytes);
    // ASCII is decoded as latin1 (the same characters): a copy, measured here 1.6x faster than the
    // UTF-8 decoder at 16 KiB and 3x at 1 MiB (where Node makes it an external string, outside
    // V8's heap), the ASCII check included. Below the threshold the check costs what it saves.
    return buffer.length >= ASCII_CHECK_MIN && isAscii(buffer)
      ? buffer.toString('latin1')
      : buffer.toString();
  },
  randomFill: (target) => {
    randomFillSync(target);
  },
  sha1Base64: (text) => createHash('sha1').update(text, 'latin1').digest('base64'),
  mask: nodeMask,
};
