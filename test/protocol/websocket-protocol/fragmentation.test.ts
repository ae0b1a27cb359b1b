/** RFC 6455 section 5.4: fragmentation. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import type { Role } from '../../../src/protocol/index.js';
import { assertFailed } from '../../support/assert-failed.js';
import { createEngine, Op, peerFrame, platforms } from '../helpers.js';

const roles: Role[] = ['server', 'client'];

for (const [platformName, platform] of platforms) {
  for (const role of roles) {
    describe(`5.4 reassembly, ${role} role, ${platformName} platform`, () => {
      it('reassembles a fragmented text message', () => {
        const { ws, sink } = createEngine(role, { platform });
        ws.receive(peerFrame(role, { opcode: Op.Text, fin: false, payload: 'Hel' }));
        ws.receive(peerFrame(role, { opcode: Op.Continuation, fin: false, payload: 'lo, ' }));
        assert.deepEqual(sink.events, [], 'no message before the last fragment');
        ws.receive(peerFrame(role, { opcode: Op.Continuation, fin: true, payload: 'wörld' }));
        assert.deepEqual(sink.events, [{ type: 'message', data: 'Hello, wörld', binary: false }]);
        assert.equal(sink.written.length, 0);
      });

      it('reassembles a fragmented binary message, all fragments in one chunk', () => {
        const { ws, sink } = createEngine(role, { platform });
        const parts = [randomBytes(100), randomBytes(0), randomBytes(70_000), randomBytes(3)];
        ws.receive(
          Buffer.concat(
            parts.map((payload, i) =>
              peerFrame(role, {
                opcode: i === 0 ? Op.Binary : Op.Continuation,
                fin: i === parts.length - 1,
                payload,
              }),
            ),
          ),
        );
        assert.deepEqual(sink.events, [
          { type: 'message', data: Buffer.concat(parts), binary: true },
        ]);
      });

      it('an empty fragmented text message is an empty string', () => {
        const { ws, sink } = createEngine(role, { platform });
        ws.receive(peerFrame(role, { opcode: Op.Text, fin: false }));
        ws.receive(peerFrame(role, { opcode: Op.Continuation, fin: false }));
        ws.receive(peerFrame(role, { opcode: Op.Continuation }));
        assert.deepEqual(sink.events, [{ type: 'message', data: '', binary: false }]);
      });

      it('a whole message may follow a finished fragmented one', () => {
        const { ws, sink } = createEngine(role, { platform });
        ws.receive(peerFrame(role, { opcode: Op.Binary, fin: false, payload: Uint8Array.of(1) }));
        ws.receive(peerFrame(role, { opcode: Op.Continuation, payload: Uint8Array.of(2) }));
        ws.receive(peerFrame(role, { opcode: Op.Text, payload: 'next' }));
        assert.deepEqual(sink.events, [
          { type: 'message', data: Buffer.from([1, 2]), binary: true },
          { type: 'message', data: 'next', binary: false },
        ]);
      });

      it('answers a ping between fragments at once and still reassembles the message', () => {
        const { ws, sink } = createEngine(role, { platform });
        ws.receive(peerFrame(role, { opcode: Op.Text, fin: false, payload: 'frag' }));
        ws.receive(peerFrame(role, { opcode: Op.Ping, payload: 'are you there' }));
        assert.deepEqual(sink.events, [{ type: 'ping', data: Buffer.from('are you there') }]);
        const pong = sink.frames();
        assert.equal(pong.length, 1);
        assert.equal(pong[0]!.opcode, Op.Pong);
        assert.equal(pong[0]!.payload.toString(), 'are you there');
        ws.receive(peerFrame(role, { opcode: Op.Pong, payload: 'unsolicited' }));
        ws.receive(peerFrame(role, { opcode: Op.Continuation, payload: 'ment' }));
        assert.deepEqual(sink.events.slice(1), [
          { type: 'pong', data: Buffer.from('unsolicited') },
          { type: 'message', data: 'fragment', binary: false },
        ]);
      });

      it('a close between fragments ends the connection without delivering the message', () => {
        const { ws, sink } = createEngine(role, { platform });
        ws.receive(peerFrame(role, { opcode: Op.Text, fin: false, payload: 'half' }));
        ws.receive(peerFrame(role, { opcode: Op.Close }));
        ws.receive(peerFrame(role, { opcode: Op.Continuation, payload: 'rest' }));
        assert.deepEqual(sink.events, [{ type: 'close', code: 1005, reason: '' }]);
      });
    });
  }
}

describe('5.4 fragmentation errors', () => {
  for (const role of roles) {
    it(`${role}: a continuation frame with no message open fails with 1002`, () => {
      const engine = createEngine(role);
      engine.ws.receive(peerFrame(role, { opcode: Op.Continuation, payload: 'orphan' }));
      assertFailed(engine, 1002);
    });

    it(`${role}: a continuation frame after a finished message fails with 1002`, () => {
      const engine = createEngine(role);
      engine.ws.receive(peerFrame(role, { opcode: Op.Text, payload: 'done' }));
      engine.ws.receive(peerFrame(role, { opcode: Op.Continuation, fin: false, payload: 'more' }));
      assert.deepEqual(engine.sink.events[0], { type: 'message', data: 'done', binary: false });
      assertFailed(engine, 1002);
    });

    for (const opcode of [Op.Text, Op.Binary]) {
      const name = opcode === Op.Text ? 'text' : 'binary';
      it(`${role}: a new ${name} frame while a message is open fails with 1002`, () => {
        const engine = createEngine(role);
        engine.ws.receive(peerFrame(role, { opcode: Op.Binary, fin: false, payload: 'open' }));
        engine.ws.receive(peerFrame(role, { opcode, payload: 'intruder' }));
        assertFailed(engine, 1002);
        assert.equal(engine.sink.events.length, 1, 'no message is delivered');
      });
    }
  }
});

describe('5.4 sending fragments', () => {
  for (const role of roles) {
    it(`${role}: sendFragment writes a first frame, continuations and a final frame`, () => {
      const { ws, sink } = createEngine(role);
      assert.equal(ws.fragmentedSendOpen, false);
      assert.equal(ws.sendFragment('a', false, false), true);
      assert.equal(ws.fragmentedSendOpen, true);
      assert.throws(() => ws.sendText('whole'), TypeError);
      assert.throws(() => ws.sendBinary(Uint8Array.of(1)), TypeError);
      assert.equal(ws.ping('control frames may interleave'), true);
      assert.equal(
        ws.sendFragment('b', true, false),
        true,
        'the binary flag of later fragments is ignored',
      );
      assert.equal(ws.sendFragment('c', false, true), true);
      assert.equal(ws.fragmentedSendOpen, false);
      assert.equal(ws.sendText('whole'), true);
      assert.deepEqual(
        sink.frames().map((f) => [f.opcode, f.fin, f.payload.toString()]),
        [
          [Op.Text, false, 'a'],
          [Op.Ping, true, 'control frames may interleave'],
          [Op.Continuation, false, 'b'],
          [Op.Continuation, true, 'c'],
          [Op.Text, true, 'whole'],
        ],
      );
    });

    it(`${role}: a peer engine reassembles what sendFragment wrote`, () => {
      const sender = createEngine(role);
      const receiver = createEngine(role === 'server' ? 'client' : 'server');
      const parts = [randomBytes(5), randomBytes(40_000), randomBytes(1)];
      sender.ws.sendFragment(parts[0]!, true, false);
      sender.ws.sendFragment(parts[1]!, true, false);
      sender.ws.sendFragment(parts[2]!, true, true);
      receiver.ws.receive(sender.sink.written);
      assert.deepEqual(receiver.sink.events, [
        { type: 'message', data: Buffer.concat(parts), binary: true },
      ]);
    });
  }
});
