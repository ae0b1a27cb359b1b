// Assembles the WebAssembly SIMD masking kernel and writes it, as bytes, to
// src/protocol/mask-wasm-bytes.ts. No toolchain: the module is spelled out below instruction by
// instruction (WebAssembly core spec 1.0 binary format, plus the fixed-width SIMD proposal, which
// every engine wskit supports has shipped), and this script only encodes it. Run it after editing
// the kernel: `node scripts/gen-mask-wasm.mjs`; the output is checked in.
//
// The kernel, in text format:
//
//   (module
//     (memory (export "memory") 1)                ;; one 64 KiB page: the work block
//     (func (export "mask") (param $p i32) (param $n i32) (param $k i32)
//       (local $end i32) (local $kv v128)
//       (local.set $kv (i32x4.splat (local.get $k)))
//       ;; 64 bytes per turn while at least 64 are left
//       (local.set $end (i32.add (local.get $p) (i32.and (local.get $n) (i32.const -64))))
//       (block (loop
//         (br_if 1 (i32.ge_u (local.get $p) (local.get $end)))
//         (v128.store offset=0  (local.get $p) (v128.xor (v128.load offset=0  (local.get $p)) (local.get $kv)))
//         (v128.store offset=16 (local.get $p) (v128.xor (v128.load offset=16 (local.get $p)) (local.get $kv)))
//         (v128.store offset=32 (local.get $p) (v128.xor (v128.load offset=32 (local.get $p)) (local.get $kv)))
//         (v128.store offset=48 (local.get $p) (v128.xor (v128.load offset=48 (local.get $p)) (local.get $kv)))
//         (local.set $p (i32.add (local.get $p) (i32.const 64)))
//         (br 0)))
//       ;; then the last 0-63 bytes one at a time, the key rotating a byte each step
//       (local.set $end (i32.add (local.get $p) (i32.and (local.get $n) (i32.const 63))))
//       (block (loop
//         (br_if 1 (i32.ge_u (local.get $p) (local.get $end)))
//         (i32.store8 (local.get $p) (i32.xor (i32.load8_u (local.get $p)) (local.get $k)))
//         (local.set $k (i32.rotr (local.get $k) (i32.const 8)))
//         (local.set $p (i32.add (local.get $p) (i32.const 1)))
//         (br 0))))
//
// XORs $n bytes at $p with the 4-byte key $k (little-endian: its low byte masks the first byte).
// $p and the 64-byte steps keep the key's phase: the byte tail starts at a multiple of 4.
import { writeFileSync } from 'node:fs';

const unsignedLeb = (n) => {
  const out = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
};
const signedLeb = (n) => {
  const out = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    const done = (n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
};
const name = (text) => [...unsignedLeb(text.length), ...Buffer.from(text, 'utf8')];
const section = (id, bytes) => [id, ...unsignedLeb(bytes.length), ...bytes];
const vector = (items) => [...unsignedLeb(items.length), ...items.flat()];

// Value types and instructions used (core spec 5.3 and 5.4; SIMD opcodes follow the 0xfd prefix).
const I32 = 0x7f;
const V128 = 0x7b;
const EMPTY_BLOCK = 0x40;
const op = {
  block: [0x02, EMPTY_BLOCK],
  loop: [0x03, EMPTY_BLOCK],
  end: [0x0b],
  br: (depth) => [0x0c, ...unsignedLeb(depth)],
  brIf: (depth) => [0x0d, ...unsignedLeb(depth)],
  get: (index) => [0x20, ...unsignedLeb(index)],
  set: (index) => [0x21, ...unsignedLeb(index)],
  const: (value) => [0x41, ...signedLeb(value)],
  load8u: [0x2d, 0x00, 0x00], // align 2^0, offset 0
  store8: [0x3a, 0x00, 0x00],
  geU: [0x4f],
  add: [0x6a],
  and: [0x71],
  xor: [0x73],
  rotr: [0x78],
  v128Load: (offset) => [0xfd, ...unsignedLeb(0x00), 0x04, ...unsignedLeb(offset)], // align 16
  v128Store: (offset) => [0xfd, ...unsignedLeb(0x0b), 0x04, ...unsignedLeb(offset)],
  splat: [0xfd, ...unsignedLeb(0x11)], // i32x4.splat
  v128Xor: [0xfd, ...unsignedLeb(0x51)],
};

const P = 0; // params
const N = 1;
const K = 2;
const END = 3; // locals
const KV = 4;

const xorBlock = (offset) => [
  ...op.get(P),
  ...op.get(P),
  ...op.v128Load(offset),
  ...op.get(KV),
  ...op.v128Xor,
  ...op.v128Store(offset),
];
const body = [
  ...vector([
    [1, I32],
    [1, V128],
  ]),
  ...op.get(K),
  ...op.splat,
  ...op.set(KV),
  ...op.get(P),
  ...op.get(N),
  ...op.const(-64),
  ...op.and,
  ...op.add,
  ...op.set(END),
  ...op.block,
  ...op.loop,
  ...op.get(P),
  ...op.get(END),
  ...op.geU,
  ...op.brIf(1),
  ...xorBlock(0),
  ...xorBlock(16),
  ...xorBlock(32),
  ...xorBlock(48),
  ...op.get(P),
  ...op.const(64),
  ...op.add,
  ...op.set(P),
  ...op.br(0),
  ...op.end,
  ...op.end,
  ...op.get(P),
  ...op.get(N),
  ...op.const(63),
  ...op.and,
  ...op.add,
  ...op.set(END),
  ...op.block,
  ...op.loop,
  ...op.get(P),
  ...op.get(END),
  ...op.geU,
  ...op.brIf(1),
  ...op.get(P),
  ...op.get(P),
  ...op.load8u,
  ...op.get(K),
  ...op.xor,
  ...op.store8,
  ...op.get(K),
  ...op.const(8),
  ...op.rotr,
  ...op.set(K),
  ...op.get(P),
  ...op.const(1),
  ...op.add,
  ...op.set(P),
  ...op.br(0),
  ...op.end,
  ...op.end,
  ...op.end,
];

const module = [
  ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // "\0asm", version 1
  ...section(1, vector([[0x60, ...vector([[I32], [I32], [I32]]), ...vector([])]])), // types
  ...section(3, vector([[0x00]])), // functions: one, of type 0
  ...section(5, vector([[0x00, 0x01]])), // memory: min 1 page, no max
  ...section(
    7,
    vector([
      [...name('mask'), 0x00, 0x00], // export func 0
      [...name('memory'), 0x02, 0x00], // export memory 0
    ]),
  ),
  ...section(10, vector([[...unsignedLeb(body.length), ...body]])), // code
];

const bytes = Uint8Array.from(module);
if (!WebAssembly.validate(bytes)) throw new Error('the assembled module does not validate');
const lines = [];
for (let i = 0; i < bytes.length; i += 16) {
  lines.push(
    `  ${Array.from(bytes.subarray(i, i + 16), (b) => `0x${b.toString(16).padStart(2, '0')}`).join(', ')},`,
  );
}
const source = `// Generated by scripts/gen-mask-wasm.mjs from the kernel written out there; do not edit.

/** The WebAssembly SIMD masking kernel: exports \`memory\` (one 64 KiB page) and \`mask(p, n, key)\`. */
export const MASK_WASM = new Uint8Array([
${lines.join('\n')}
]);
`;
writeFileSync(new URL('../src/protocol/mask-wasm-bytes.ts', import.meta.url), source);
console.log(`src/protocol/mask-wasm-bytes.ts: ${bytes.length} bytes`);
