/** RFC 6455 sections 5.5.1 and 7: the closing handshake and close codes. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CloseCode,
  isValidWireCloseCode,
  MAX_CLOSE_REASON_BYTES,
  type Role,
} from '../../../src/protocol/index.js';
import { assertFailed } from '../../support/assert-failed.js';
import { closeBody, parseCloseBody } from '../../support/frames.js';
import { createEngine, Op, peerFrame, platforms } from '../helpers.js';

const roles: Role[] = ['server', 'client'];
const validCodes = [
  1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999,
];
const invalidCodes = [0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535];

describe('isValidWireCloseCode', () => {
  it('accepts exactly 1000-1003, 1007-1014 and 3000-4999', () => {
    const accepted: number[] = [];
    for (let code = 0; code <= 0xffff; code++) if (isValidWireCloseCode(code)) accepted.push(code);
    const expected = [
      ...[1000, 1001, 1002, 1003],
      ...Array.from({ length: 8 }, (_, i) => 1007 + i),
      ...Array.from({ length: 2000 }, (_, i) => 3000 + i),
    ];
    assert.deepEqual(accepted, expected);
  });

  it('CloseCode names the reserved codes that never go on the wire', () => {
    for (const code of [CloseCode.NoStatus, CloseCode.Abnormal, CloseCode.TlsHandshake]) {
      assert.equal(isValidWireCloseCode(code), false);
    }
  });
});

for (const [platformName, platform] of platforms) {
  for (const role of roles) {
    describe(`7 receiving a close, ${role} role, ${platformName} platform`, () => {
      for (const code of validCodes) {
        it(`close code ${code} is accepted and echoed`, () => {
          const { ws, sink } = createEngine(role, { platform });
          ws.receive(peerFrame(role, { opcode: Op.Close, payload: closeBody(code, 'see ya') }));
          assert.deepEqual(sink.events, [{ type: 'close', code, reason: 'see ya' }]);
          const frames = sink.frames();
          assert.equal(frames.length, 1);
          assert.equal(frames[0]!.opcode, Op.Close);
          assert.equal(frames[0]!.masked, role === 'client');
          assert.equal(parseCloseBody(frames[0]!.payload).code, code);
          assert.equal(ws.closeReceived, true);
          assert.equal(ws.closeSent, true);
          assert.equal(ws.failed, false);
          assert.equal(ws.done, true);
        });
      }

      for (const code of invalidCodes) {
        it(`close code ${code} fails with 1002`, () => {
          const engine = createEngine(role, { platform });
          engine.ws.receive(peerFrame(role, { opcode: Op.Close, payload: closeBody(code) }));
          assertFailed(engine, 1002);
          assert.equal(engine.ws.closeReceived, false);
        });
      }

      it('a 1-byte close payload fails with 1002', () => {
        const engine = createEngine(role, { platform });
        engine.ws.receive(peerFrame(role, { opcode: Op.Close, payload: Uint8Array.of(0x03) }));
        assertFailed(engine, 1002);
      });

      it('an empty close reports 1005 and is echoed with an empty close', () => {
        const { ws, sink } = createEngine(role, { platform });
        ws.receive(peerFrame(role, { opcode: Op.Close }));
        assert.deepEqual(sink.events, [{ type: 'close', code: 1005, reason: '' }]);
        const frames = sink.frames();
        assert.equal(frames.length, 1);
        assert.equal(frames[0]!.opcode, Op.Close);
        assert.equal(frames[0]!.payload.length, 0);
        assert.equal(frames[0]!.masked, role === 'client');
        assert.equal(ws.done, true);
      });

      it('a 125-byte close payload (123-byte reason) is accepted', () => {
        const { ws, sink } = createEngine(role, { platform });
        const reason = 'r'.repeat(MAX_CLOSE_REASON_BYTES);
        ws.receive(peerFrame(role, { opcode: Op.Close, payload: closeBody(1000, reason) }));
        assert.deepEqual(sink.events, [{ type: 'close', code: 1000, reason }]);
      });

      it('nothing after a close frame is parsed, in the same chunk or later', () => {
        const { ws, sink } = createEngine(role, { platform });
        ws.receive(
          Buffer.concat([
            peerFrame(role, { opcode: Op.Text, payload: 'before' }),
            peerFrame(role, { opcode: Op.Close, payload: closeBody(1000) }),
            peerFrame(role, { opcode: Op.Text, payload: 'after' }),
            peerFrame(role, { opcode: Op.Ping, payload: 'ping' }),
          ]),
        );
        ws.receive(peerFrame(role, { opcode: Op.Binary, payload: 'later' }));
        ws.receive(Uint8Array.of(0xff, 0xff, 0xff)); // garbage would fail if it were parsed
        assert.deepEqual(sink.events, [
          { type: 'message', data: 'before', binary: false },
          { type: 'close', code: 1000, reason: '' },
        ]);
        assert.deepEqual(
          sink.frames().map((f) => f.opcode),
          [Op.Close],
          'no pong for the ping after the close',
        );
        assert.equal(ws.failed, false);
      });

      it('nothing after a close frame split across chunks is parsed', () => {
        const { ws, sink } = createEngine(role, { platform });
        const bytes = Buffer.concat([
          peerFrame(role, { opcode: Op.Close, payload: closeBody(1001, 'going') }),
          peerFrame(role, { opcode: Op.Text, payload: 'after' }),
        ]);
        ws.receive(bytes.subarray(0, 5));
        ws.receive(bytes.subarray(5));
        assert.deepEqual(sink.events, [{ type: 'close', code: 1001, reason: 'going' }]);
      });
    });

    describe(`7 sending a close, ${role} role, ${platformName} platform`, () => {
      it('close() without a code sends an empty close frame', () => {
        const { ws, sink } = createEngine(role, { platform });
        assert.equal(ws.close(), true);
        const frames = sink.frames();
        assert.equal(frames.length, 1);
        assert.equal(frames[0]!.opcode, Op.Close);
        assert.equal(frames[0]!.payload.length, 0);
      });

      it('close(code, reason) sends the code and the UTF-8 reason', () => {
        const { ws, sink } = createEngine(role, { platform });
        assert.equal(ws.close(4321, 'fin ✓'), true);
        assert.deepEqual(parseCloseBody(sink.frames()[0]!.payload), {
          code: 4321,
          reason: 'fin ✓',
        });
      });

      it('after close() no data or control frame is sent and close() returns false', () => {
        const { ws, sink } = createEngine(role, { platform });
        ws.close(1000);
        assert.equal(ws.closeSent, true);
        assert.equal(ws.sendText('late'), false);
        assert.equal(ws.sendBinary(Uint8Array.of(1)), false);
        assert.equal(ws.sendFragment('late', false, true), false);
        assert.equal(ws.ping(), false);
        assert.equal(ws.pong(), false);
        assert.equal(ws.close(1001), false);
        assert.deepEqual(
          sink.frames().map((f) => f.opcode),
          [Op.Close],
        );
      });

      it('after close() incoming messages are still delivered until the peer closes', () => {
        const { ws, sink } = createEngine(role, { platform });
        ws.close(1000, 'bye');
        assert.equal(ws.done, false);
        ws.receive(peerFrame(role, { opcode: Op.Text, payload: 'in flight' }));
        ws.receive(peerFrame(role, { opcode: Op.Close, payload: closeBody(1000) }));
        assert.deepEqual(sink.events, [
          { type: 'message', data: 'in flight', binary: false },
          { type: 'close', code: 1000, reason: '' },
        ]);
        assert.equal(sink.frames().length, 1, 'the peer close is not echoed a second time');
        assert.equal(ws.done, true);
        assert.equal(ws.failed, false);
      });

      it('the peer may answer with a different code than ours', () => {
        const { ws, sink } = createEngine(role, { platform });
        ws.close(4000);
        ws.receive(peerFrame(role, { opcode: Op.Close, payload: closeBody(1001) }));
        assert.deepEqual(sink.events, [{ type: 'close', code: 1001, reason: '' }]);
        assert.equal(ws.done, true);
      });

      it('a protocol error after close() is reported without a second close frame', () => {
        const { ws, sink } = createEngine(role, { platform });
        ws.close(1000);
        ws.receive(peerFrame(role, { opcode: Op.Text, rsv2: true, payload: 'bad' }));
        assert.deepEqual(sink.events, [
          { type: 'error', closeCode: 1002, code: 'ERR_WS_PROTOCOL' },
        ]);
        assert.equal(sink.frames().length, 1);
        assert.equal(parseCloseBody(sink.frames()[0]!.payload).code, 1000);
        assert.equal(ws.failed, true);
        assert.equal(ws.done, true);
      });

      for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535]) {
        it(`close(${code}) is a RangeError and sends nothing`, () => {
          const { ws, sink } = createEngine(role, { platform });
          assert.throws(() => ws.close(code), RangeError);
          assert.equal(sink.written.length, 0);
          assert.equal(ws.closeSent, false);
          assert.equal(ws.sendText('still open'), true);
        });
      }

      it(`a reason over ${MAX_CLOSE_REASON_BYTES} UTF-8 bytes is a RangeError`, () => {
        const { ws, sink } = createEngine(role, { platform });
        assert.throws(() => ws.close(1000, 'r'.repeat(124)), RangeError);
        assert.throws(() => ws.close(1000, '€'.repeat(42)), RangeError); // 126 bytes, 42 chars
        assert.equal(sink.written.length, 0);
        assert.equal(ws.close(1000, '€'.repeat(41)), true); // 123 bytes
        const payload = sink.frames()[0]!.payload;
        assert.equal(payload.length, 125);
        assert.deepEqual(parseCloseBody(payload), { code: 1000, reason: '€'.repeat(41) });
      });

      it('a reason without a code is a RangeError', () => {
        const { ws, sink } = createEngine(role, { platform });
        assert.throws(() => ws.close(undefined, 'why'), RangeError);
        assert.equal(sink.written.length, 0);
      });
    });
  }
}

describe('done', () => {
  for (const role of roles) {
    it(`${role}: false while open, false after only our close, true once both closes are exchanged`, () => {
      const { ws } = createEngine(role);
      assert.deepEqual(
        [ws.closeSent, ws.closeReceived, ws.failed, ws.done],
        [false, false, false, false],
      );
      ws.close(1000);
      assert.deepEqual(
        [ws.closeSent, ws.closeReceived, ws.failed, ws.done],
        [true, false, false, false],
      );
      ws.receive(peerFrame(role, { opcode: Op.Close, payload: closeBody(1000) }));
      assert.deepEqual(
        [ws.closeSent, ws.closeReceived, ws.failed, ws.done],
        [true, true, false, true],
      );
    });

    it(`${role}: true right after the peer's close, since the echo is written at once`, () => {
      const { ws } = createEngine(role);
      ws.receive(peerFrame(role, { opcode: Op.Close }));
      assert.deepEqual(
        [ws.closeSent, ws.closeReceived, ws.failed, ws.done],
        [true, true, false, true],
      );
    });

    it(`${role}: true after a protocol failure`, () => {
      const { ws } = createEngine(role);
      ws.receive(peerFrame(role, { opcode: 0x3 }));
      assert.deepEqual(
        [ws.closeSent, ws.closeReceived, ws.failed, ws.done],
        [true, false, true, true],
      );
    });
  }
});
