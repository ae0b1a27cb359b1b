/** RFC 6455 section 5.5: control frames (ping, pong; close has its own file). */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import type { Role } from '../../../src/protocol/index.js';
import { assertFailed } from '../../support/assert-failed.js';
import { closeBody } from '../../support/frames.js';
import { createEngine, Op, peerFrame, platforms } from '../helpers.js';

const roles: Role[] = ['server', 'client'];

describe('5.5 control frame limits', () => {
  for (const role of roles) {
    for (const opcode of [Op.Ping, Op.Pong, Op.Close]) {
      const name = { [Op.Ping]: 'ping', [Op.Pong]: 'pong', [Op.Close]: 'close' }[opcode];
      it(`${role}: a ${name} with a 126-byte payload fails with 1002 before its payload`, () => {
        const engine = createEngine(role);
        const payload = opcode === Op.Close ? closeBody(1000, 'x'.repeat(124)) : randomBytes(126);
        const bytes = peerFrame(role, { opcode, payload });
        engine.ws.receive(bytes.subarray(0, bytes.length - 126));
        assertFailed(engine, 1002);
      });

      it(`${role}: a fragmented ${name} (FIN=0) fails with 1002`, () => {
        const engine = createEngine(role);
        engine.ws.receive(peerFrame(role, { opcode, fin: false, payload: closeBody(1000) }));
        assertFailed(engine, 1002);
      });
    }

    it(`${role}: a ping with a 125-byte payload is accepted`, () => {
      const { ws, sink } = createEngine(role);
      const payload = randomBytes(125);
      ws.receive(peerFrame(role, { opcode: Op.Ping, payload }));
      assert.deepEqual(sink.events, [{ type: 'ping', data: payload }]);
    });

    it(`${role}: a 5-byte ping with a non-minimal 16-bit length fails with 1002`, () => {
      const engine = createEngine(role);
      engine.ws.receive(peerFrame(role, { opcode: Op.Ping, payload: 'hello', lengthBits: 16 }));
      assertFailed(engine, 1002);
    });
  }
});

for (const [platformName, platform] of platforms) {
  for (const role of roles) {
    describe(`5.5.2/5.5.3 ping and pong, ${role} role, ${platformName} platform`, () => {
      for (const size of [0, 1, 4, 5, 64, 125]) {
        it(`answers a ${size}-byte ping with a pong carrying the same payload`, () => {
          const { ws, sink } = createEngine(role, { platform });
          const payload = randomBytes(size);
          ws.receive(peerFrame(role, { opcode: Op.Ping, payload }));
          assert.deepEqual(sink.events, [{ type: 'ping', data: payload }]);
          const frames = sink.frames();
          assert.equal(frames.length, 1);
          assert.equal(frames[0]!.opcode, Op.Pong);
          assert.equal(frames[0]!.fin, true);
          assert.equal(frames[0]!.masked, role === 'client');
          assert.deepEqual(frames[0]!.payload, payload);
        });
      }

      it('answers each of several pings in one chunk, in order', () => {
        const { ws, sink } = createEngine(role, { platform });
        ws.receive(
          Buffer.concat(
            ['one', 'two', 'three'].map((p) => peerFrame(role, { opcode: Op.Ping, payload: p })),
          ),
        );
        assert.deepEqual(
          sink.frames().map((f) => [f.opcode, f.payload.toString()]),
          [
            [Op.Pong, 'one'],
            [Op.Pong, 'two'],
            [Op.Pong, 'three'],
          ],
        );
      });

      it('accepts an unsolicited pong: onPong, nothing written, no error', () => {
        const { ws, sink } = createEngine(role, { platform });
        ws.receive(peerFrame(role, { opcode: Op.Pong, payload: 'heartbeat' }));
        ws.receive(peerFrame(role, { opcode: Op.Pong }));
        assert.deepEqual(sink.events, [
          { type: 'pong', data: Buffer.from('heartbeat') },
          { type: 'pong', data: Buffer.alloc(0) },
        ]);
        assert.equal(sink.written.length, 0);
        assert.equal(ws.failed, false);
      });

      it('ping() and pong() send control frames; over 125 UTF-8 bytes is a RangeError', () => {
        const { ws, sink } = createEngine(role, { platform });
        assert.equal(ws.ping(), true);
        assert.equal(ws.ping('€'.repeat(41)), true); // 123 bytes
        assert.equal(ws.pong(randomBytes(125)), true);
        assert.throws(() => ws.ping('€'.repeat(42)), RangeError); // 126 bytes
        assert.throws(() => ws.pong(new Uint8Array(126)), RangeError);
        const frames = sink.frames();
        assert.deepEqual(
          frames.map((f) => [f.opcode, f.payload.length]),
          [
            [Op.Ping, 0],
            [Op.Ping, 123],
            [Op.Pong, 125],
          ],
        );
        assert.equal(frames[1]!.payload.toString(), '€'.repeat(41));
      });

      it('after close() a received ping is reported but not answered, and ping() returns false', () => {
        const { ws, sink } = createEngine(role, { platform });
        ws.close(1000);
        sink.clearWritten();
        ws.receive(peerFrame(role, { opcode: Op.Ping, payload: 'late' }));
        assert.deepEqual(sink.events, [{ type: 'ping', data: Buffer.from('late') }]);
        assert.equal(sink.written.length, 0);
        assert.equal(ws.ping('x'), false);
        assert.equal(ws.pong('x'), false);
        assert.equal(sink.written.length, 0);
      });
    });
  }
}
