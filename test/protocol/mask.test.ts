/** The masking kernels (RFC 6455 section 5.3) against a byte-at-a-time reference. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { bufferutilReady, nodePlatform, usesBufferutil } from '../../src/node/node-platform.js';
import { applyMask, type MaskKernel, portablePlatform } from '../../src/protocol/index.js';
import { wasmMask } from '../../src/protocol/mask-wasm.js';
import { CLI_WAIT_MS } from '../support/timeouts.js';

/** The definition: byte i XOR mask byte i mod 4. */
function reference(source: Uint8Array, mask: Uint8Array, maskOffset: number): Uint8Array {
  const out = new Uint8Array(source.length);
  for (let i = 0; i < source.length; i++) out[i] = source[i]! ^ mask[maskOffset + (i & 3)]!;
  return out;
}

/** A seeded generator, so that a failure can be replayed. */
function random(seed: number): (n: number) => number {
  let s = seed >>> 0 || 1;
  return (n) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };
}

/** Runs `kernel` on `length` random bytes at random offsets into buffers of random alignment. */
function check(kernel: MaskKernel, length: number, next: (n: number) => number, inPlace: boolean) {
  const data = new Uint8Array(randomBytes(length));
  const maskPad = next(8);
  const maskBytes = new Uint8Array(randomBytes(maskPad + 4));
  const expected = reference(data, maskBytes, maskPad);
  // A view at an odd byte offset of a larger buffer, so alignment varies.
  const srcPad = next(16);
  const backing = new Uint8Array(srcPad + length + 16);
  const source = backing.subarray(next(3), srcPad + length + 8);
  const sourceOffset = srcPad - (source.byteOffset - backing.byteOffset);
  const from = Math.max(0, sourceOffset);
  source.set(data, from);
  if (inPlace) {
    const before = source.slice();
    kernel(source, from, source, from, length, maskBytes, maskPad);
    assert.deepEqual(source.subarray(from, from + length), expected, `in place, length ${length}`);
    assert.deepEqual(source.subarray(0, from), before.subarray(0, from), 'bytes before untouched');
    assert.deepEqual(
      source.subarray(from + length),
      before.subarray(from + length),
      'bytes after untouched',
    );
    return;
  }
  const targetPad = next(16);
  const target = new Uint8Array(targetPad + length + 7).fill(0xa5);
  kernel(source, from, target, targetPad, length, maskBytes, maskPad);
  assert.deepEqual(target.subarray(targetPad, targetPad + length), expected, `length ${length}`);
  assert.ok(
    target.subarray(0, targetPad).every((b) => b === 0xa5),
    'bytes before untouched',
  );
  assert.ok(
    target.subarray(targetPad + length).every((b) => b === 0xa5),
    'bytes after untouched',
  );
}

/** The Node platform loads bufferutil (a dev dependency here) asynchronously. */
async function bufferutilLoaded(): Promise<boolean> {
  await bufferutilReady;
  return usesBufferutil();
}

const kernels: Array<[string, MaskKernel]> = [
  ['scalar applyMask', applyMask],
  ['WebAssembly SIMD', wasmMask],
  ['portable platform', portablePlatform.mask!],
  ['Node platform', nodePlatform.mask!],
];

describe('masking kernels', () => {
  it('the portable platform masks with the WebAssembly kernel', () => {
    assert.equal(portablePlatform.mask, wasmMask);
    assert.equal(typeof WebAssembly, 'object', 'this runtime has WebAssembly');
  });

  // Where the runtime has no WebAssembly SIMD, or a Content-Security-Policy forbids compiling
  // WebAssembly, the kernel falls back to the JavaScript loop. The kernel is loaded once per
  // process, so each case runs in a fresh Node with the global changed before the first call.
  for (const [why, setup] of [
    ['without WebAssembly SIMD', 'WebAssembly.validate = () => false;'],
    [
      'where compiling WebAssembly is forbidden',
      "WebAssembly.Module = function () { throw new Error('blocked by CSP'); };",
    ],
  ] as const) {
    it(`wasmMask falls back to the JavaScript loop ${why}`, () => {
      const script = `${setup}
        const { wasmMask } = await import(${JSON.stringify(new URL('../../src/protocol/mask-wasm.ts', import.meta.url).href)});
        const { applyMask } = await import(${JSON.stringify(new URL('../../src/protocol/mask.ts', import.meta.url).href)});
        const data = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) & 0xff);
        const key = Uint8Array.of(1, 2, 3, 4);
        const a = new Uint8Array(1000);
        const b = new Uint8Array(1000);
        wasmMask(data, 0, a, 0, 1000, key, 0);
        applyMask(data, 0, b, 0, 1000, key, 0);
        console.log(a.every((v, i) => v === b[i]) && a.some((v, i) => v !== data[i]) ? 'same' : 'differs');`;
      const child = spawnSync(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', script],
        { encoding: 'utf8', timeout: CLI_WAIT_MS * 3 },
      );
      assert.equal(child.stderr, '');
      assert.equal(child.stdout.trim(), 'same');
    });
  }

  it('the Node platform uses bufferutil when it is installed', async () => {
    assert.equal(await bufferutilLoaded(), true);
  });

  for (const [name, kernel] of kernels) {
    for (const inPlace of [false, true]) {
      it(`${name}${inPlace ? ', in place,' : ''} matches the reference on every length 0..300`, async () => {
        await bufferutilLoaded();
        const next = random(0x5eed + (inPlace ? 1 : 0));
        for (let length = 0; length <= 300; length++) {
          for (let k = 0; k < 4; k++) check(kernel, length, next, inPlace);
        }
      });
    }

    it(`${name} matches the reference across its 64 KiB block boundaries`, () => {
      const next = random(0xb10c);
      for (const length of [65535, 65536, 65537, 65536 * 2 + 3, 300_001]) {
        check(kernel, length, next, false);
        check(kernel, length, next, true);
      }
    });
  }
});
