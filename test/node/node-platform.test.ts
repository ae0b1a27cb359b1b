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
    // Lengths on both sides of the ASCII check's threshold (64 KiB) and of Node's external-string
    // threshold (about 1 MB); the non-ASCII character first, in the middle and last.
    for (const length of [0, 1, 100, 65535, 65536, 65537, 1_100_000]) {
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
    const whole = Buffer.concat([Buffer.from('é'), text(70_000), Buffer.from('ü')]);
    const view = new Uint8Array(whole.buffer, whole.byteOffset + 2, 70_000);
    assert.equal(nodePlatform.decode(view), reference.decode(text(70_000)));
  });

  it('property: agrees with TextDecoder on any valid UTF-8, short or past the threshold', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.nat(70_000), (s, pad) => {
        const bytes = Buffer.concat([text(pad), Buffer.from(s)]);
        assert.equal(nodePlatform.decode(bytes), reference.decode(bytes));
      }),
      { numRuns: 60 },
    );
  });
});
