/**
 * RFC 6455 sections 7.1.1-7.1.7 and 7.4: the close lifecycle the engine owns — who closes the
 * TCP connection first, when a close is clean, 1005 and 1006, and the close-reason limit.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import type { ProtocolError } from '../../src/errors.js';
import type { MessageCompressor } from '../../src/protocol/extensions/message-compressor.js';
import {
  CloseCode,
  type CloseStatus,
  checkCloseReason,
  closeResult,
  MAX_CLOSE_REASON_BYTES,
  type Role,
  shouldCloseTransport,
  WebSocketProtocol,
} from '../../src/protocol/index.js';
import { closeBody } from '../support/frames.js';
import { createEngine, Op, peerFrame, platforms, RecordingSink } from './helpers.js';

const roles: Role[] = ['server', 'client'];

/** Counts the engine's reports that every queued frame has been written. */
class IdleSink extends RecordingSink {
  idleCalls = 0;
  onIdle(): void {
    this.idleCalls++;
  }
}

function status(changes: Partial<CloseStatus>): CloseStatus {
  return {
    role: 'server',
    closeSent: false,
    closeReceived: false,
    failed: false,
    eofReceived: false,
    idle: true,
    peerCode: CloseCode.NoStatus,
    peerReason: '',
    ...changes,
  };
}

describe('7.1.1 who closes the TCP connection first', () => {
  it('the server, once both close frames are exchanged: after echoing a client close', () => {
    const { ws } = createEngine('server');
    assert.equal(ws.shouldCloseTransport, false);
    ws.receive(peerFrame('server', { opcode: Op.Close, payload: closeBody(1000) }));
    assert.equal(ws.closeSent, true);
    assert.equal(ws.shouldCloseTransport, true);
  });

  it('the server, after the client answers its close', () => {
    const { ws } = createEngine('server');
    ws.close(1001, 'bye');
    assert.equal(ws.shouldCloseTransport, false, 'waits for the answer');
    ws.receive(peerFrame('server', { opcode: Op.Close, payload: closeBody(1001) }));
    assert.equal(ws.shouldCloseTransport, true);
  });

  it('never the client after a clean closing handshake: it waits for the server', () => {
    for (const clientFirst of [true, false]) {
      const { ws } = createEngine('client');
      if (clientFirst) ws.close(1000);
      ws.receive(peerFrame('client', { opcode: Op.Close, payload: closeBody(1000) }));
      assert.equal(ws.closeSent && ws.closeReceived, true);
      assert.equal(ws.shouldCloseTransport, false, `client first: ${clientFirst}`);
    }
  });

  it('either side at once after failing the connection (7.1.7)', () => {
    for (const role of roles) {
      const { ws } = createEngine(role);
      // A 1-byte close payload is a protocol error.
      ws.receive(peerFrame(role, { opcode: Op.Close, payload: Buffer.from([3]) }));
      assert.equal(ws.failed, true);
      assert.equal(ws.shouldCloseTransport, true, role);
    }
  });

  it('either side once the peer has ended its side (receiveEof)', () => {
    for (const role of roles) {
      const { ws } = createEngine(role);
      ws.receiveEof();
      assert.equal(ws.shouldCloseTransport, true, role);
    }
  });

  it('a server whose close echo waits behind a compression closes TCP only once it is written', () => {
    const pending: Array<() => void> = [];
    const compressor: MessageCompressor = {
      threshold: 0,
      compress(data, callback) {
        pending.push(() => callback(null, data));
      },
      decompress(data, _max, callback: (e: ProtocolError | null, r: Uint8Array | null) => void) {
        callback(null, data);
      },
      close() {},
    };
    const sink = new IdleSink();
    const ws = new WebSocketProtocol({ role: 'server', compressor }, sink);
    ws.sendText('held back by the compressor');
    ws.receive(peerFrame('server', { opcode: Op.Close, payload: closeBody(1000) }));
    assert.equal(ws.closeSent, true);
    assert.equal(ws.idle, false);
    assert.equal(ws.shouldCloseTransport, false, 'the echo is not written yet');
    pending.shift()!();
    assert.equal(sink.idleCalls, 1);
    assert.equal(ws.idle, true);
    assert.equal(ws.shouldCloseTransport, true);
    const frames = sink.frames();
    assert.deepEqual(
      frames.map((f) => f.opcode),
      [Op.Text, Op.Close],
    );
  });
});

describe('7.1.4-7.1.5 the close result', () => {
  for (const role of roles) {
    it(`${role}: a completed handshake is clean, with the peer's code and reason`, () => {
      const { ws } = createEngine(role);
      ws.close(1000);
      ws.receive(peerFrame(role, { opcode: Op.Close, payload: closeBody(4000, 'done here') }));
      assert.deepEqual(ws.closeResult, { code: 4000, reason: 'done here', wasClean: true });
    });

    it(`${role}: a close frame without a code gives 1005, still clean`, () => {
      const { ws } = createEngine(role);
      ws.receive(peerFrame(role, { opcode: Op.Close }));
      assert.deepEqual(ws.closeResult, { code: CloseCode.NoStatus, reason: '', wasClean: true });
    });

    it(`${role}: no close frame from the peer gives 1006, not clean, even after sending one`, () => {
      const { ws } = createEngine(role);
      assert.deepEqual(ws.closeResult, { code: CloseCode.Abnormal, reason: '', wasClean: false });
      ws.close(1000, 'going');
      ws.receiveEof();
      assert.deepEqual(ws.closeResult, { code: CloseCode.Abnormal, reason: '', wasClean: false });
    });

    it(`${role}: a failed connection gives 1006 and is not clean`, () => {
      const { ws } = createEngine(role);
      ws.receive(peerFrame(role, { opcode: 0x3 })); // reserved opcode
      assert.equal(ws.failed, true);
      assert.deepEqual(ws.closeResult, { code: CloseCode.Abnormal, reason: '', wasClean: false });
    });
  }

  it('closeResult and shouldCloseTransport are pure rules over the status', () => {
    assert.deepEqual(closeResult(status({ closeSent: true })), {
      code: 1006,
      reason: '',
      wasClean: false,
    });
    assert.deepEqual(
      closeResult(
        status({ closeSent: true, closeReceived: true, peerCode: 1001, peerReason: 'x' }),
      ),
      { code: 1001, reason: 'x', wasClean: true },
    );
    // The peer's close arrived but this side never answered (the transport was cut): not clean.
    assert.equal(closeResult(status({ closeReceived: true, peerCode: 1000 })).wasClean, false);
    assert.equal(
      shouldCloseTransport(status({ role: 'client', closeSent: true, closeReceived: true })),
      false,
    );
    assert.equal(
      shouldCloseTransport(status({ closeSent: true, closeReceived: true, idle: false })),
      false,
    );
    assert.equal(shouldCloseTransport(status({ closeSent: true, closeReceived: true })), true);
    assert.equal(shouldCloseTransport(status({ role: 'client', failed: true })), true);
  });
});

describe('5.5 the close reason limit, checked in one place', () => {
  for (const [platformName, platform] of platforms) {
    it(`123 UTF-8 bytes fit and 124 do not (${platformName} platform)`, () => {
      const measure = (text: string) => platform.byteLength(text);
      assert.equal(MAX_CLOSE_REASON_BYTES, 123);
      assert.equal(checkCloseReason('', measure), 0);
      assert.equal(checkCloseReason('€'.repeat(41), measure), 123);
      assert.throws(
        () => checkCloseReason(`${'€'.repeat(41)}a`, measure),
        (error: unknown) =>
          error instanceof RangeError && /124 UTF-8 bytes long; at most 123/.test(error.message),
      );
      assert.throws(
        () => checkCloseReason('x'.repeat(200), measure, 'terminate(): reason'),
        /^RangeError: terminate\(\): reason is 200 UTF-8 bytes long/,
      );
    });
  }

  it('the engine refuses a long reason with that check and sends nothing', () => {
    const { ws, sink } = createEngine('client');
    assert.throws(() => ws.close(1000, 'y'.repeat(124)), RangeError);
    assert.equal(ws.closeSent, false);
    assert.equal(sink.written.length, 0);
  });
});
