/** RFC 6455 section 8.1 (and RFC 3629): UTF-8 in text messages and close reasons. */
import assert from 'node:assert/strict';
import { Buffer, isUtf8 } from 'node:buffer';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isUtf8Portable, type Role, Utf8Validator } from '../../src/protocol/index.js';
import { assertFailed } from '../support/assert-failed.js';
import { closeBody } from '../support/frames.js';
import { createEngine, Op, peerFrame, platforms, unicodeString } from './helpers.js';

const roles: Role[] = ['server', 'client'];
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

const invalid: Array<[string, Buffer]> = [
  ['a lone continuation byte', hex('61 80 62')],
  ['0xFF', hex('ff')],
  ['0xFE', hex('fe')],
  ['overlong 2-byte NUL (C0 80)', hex('c0 80')],
  ['overlong 2-byte "/" (C1 BF)', hex('c1 bf')],
  ['overlong 3-byte (E0 80 AF)', hex('e0 80 af')],
  ['overlong 3-byte (E0 9F BF)', hex('e0 9f bf')],
  ['overlong 4-byte (F0 80 80 AF)', hex('f0 80 80 af')],
  ['overlong 4-byte (F0 8F BF BF)', hex('f0 8f bf bf')],
  ['high surrogate U+D800 (ED A0 80)', hex('ed a0 80')],
  ['low surrogate U+DFFF (ED BF BF)', hex('ed bf bf')],
  ['surrogate pair encoded as CESU-8', hex('ed a0 bd ed b8 80')],
  ['U+110000 (F4 90 80 80)', hex('f4 90 80 80')],
  ['lead byte F5', hex('f5 80 80 80')],
  ['5-byte sequence', hex('f8 88 80 80 80')],
  ['truncated 3-byte sequence followed by ASCII', hex('e2 82 41')],
  ['truncated 2-byte sequence at the end', hex('41 c3')],
  ['truncated 4-byte sequence at the end', hex('f0 9f 98')],
];

const validEdges: Array<[string, Buffer]> = [
  ['U+0000', hex('00')],
  ['U+007F', hex('7f')],
  ['U+0080', hex('c2 80')],
  ['U+07FF', hex('df bf')],
  ['U+0800', hex('e0 a0 80')],
  ['U+D7FF', hex('ed 9f bf')],
  ['U+E000', hex('ee 80 80')],
  ['U+FFFD', hex('ef bf bd')],
  ['U+FFFF', hex('ef bf bf')],
  ['U+10000', hex('f0 90 80 80')],
  ['U+10FFFF', hex('f4 8f bf bf')],
  ['a BOM', hex('ef bb bf 61')],
];

for (const [platformName, platform] of platforms) {
  for (const role of roles) {
    describe(`8.1 text messages, ${role} role, ${platformName} platform`, () => {
      for (const [name, bytes] of invalid) {
        it(`${name} fails with 1007`, () => {
          const engine = createEngine(role, { platform });
          engine.ws.receive(peerFrame(role, { opcode: Op.Text, payload: bytes }));
          assertFailed(engine, 1007);
        });
      }

      it('accepts the boundary code points', () => {
        const { ws, sink } = createEngine(role, { platform });
        for (const [, bytes] of validEdges)
          ws.receive(peerFrame(role, { opcode: Op.Text, payload: bytes }));
        assert.deepEqual(
          sink.events,
          validEdges.map(([, bytes]) => ({
            type: 'message',
            data: bytes.toString('utf8'),
            binary: false,
          })),
        );
        // The BOM is not stripped.
        const last = sink.events.at(-1);
        assert.equal(last?.type === 'message' ? last.data : undefined, '\ufeffa');
      });

      it('invalid UTF-8 in a binary message is fine', () => {
        const { ws, sink } = createEngine(role, { platform });
        ws.receive(peerFrame(role, { opcode: Op.Binary, payload: hex('ff c0 80 ed a0 80') }));
        assert.deepEqual(sink.events, [
          { type: 'message', data: hex('ff c0 80 ed a0 80'), binary: true },
        ]);
      });

      it('fails at the fragment with the first invalid byte, before the last fragment', () => {
        const engine = createEngine(role, { platform });
        engine.ws.receive(peerFrame(role, { opcode: Op.Text, fin: false, payload: 'valid ✓ ' }));
        assert.deepEqual(engine.sink.events, []);
        engine.ws.receive(
          peerFrame(role, {
            opcode: Op.Continuation,
            fin: false,
            payload: Buffer.concat([Buffer.from('ok '), hex('ff'), Buffer.from(' more')]),
          }),
        );
        assertFailed(engine, 1007);
        engine.ws.receive(peerFrame(role, { opcode: Op.Continuation, payload: 'end' }));
        assert.equal(engine.sink.events.length, 1);
      });

      it('fails on the first fragment when it already holds an invalid byte', () => {
        const engine = createEngine(role, { platform });
        engine.ws.receive(
          peerFrame(role, { opcode: Op.Text, fin: false, payload: hex('61 62 c0') }),
        );
        assertFailed(engine, 1007);
      });

      it('fails as soon as a code point split across fragments turns out invalid', () => {
        const engine = createEngine(role, { platform });
        // E2 82 is a valid start (of U+20AC); 28 cannot continue it.
        engine.ws.receive(
          peerFrame(role, { opcode: Op.Text, fin: false, payload: hex('41 e2 82') }),
        );
        assert.deepEqual(engine.sink.events, []);
        engine.ws.receive(
          peerFrame(role, { opcode: Op.Continuation, fin: false, payload: hex('28 41') }),
        );
        assertFailed(engine, 1007);
      });

      it('fails at a fragment ending in a surrogate or out-of-range prefix', () => {
        for (const prefix of ['ed a0', 'f4 90', 'e0 80', 'f0 80']) {
          const engine = createEngine(role, { platform });
          engine.ws.receive(
            peerFrame(role, { opcode: Op.Text, fin: false, payload: hex(`41 ${prefix}`) }),
          );
          assertFailed(engine, 1007);
        }
      });

      it('accepts code points split across fragments at every position', () => {
        const text = 'a€😀bßÿ\u{10ffff}z';
        const bytes = Buffer.from(text);
        for (let i = 0; i <= bytes.length; i++) {
          for (const j of [i, Math.min(bytes.length, i + 1), Math.min(bytes.length, i + 2)]) {
            const { ws, sink } = createEngine(role, { platform });
            ws.receive(
              peerFrame(role, { opcode: Op.Text, fin: false, payload: bytes.subarray(0, i) }),
            );
            ws.receive(
              peerFrame(role, {
                opcode: Op.Continuation,
                fin: false,
                payload: bytes.subarray(i, j),
              }),
            );
            ws.receive(peerFrame(role, { opcode: Op.Continuation, payload: bytes.subarray(j) }));
            assert.deepEqual(
              sink.events,
              [{ type: 'message', data: text, binary: false }],
              `split ${i}/${j}`,
            );
          }
        }
      });

      for (const [name, tail] of [
        ['2-byte', 'c3'],
        ['3-byte', 'e2 82'],
        ['4-byte', 'f0 9f 98'],
      ] as const) {
        it(`a fragmented message ending inside a ${name} sequence fails with 1007`, () => {
          const engine = createEngine(role, { platform });
          engine.ws.receive(
            peerFrame(role, { opcode: Op.Text, fin: false, payload: hex(`61 ${tail}`) }),
          );
          assert.deepEqual(engine.sink.events, []);
          engine.ws.receive(peerFrame(role, { opcode: Op.Continuation, payload: Buffer.alloc(0) }));
          assertFailed(engine, 1007);
        });
      }

      it('an invalid close reason fails with 1007', () => {
        const engine = createEngine(role, { platform });
        engine.ws.receive(
          peerFrame(role, { opcode: Op.Close, payload: closeBody(1000, hex('ed a0 80')) }),
        );
        assertFailed(engine, 1007);
        assert.deepEqual(
          engine.sink.events.filter((e) => e.type === 'close'),
          [],
        );
      });

      it('a multi-byte close reason is decoded', () => {
        const { ws, sink } = createEngine(role, { platform });
        ws.receive(peerFrame(role, { opcode: Op.Close, payload: closeBody(4000, 'adiós 👋') }));
        assert.deepEqual(sink.events, [{ type: 'close', code: 4000, reason: 'adiós 👋' }]);
      });
    });
  }
}

// -- Utf8Validator -------------------------------------------------------------------------------

/**
 * Every proper prefix (1 to 3 bytes) of the UTF-8 encoding of some scalar value. Only the top bits
 * of a code point decide its prefixes, so code points in steps of 64 cover them all.
 */
const partials = (() => {
  const set = new Set<string>();
  for (let cp = 0x80; cp <= 0x10ffff; cp += 64) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const bytes = Buffer.from(String.fromCodePoint(cp));
    for (let k = 1; k < bytes.length; k++) set.add(bytes.subarray(0, k).toString('hex'));
  }
  return set;
})();

/** Whether `bytes` can still be continued into valid UTF-8 (an independent reference). */
function isValidPrefix(bytes: Uint8Array): boolean {
  if (isUtf8(bytes)) return true;
  for (let k = 1; k <= 3 && k <= bytes.length; k++) {
    const head = bytes.subarray(0, bytes.length - k);
    const tail = Buffer.from(bytes.subarray(bytes.length - k)).toString('hex');
    if (partials.has(tail) && isUtf8(head)) return true;
  }
  return false;
}

/** Bytes that are mostly UTF-8 of arbitrary text, sometimes with a byte changed or inserted. */
const mostlyUtf8 = fc
  .tuple(
    unicodeString(24),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean()), { maxLength: 2 }),
  )
  .map(([text, edits]) => {
    const bytes = [...Buffer.from(text)];
    for (const [at, value, insert] of edits) {
      const i = bytes.length === 0 ? 0 : at % (bytes.length + (insert ? 1 : 0));
      if (insert || bytes.length === 0) bytes.splice(i, 0, value);
      else bytes[i] = value;
    }
    return Uint8Array.from(bytes);
  });

for (const [platformName, platform] of platforms) {
  describe(`Utf8Validator (${platformName} isUtf8)`, () => {
    const make = () => new Utf8Validator(platform.isUtf8);

    it('rejects overlongs, surrogates and code points above U+10FFFF, whole or byte by byte', () => {
      for (const [name, bytes] of invalid) {
        const whole = make();
        assert.equal(whole.push(bytes) && whole.complete, false, name);
        const bytewise = make();
        let ok = true;
        for (const b of bytes) ok &&= bytewise.push(Uint8Array.of(b));
        assert.equal(ok && bytewise.complete, false, `${name}, byte by byte`);
      }
    });

    it('fails on the very byte that makes the input invalid when fed byte by byte', () => {
      const cases: Array<[string, number]> = [
        ['e0 80', 1],
        ['ed a0', 1],
        ['f4 90', 1],
        ['f0 8f', 1],
        ['c0', 0],
        ['c1', 0],
        ['f5', 0],
        ['ff', 0],
        ['61 e2 82 28', 3],
        ['f0 9f 98 41', 3],
      ];
      for (const [input, failAt] of cases) {
        const v = make();
        const bytes = hex(input);
        bytes.forEach((b, i) => {
          assert.equal(v.push(Uint8Array.of(b)), i < failAt, `${input} byte ${i}`);
        });
      }
    });

    it('accepts valid text split at every position', () => {
      const bytes = Buffer.from('x€y😀zß\u{10ffff}\u{800}\u{ffff}');
      for (const [, edge] of validEdges) {
        const v = make();
        assert.equal(v.push(edge), true);
        assert.equal(v.complete, true);
      }
      for (let i = 0; i <= bytes.length; i++) {
        for (let j = i; j <= bytes.length; j++) {
          const v = make();
          assert.equal(v.push(bytes.subarray(0, i)), true);
          assert.equal(v.push(bytes.subarray(i, j)), true);
          assert.equal(v.push(bytes.subarray(j)), true);
          assert.equal(v.complete, true, `split at ${i}/${j}`);
        }
      }
    });

    it('complete is false inside a sequence, and reset() forgets it', () => {
      const v = make();
      assert.equal(v.complete, true);
      assert.equal(v.push(hex('f0 9f')), true);
      assert.equal(v.complete, false);
      assert.equal(v.push(hex('98')), true);
      assert.equal(v.complete, false);
      v.reset();
      assert.equal(v.complete, true);
      assert.equal(v.push(hex('80')), false, 'a continuation byte after reset is invalid');
      v.reset();
      assert.equal(v.push(hex('f0 9f 98 80')), true);
      assert.equal(v.complete, true);
    });

    it('property: fails at exactly the first chunk that cannot be continued into valid UTF-8', () => {
      fc.assert(
        fc.property(mostlyUtf8, fc.array(fc.nat(), { maxLength: 6 }), (bytes, rawCuts) => {
          const cuts = [...new Set(rawCuts.map((c) => c % (bytes.length + 1)))].sort(
            (a, b) => a - b,
          );
          const v = make();
          let start = 0;
          for (const end of [...cuts, bytes.length]) {
            const ok = v.push(bytes.subarray(start, end));
            const expected = isValidPrefix(bytes.subarray(0, end));
            assert.equal(
              ok,
              expected,
              `chunk ${start}-${end} of ${Buffer.from(bytes).toString('hex')}`,
            );
            if (!ok) return;
            start = end;
          }
          assert.equal(v.complete, isUtf8(bytes));
        }),
        { numRuns: 300 },
      );
    });
  });
}

describe('isUtf8Portable', () => {
  it('agrees with buffer.isUtf8', () => {
    for (const [name, bytes] of [...invalid, ...validEdges]) {
      assert.equal(isUtf8Portable(bytes), isUtf8(bytes), name);
    }
    fc.assert(
      fc.property(mostlyUtf8, (bytes) => {
        assert.equal(isUtf8Portable(bytes), isUtf8(bytes));
      }),
      { numRuns: 300 },
    );
  });

  it('does not treat a leading BOM as special', () => {
    assert.equal(isUtf8Portable(hex('ef bb bf')), true);
    assert.equal(isUtf8Portable(hex('ef bb')), false);
  });
});
