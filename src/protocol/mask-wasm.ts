import { applyMask, type MaskKernel } from './mask.js';
import { MASK_WASM } from './mask-wasm-bytes.js';

/** The work block: the kernel's whole memory, one WebAssembly page. */
const BLOCK = 65536;
/** Below this many bytes the copies in and out cost more than the JavaScript loop. */
const WASM_MIN = 128;

interface Kernel {
  readonly memory: Uint8Array;
  readonly mask: (pointer: number, length: number, key: number) => void;
}

let kernel: Kernel | null | undefined;

/** Instantiates the kernel on first use; null where WebAssembly or its SIMD is unavailable. */
function load(): Kernel | null {
  try {
    if (typeof WebAssembly !== 'object' || !WebAssembly.validate(MASK_WASM)) return null;
    // Synchronous compilation is allowed for a module this small, browsers' main thread included.
    const instance = new WebAssembly.Instance(new WebAssembly.Module(MASK_WASM));
    const { memory, mask } = instance.exports as {
      memory: WebAssembly.Memory;
      mask: Kernel['mask'];
    };
    return { memory: new Uint8Array(memory.buffer), mask };
  } catch {
    return null;
  }
}

/**
 * {@link applyMask} with a WebAssembly SIMD kernel: data goes through the kernel's memory in
 * 64 KiB blocks (copy in, XOR 64 bytes a turn, copy out), several times faster than the 32-bit
 * JavaScript loop from a few hundred bytes on. Falls back to {@link applyMask} for short runs and
 * where WebAssembly SIMD is unavailable. Works in browsers and every runtime with WebAssembly.
 */
export const wasmMask: MaskKernel = (
  source,
  sourceOffset,
  target,
  targetOffset,
  length,
  mask,
  maskOffset,
) => {
  if (length < WASM_MIN) {
    applyMask(source, sourceOffset, target, targetOffset, length, mask, maskOffset);
    return;
  }
  if (kernel === undefined) kernel = load();
  if (kernel === null) {
    applyMask(source, sourceOffset, target, targetOffset, length, mask, maskOffset);
    return;
  }
  const memory = kernel.memory;
  // WebAssembly memory is little-endian: the key's low byte masks the first byte.
  const key =
    mask[maskOffset]! |
    (mask[maskOffset + 1]! << 8) |
    (mask[maskOffset + 2]! << 16) |
    (mask[maskOffset + 3]! << 24);
  // Blocks are multiples of 4 bytes long, so every block starts at the key's first byte.
  for (let done = 0; done < length; done += BLOCK) {
    const n = length - done < BLOCK ? length - done : BLOCK;
    const from = sourceOffset + done;
    memory.set(from === 0 && n === source.length ? source : source.subarray(from, from + n), 0);
    kernel.mask(0, n, key);
    target.set(n === BLOCK ? memory : memory.subarray(0, n), targetOffset + done);
  }
};
