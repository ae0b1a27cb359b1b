/** RFC 6455 section 5.2: base framing, lengths, RSV bits, opcodes, maxPayload. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import type { Role } from '../../../src/protocol/index.js';
import { assertFailed } from '../../support/assert-failed.js';
import type { frame } from '../../support/frames.js';
import { createEngine, Op, peerFrame, peerOf, platforms } from '../helpers.js';

const roles: Role[] = ['server', 'client'];
const sizes = [0, 1, 125, 126, 127, 65535, 65536, 70000];

function expectedLengthBits(size: number): 7 | 16 | 64 {
  return size <= 125 ? 7 : size <= 0xffff ? 16 : 64;
}

for (const [platformName, platform] of platforms) {
  for (const role of roles) {
    describe(`5.2 payload lengths, ${role} role, ${platformName} platform`, () => {
      for (const size of sizes) {
        it(`receives a ${size}-byte binary frame (${expectedLengthBits(size)}-bit length)`, () => {
          const engine = createEngine(role, { platform });
          const payload = randomBytes(size);
          const bytes = peerFrame(role, { opcode: Op.Binary, payload });
          assert.equal(
            bytes.length - payload.length - (role === 'server' ? 4 : 0),
            {
              7: 2,
              16: 4,
              64: 10,
            }[expectedLengthBits(size)],
          );
          engine.ws.receive(bytes);
          assert.deepEqual(engine.sink.events, [{ type: 'message', data: payload, binary: true }]);
          assert.equal(engine.sink.written.length, 0);
        });

        it(`sends a ${size}-byte message with the minimal ${expectedLengthBits(size)}-bit length`, () => {
          const engine = createEngine(role, { platform });
          const payload = randomBytes(size);
          const text = 'x'.repeat(size);
          assert.equal(engine.ws.sendBinary(payload), true);
          assert.equal(engine.ws.sendText(text), true);
          const [bin, txt] = engine.sink.frames();
          for (const f of [bin!, txt!]) {
            assert.equal(f.fin, true);
            assert.equal(f.rsv1 || f.rsv2 || f.rsv3, false);
            assert.equal(f.masked, role === 'client');
            assert.equal(f.lengthBits, expectedLengthBits(size));
          }
          assert.equal(bin!.opcode, Op.Binary);
          assert.deepEqual(bin!.payload, payload);
          assert.equal(txt!.opcode, Op.Text);
          assert.equal(txt!.payload.toString(), text);
        });
      }

      it('round-trips every size through a peer engine', () => {
        const sender = createEngine(peerOf(role), { platform });
        const receiver = createEngine(role, { platform });
        const payloads = sizes.map((n) => randomBytes(n));
        for (const p of payloads) sender.ws.sendBinary(p);
        receiver.ws.receive(sender.sink.written);
        assert.deepEqual(
          receiver.sink.events,
          payloads.map((data) => ({ type: 'message', data, binary: true })),
        );
      });
    });
  }
}

describe('5.2 length field edge cases', () => {
  for (const role of roles) {
    it(`${role}: accepts non-minimal 16- and 64-bit encodings of a small length`, () => {
      const engine = createEngine(role);
      engine.ws.receive(peerFrame(role, { opcode: Op.Text, payload: 'abcde', lengthBits: 16 }));
      engine.ws.receive(peerFrame(role, { opcode: Op.Text, payload: 'fghij', lengthBits: 64 }));
      assert.deepEqual(engine.sink.events, [
        { type: 'message', data: 'abcde', binary: false },
        { type: 'message', data: 'fghij', binary: false },
      ]);
    });

    it(`${role}: a 64-bit length with the most significant bit set fails with 1002 before any payload`, () => {
      const engine = createEngine(role);
      const header = peerFrame(role, {
        opcode: Op.Binary,
        declaredLength: 0x8000000000000001n,
        lengthBits: 64,
      });
      engine.ws.receive(header.subarray(0, header.length - 1));
      assert.deepEqual(engine.sink.events, [], 'nothing happens before the header is complete');
      engine.ws.receive(header.subarray(header.length - 1));
      assertFailed(engine, 1002);
    });

    it(`${role}: a 64-bit length of 0xFFFFFFFFFFFFFFFF fails with 1002`, () => {
      const engine = createEngine(role, { maxPayload: 0 });
      engine.ws.receive(
        peerFrame(role, { opcode: Op.Binary, declaredLength: 0xffffffffffffffffn, lengthBits: 64 }),
      );
      assertFailed(engine, 1002);
    });

    it(`${role}: a frame larger than a buffer can hold fails with 1009 even without maxPayload`, () => {
      const engine = createEngine(role, { maxPayload: 0 });
      engine.ws.receive(peerFrame(role, { opcode: Op.Binary, declaredLength: 2n ** 40n }));
      assertFailed(engine, 1009);
    });
  }
});

describe('5.2 maxPayload (1009)', () => {
  for (const role of roles) {
    for (const lengthBits of [16, 64] as const) {
      it(`${role}: fails as soon as a ${lengthBits}-bit header declares more than maxPayload`, () => {
        const engine = createEngine(role, { maxPayload: 1000 });
        const payload = Buffer.alloc(1001, 0x61);
        const bytes = peerFrame(role, { opcode: Op.Text, payload, lengthBits });
        const headerLength = bytes.length - payload.length;
        engine.ws.receive(bytes.subarray(0, headerLength - 1));
        assert.deepEqual(engine.sink.events, []);
        assert.equal(engine.sink.written.length, 0);
        engine.ws.receive(bytes.subarray(headerLength - 1, headerLength));
        assertFailed(engine, 1009);
        // The payload that follows is ignored.
        engine.ws.receive(bytes.subarray(headerLength));
        assert.equal(engine.sink.events.length, 1);
      });
    }

    it(`${role}: accepts a message of exactly maxPayload bytes`, () => {
      const engine = createEngine(role, { maxPayload: 1000 });
      const payload = randomBytes(1000);
      engine.ws.receive(peerFrame(role, { opcode: Op.Binary, payload }));
      assert.deepEqual(engine.sink.events, [{ type: 'message', data: payload, binary: true }]);
    });

    it(`${role}: fails with 1009 when fragments add up to more than maxPayload`, () => {
      const engine = createEngine(role, { maxPayload: 1000 });
      engine.ws.receive(
        peerFrame(role, { opcode: Op.Binary, fin: false, payload: randomBytes(600) }),
      );
      engine.ws.receive(
        peerFrame(role, { opcode: Op.Continuation, fin: false, payload: randomBytes(300) }),
      );
      assert.deepEqual(engine.sink.events, []);
      const last = peerFrame(role, { opcode: Op.Continuation, payload: randomBytes(101) });
      // Only the header of the fragment that goes over the limit.
      engine.ws.receive(last.subarray(0, last.length - 101));
      assertFailed(engine, 1009);
    });

    it(`${role}: fragments adding up to exactly maxPayload are accepted, and the count restarts per message`, () => {
      const engine = createEngine(role, { maxPayload: 1000 });
      for (let i = 0; i < 3; i++) {
        engine.ws.receive(
          peerFrame(role, { opcode: Op.Binary, fin: false, payload: Buffer.alloc(500) }),
        );
        engine.ws.receive(peerFrame(role, { opcode: Op.Continuation, payload: Buffer.alloc(500) }));
      }
      assert.equal(engine.sink.events.length, 3);
      assert.ok(engine.sink.events.every((e) => e.type === 'message' && e.data.length === 1000));
      assert.equal(engine.ws.failed, false);
    });

    it(`${role}: control frames do not count against maxPayload`, () => {
      const engine = createEngine(role, { maxPayload: 10 });
      engine.ws.receive(
        peerFrame(role, { opcode: Op.Binary, fin: false, payload: Buffer.alloc(10) }),
      );
      engine.ws.receive(peerFrame(role, { opcode: Op.Ping, payload: Buffer.alloc(100, 1) }));
      engine.ws.receive(peerFrame(role, { opcode: Op.Continuation, payload: Buffer.alloc(0) }));
      assert.deepEqual(
        engine.sink.events.map((e) => e.type),
        ['ping', 'message'],
      );
    });

    it(`${role}: maxPayload 0 means no limit`, () => {
      const engine = createEngine(role, { maxPayload: 0 });
      const payload = randomBytes(200_000);
      engine.ws.receive(peerFrame(role, { opcode: Op.Binary, payload }));
      assert.deepEqual(engine.sink.events, [{ type: 'message', data: payload, binary: true }]);
    });

    it(`${role}: the default maxPayload is 16 MiB`, () => {
      const engine = createEngine(role);
      engine.ws.receive(
        peerFrame(role, { opcode: Op.Binary, declaredLength: 16 * 1024 * 1024 + 1 }),
      );
      assertFailed(engine, 1009);
    });
  }
});

describe('5.2 RSV bits', () => {
  for (const role of roles) {
    const cases: Array<[string, Parameters<typeof frame>[0]]> = [
      ['RSV2 on a text frame', { opcode: Op.Text, rsv2: true, payload: 'a' }],
      ['RSV3 on a binary frame', { opcode: Op.Binary, rsv3: true, payload: 'a' }],
      ['RSV2 and RSV3 on a ping', { opcode: Op.Ping, rsv2: true, rsv3: true }],
      ['RSV1 on a text frame with no extension', { opcode: Op.Text, rsv1: true, payload: 'a' }],
      ['RSV1 on a binary frame with no extension', { opcode: Op.Binary, rsv1: true, payload: 'a' }],
      ['RSV1 on a ping', { opcode: Op.Ping, rsv1: true }],
      ['RSV1 on a close', { opcode: Op.Close, rsv1: true }],
    ];
    for (const [name, spec] of cases) {
      it(`${role}: ${name} fails with 1002`, () => {
        const engine = createEngine(role);
        engine.ws.receive(peerFrame(role, spec));
        assertFailed(engine, 1002);
        assert.deepEqual(
          engine.sink.events.filter((e) => e.type !== 'error'),
          [],
        );
      });
    }

    it(`${role}: RSV1 on a continuation frame fails with 1002`, () => {
      const engine = createEngine(role);
      engine.ws.receive(peerFrame(role, { opcode: Op.Text, fin: false, payload: 'a' }));
      engine.ws.receive(peerFrame(role, { opcode: Op.Continuation, rsv1: true, payload: 'b' }));
      assertFailed(engine, 1002);
      assert.equal(engine.sink.events.length, 1);
    });
  }
});

describe('5.2 reserved opcodes', () => {
  const reserved = [3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf];
  for (const role of roles) {
    for (const opcode of reserved) {
      it(`${role}: opcode 0x${opcode.toString(16)} fails with 1002 once its header is in`, () => {
        const engine = createEngine(role);
        const bytes = Buffer.concat([
          peerFrame(role, { opcode: Op.Text, payload: 'before' }),
          peerFrame(role, { opcode, payload: 'xyz' }),
        ]);
        // Everything except the payload of the reserved frame.
        engine.ws.receive(bytes.subarray(0, bytes.length - 3));
        assert.deepEqual(engine.sink.events[0], { type: 'message', data: 'before', binary: false });
        assertFailed(engine, 1002);
        engine.ws.receive(bytes.subarray(bytes.length - 3));
        engine.ws.receive(peerFrame(role, { opcode: Op.Text, payload: 'after' }));
        assert.equal(engine.sink.events.length, 2, 'nothing is parsed after the failure');
      });
    }
  }
});
