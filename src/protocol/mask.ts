import type { Platform } from './platform.js';

/**
 * XORs `length` bytes of `source` from `sourceOffset` with the 4-byte `mask` at `maskOffset`
 * (RFC 6455 section 5.3; the mask's first byte applies to the first byte) into `target` at
 * `targetOffset`. Source and target may be the same bytes (unmasking in place) but must not
 * otherwise overlap. A platform may supply a faster one ({@link Platform.mask}).
 */
export type MaskKernel = (
  source: Uint8Array,
  sourceOffset: number,
  target: Uint8Array,
  targetOffset: number,
  length: number,
  mask: Uint8Array,
  maskOffset: number,
) => void;

const scratch = new Uint8Array(4);
const scratchWord = new Int32Array(scratch.buffer);

/**
 * XORs `length` bytes of `source` from `sourceOffset` with the 4-byte `mask` (RFC 6455 section
 * 5.3) into `target` at `targetOffset`. Source and target may be the same bytes (unmasking in
 * place). Aligned runs go 32 bits at a time.
 */
export function applyMask(
  source: Uint8Array,
  sourceOffset: number,
  target: Uint8Array,
  targetOffset: number,
  length: number,
  mask: Uint8Array,
  maskOffset: number,
): void {
  const m0 = mask[maskOffset]!;
  const m1 = mask[maskOffset + 1]!;
  const m2 = mask[maskOffset + 2]!;
  const m3 = mask[maskOffset + 3]!;
  let i = 0;
  const srcStart = source.byteOffset + sourceOffset;
  const dstStart = target.byteOffset + targetOffset;
  if (length >= 256 && (srcStart & 3) === 0 && (dstStart & 3) === 0) {
    scratch[0] = m0;
    scratch[1] = m1;
    scratch[2] = m2;
    scratch[3] = m3;
    const key = scratchWord[0]!;
    const words = length >>> 2;
    const src = new Int32Array(source.buffer, srcStart, words);
    const dst = new Int32Array(target.buffer, dstStart, words);
    for (let w = 0; w < words; w++) dst[w] = src[w]! ^ key;
    i = words << 2;
  } else {
    const end = length - 3;
    for (; i < end; i += 4) {
      target[targetOffset + i] = source[sourceOffset + i]! ^ m0;
      target[targetOffset + i + 1] = source[sourceOffset + i + 1]! ^ m1;
      target[targetOffset + i + 2] = source[sourceOffset + i + 2]! ^ m2;
      target[targetOffset + i + 3] = source[sourceOffset + i + 3]! ^ m3;
    }
  }
  for (; i < length; i++) {
    target[targetOffset + i] = source[sourceOffset + i]! ^ mask[maskOffset + (i & 3)]!;
  }
}

const POOL_SIZE = 8192;
const pools = new WeakMap<Platform, MaskKeyPool>();
let lastPool: MaskKeyPool | null = null;

/**
 * Masking keys drawn from a shared pool of strong random bytes, refilled in 8 KiB batches: one
 * call into the random source per 2048 frames instead of one per frame (RFC 6455 section 5.3
 * requires keys an attacker cannot predict, which a CSPRNG pool satisfies).
 */
export class MaskKeyPool {
  private readonly bytes: Uint8Array;
  private offset = POOL_SIZE;

  private constructor(private readonly platform: Platform) {
    this.bytes = new Uint8Array(POOL_SIZE);
  }

  /**
   * The pool of `platform`, made on first use and shared after. Asked for each client frame (a
   * connection keeps no reference to it), so the last one found is kept at hand.
   */
  static for(platform: Platform): MaskKeyPool {
    if (lastPool !== null && lastPool.platform === platform) return lastPool;
    let pool = pools.get(platform);
    if (!pool) {
      pool = new MaskKeyPool(platform);
      pools.set(platform, pool);
    }
    lastPool = pool;
    return pool;
  }

  /** Copies the next 4-byte key into `target` at `offset`. */
  next(target: Uint8Array, offset: number): void {
    if (this.offset === POOL_SIZE) {
      this.platform.randomFill(this.bytes);
      this.offset = 0;
    }
    const o = this.offset;
    target[offset] = this.bytes[o]!;
    target[offset + 1] = this.bytes[o + 1]!;
    target[offset + 2] = this.bytes[o + 2]!;
    target[offset + 3] = this.bytes[o + 3]!;
    this.offset = o + 4;
  }
}
