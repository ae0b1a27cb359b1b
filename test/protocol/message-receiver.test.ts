/**
 * The engine's incoming side with a compressor (RFC 7692): a compressed message is inflated
 * while what arrives behind it waits in order, the transport is paused when too much waits, text
 * is validated as it inflates (RFC 7692 section 8, RFC 6455 section 8.1), and a failed
 * decompression fails the connection.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import { ProtocolError } from '../../src/errors.js';
import { nodePlatform } from '../../src/node/node-platform.js';
import { type Role, WebSocketProtocol } from '../../src/protocol/index.js';
import { closeBody, parseCloseBody } from '../support/frames.js';
import { Op, peerFrame, RecordingSink } from './helpers.js';
import { reversed, ScriptedCompressor } from './scripted-compressor.js';

class FlowSink extends RecordingSink {
  flow: string[] = [];
  pause(): void {
    this.flow.push('pause');
  }
  resume(): void {
    this.flow.push('resume');
  }
}

function engine(role: Role, maxPayload?: number) {
  const compressor = new ScriptedCompressor();
  const sink = new FlowSink();
  const ws = new WebSocketProtocol(
    { role, platform: nodePlatform, compressor, ...(maxPayload ? { maxPayload } : {}) },
    sink,
  );
  return { ws, sink, compressor };
}

/** A compressed message as the peer sends it: RSV1 set, this compressor's bytes. */
function compressed(role: Role, opcode: number, text: string): Buffer {
  return peerFrame(role, { opcode, rsv1: true, payload: reversed(text) });
}

for (const role of ['server', 'client'] as const) {
  describe(`receiving behind a decompression (${role})`, () => {
    it('delivers what arrived behind a compressed message after it, in order', () => {
      const { ws, sink, compressor } = engine(role, 1000);
      ws.receive(compressed(role, Op.Text, 'inflated ✓'));
      ws.receive(peerFrame(role, { opcode: Op.Binary, payload: 'plain' }));
      ws.receive(peerFrame(role, { opcode: Op.Ping, payload: 'p' }));
      ws.receive(peerFrame(role, { opcode: Op.Text, payload: 'text' }));
      assert.deepEqual(sink.events, [], 'everything waits for the inflation');
      assert.equal(compressor.decompressions[0]!.maxBytes, 1000, 'bounded by maxPayload');
      compressor.decompressions.shift()!.finish();
      assert.deepEqual(sink.events, [
        { type: 'message', data: 'inflated ✓', binary: false },
        { type: 'message', data: Buffer.from('plain'), binary: true },
        { type: 'ping', data: Buffer.from('p') },
        { type: 'message', data: 'text', binary: false },
      ]);
      assert.deepEqual(
        sink.frames().map((f) => f.opcode),
        [Op.Pong],
        'the ping is answered when its turn comes',
      );
    });

    it('waits again behind a second compressed message in the backlog', () => {
      const { ws, sink, compressor } = engine(role);
      ws.receive(compressed(role, Op.Binary, 'one'));
      ws.receive(compressed(role, Op.Binary, 'two'));
      ws.receive(peerFrame(role, { opcode: Op.Text, payload: 'three' }));
      compressor.decompressions.shift()!.finish();
      assert.equal(sink.events.length, 1);
      compressor.decompressions.shift()!.finish();
      assert.deepEqual(
        sink.events.map((e) => (e.type === 'message' ? e.data.toString() : e.type)),
        ['one', 'two', 'three'],
      );
    });

    it('pauses the transport when 64 frames wait, and resumes it once they are delivered', () => {
      const { ws, sink, compressor } = engine(role);
      ws.receive(compressed(role, Op.Text, 'slow'));
      for (let i = 0; i < 70; i++) ws.receive(peerFrame(role, { opcode: Op.Pong, payload: '' }));
      assert.deepEqual(sink.flow, ['pause']);
      compressor.decompressions.shift()!.finish();
      assert.deepEqual(sink.flow, ['pause', 'resume']);
      assert.equal(sink.events.length, 71);
    });

    it('fails with the decompressor’s error, and ignores what it reports after that', () => {
      const { ws, sink, compressor } = engine(role);
      ws.receive(compressed(role, Op.Binary, 'big'));
      ws.receive(compressed(role, Op.Binary, 'second'));
      compressor.decompressions.shift()!.finish({
        error: new ProtocolError(1009, 'inflated message too big', 'ERR_WS_MESSAGE_TOO_BIG'),
      });
      assert.equal(ws.failed, true);
      assert.deepEqual(sink.events, [
        { type: 'error', closeCode: 1009, code: 'ERR_WS_MESSAGE_TOO_BIG' },
      ]);
      assert.deepEqual(parseCloseBody(sink.frames()[0]!.payload), {
        code: 1009,
        reason: 'message too big',
      });
      assert.equal(compressor.decompressions.length, 0, 'the backlog was dropped');
    });

    it('refuses compressed text that is not UTF-8 as it inflates (1007)', () => {
      const { ws, sink, compressor } = engine(role);
      ws.receive(compressed(role, Op.Text, 'x'));
      compressor.decompressions
        .shift()!
        .finish({ pieces: [Buffer.from('ok '), Uint8Array.of(0xff)] });
      assert.deepEqual(sink.events, [
        { type: 'error', closeCode: 1007, code: 'ERR_WS_INVALID_UTF8' },
      ]);
      assert.deepEqual(parseCloseBody(sink.frames()[0]!.payload), {
        code: 1007,
        reason: 'invalid UTF-8',
      });
    });

    it('refuses compressed text whose last piece ends inside a UTF-8 sequence (1007)', () => {
      const { ws, sink, compressor } = engine(role);
      ws.receive(compressed(role, Op.Text, 'x'));
      // "é" is C3 A9: the inflated text stops after its first byte.
      compressor.decompressions
        .shift()!
        .finish({ pieces: [Buffer.from('caf'), Uint8Array.of(0xc3)] });
      assert.equal(sink.errors.length, 1);
      assert.equal(sink.errors[0]!.closeCode, 1007);
      assert.match(sink.errors[0]!.message, /ends inside a UTF-8 sequence/);
    });

    it('accepts compressed text cut inside a code point between pieces', () => {
      const { ws, sink, compressor } = engine(role);
      ws.receive(compressed(role, Op.Text, 'x'));
      compressor.decompressions
        .shift()!
        .finish({ pieces: [Uint8Array.of(0x63, 0xc3), Uint8Array.of(0xa9)] });
      assert.deepEqual(sink.events, [{ type: 'message', data: 'cé', binary: false }]);
    });

    it('drops an inflated message that completes after the connection failed', () => {
      const { ws, sink, compressor } = engine(role);
      ws.receive(compressed(role, Op.Binary, 'late'));
      ws.abort(1001, 'going away', 'ERR_WS_PROTOCOL');
      compressor.decompressions.shift()!.finish();
      assert.deepEqual(sink.events, [{ type: 'error', closeCode: 1001, code: 'ERR_WS_PROTOCOL' }]);
    });

    it('answers a close that waited behind a decompression', () => {
      const { ws, sink, compressor } = engine(role);
      ws.receive(compressed(role, Op.Binary, 'msg'));
      ws.receive(peerFrame(role, { opcode: Op.Close, payload: closeBody(1000, 'bye') }));
      assert.equal(ws.closeReceived, false, 'the close waits its turn');
      compressor.decompressions.shift()!.finish();
      assert.deepEqual(sink.events, [
        { type: 'message', data: Buffer.from('msg'), binary: true },
        { type: 'close', code: 1000, reason: 'bye' },
      ]);
      assert.deepEqual(ws.closeResult, { code: 1000, reason: 'bye', wasClean: true });
    });
  });
}
