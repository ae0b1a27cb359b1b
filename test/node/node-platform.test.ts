/** The Node platform's text paths against the portable ones they replace. */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { nodePlatform } from '../../src/node/node-platform.js';

const reference = new TextDecoder();

/** ASCII text of `length` bytes, with `insert` (UTF-8 of a non-ASCII character) at `at` if given. */
function text(length: number, insert?: string, at = 0): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = 0x20 + ((i * 7919) % 95);
  if (insert === undefined) return bytes;
  const extra = Buffer.from(insert);
  return Buffer.concat([bytes.subarray(0, at), extra, bytes.subarray(at + extra.length)]);
}

describe('nodePlatform.decode', () => {
  it('decodes short and long text, ASCII or not, as TextDecoder does', () => {
    // Lengths on both sides of the ASCII check's threshold (1 KiB) and of Node's external-string
    // threshold (about 1 MB); the non-ASCII character first, in the middle and last.
    for (const length of [0, 1, 100, 1023, 1024, 1025, 16_384, 65_536, 1_100_000]) {
      const cases = [text(length)];
      if (length >= 4) {
        for (const at of [0, length >> 1, length - 4]) cases.push(text(length, '😀', at));
        cases.push(text(length, '\u00e9', length - 2));
      }
      for (const bytes of cases) {
        const decoded = nodePlatform.decode(bytes);
        assert.equal(decoded.length, reference.decode(bytes).length, `length ${length}`);
        assert.equal(decoded, reference.decode(bytes), `length ${length}`);
      }
    }
  });

  it('decodes a view into a larger buffer, not the buffer around it', () => {
    for (const length of [500, 70_000]) {
      const whole = Buffer.concat([Buffer.from('é'), text(length), Buffer.from('ü')]);
      const view = new Uint8Array(whole.buffer, whole.byteOffset + 2, length);
      assert.equal(nodePlatform.decode(view), reference.decode(text(length)));
    }
  });

  it('property: agrees with TextDecoder on any valid UTF-8, short or past the threshold', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.nat(3_000), (s, pad) => {
        const bytes = Buffer.concat([text(pad), Buffer.from(s)]);
        assert.equal(nodePlatform.decode(bytes), reference.decode(bytes));
      }),
      { numRuns: 60 },
    );
  });
});

describe('nodePlatform.encodeInto', () => {
  const encoder = new TextEncoder();

  /** Encodes `s` at offset 3 of a buffer filled with 0xee, with the byte length given or not. */
  function encodeAt(s: string, hint: boolean): { written: number; bytes: Buffer } {
    const length = nodePlatform.byteLength(s);
    const target = Buffer.alloc(length + 5, 0xee);
    const written = nodePlatform.encodeInto(s, target, 3, hint ? length : undefined);
    return { written, bytes: target };
  }

  it('writes ASCII copied as latin1 when the measured length says so, the same bytes as UTF-8', () => {
    for (const length of [0, 1, 100, 1024, 16_384, 1_100_000]) {
      const s = text(length).toString('latin1');
      for (const hint of [true, false]) {
        const { written, bytes } = encodeAt(s, hint);
        assert.equal(written, length);
        assert.deepEqual(bytes.subarray(3, 3 + length), Buffer.from(encoder.encode(s)));
        assert.deepEqual(
          [...bytes.subarray(0, 3), ...bytes.subarray(3 + length)],
          [0xee, 0xee, 0xee, 0xee, 0xee],
        );
      }
    }
  });

  it('encodes text with characters past ASCII (latin1 range, two-byte, astral) as UTF-8', () => {
    for (const s of ['é', 'caf\u00e9', '\u00ff'.repeat(2000), '€ and 😀', `${'a'.repeat(5000)}ü`]) {
      const { written, bytes } = encodeAt(s, true);
      const expected = Buffer.from(encoder.encode(s));
      assert.equal(written, expected.length);
      assert.deepEqual(bytes.subarray(3, 3 + written), expected);
    }
  });

  it('property: agrees with TextEncoder on any string, with or without the length', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), fc.boolean(), (s, hint) => {
        const { written, bytes } = encodeAt(s, hint);
        assert.deepEqual(bytes.subarray(3, 3 + written), Buffer.from(encoder.encode(s)));
      }),
      { numRuns: 300 },
    );
  });
});
