/**
 * The engine's outgoing side with a compressor (RFC 7692): frames keep their order behind a
 * message being compressed, whatever kind they are, and a failed compression fails the
 * connection (RFC 6455 section 7.1.7, code 1011).
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import { nodePlatform } from '../../src/node/node-platform.js';
import { type Role, WebSocketProtocol } from '../../src/protocol/index.js';
import { parseCloseBody } from '../support/frames.js';
import { Op, RecordingSink } from './helpers.js';
import { reversed, ScriptedCompressor } from './scripted-compressor.js';

class IdleSink extends RecordingSink {
  idleCalls = 0;
  onIdle(): void {
    this.idleCalls++;
  }
}

function engine(role: Role, threshold = 0) {
  const compressor = new ScriptedCompressor(threshold);
  const sink = new IdleSink();
  const ws = new WebSocketProtocol({ role, platform: nodePlatform, compressor }, sink);
  return { ws, sink, compressor };
}

describe('sending behind a compression', () => {
  it('queues every later frame in order (raw, fragments, uncompressed and close) until it is done', () => {
    const { ws, sink, compressor } = engine('server', 10);
    assert.equal(ws.sendText('long enough to compress'), true);
    assert.equal(ws.idle, false);
    ws.sendBinary(Uint8Array.of(1, 2), true); // under the threshold, but must wait
    ws.sendRaw(WebSocketProtocol.encodeFrame(Op.Text, 'pre-encoded'));
    ws.sendFragment('frag-1 ', false, false);
    ws.sendFragment('frag-2', false, true);
    ws.ping('not queued'); // control frames may go between the fragments of a message
    assert.equal(ws.close(1000, 'bye ✓'), true);
    assert.equal(ws.closeSent, true, 'close counts as sent once queued');
    assert.equal(ws.sendText('after close'), false);
    assert.deepEqual(
      sink.frames().map((f) => f.opcode),
      [Op.Ping],
    );

    compressor.compressions.shift()!.finish();
    const frames = sink.frames();
    assert.deepEqual(
      frames.map((f) => [f.opcode, f.fin, f.rsv1]),
      [
        [Op.Ping, true, false],
        [Op.Text, true, true],
        [Op.Binary, true, false],
        [Op.Text, true, false],
        [Op.Text, false, false],
        [Op.Continuation, true, false],
        [Op.Close, true, false],
      ],
    );
    assert.deepEqual(frames[1]!.payload, Buffer.from(reversed('long enough to compress')));
    assert.deepEqual(frames[2]!.payload, Buffer.from([1, 2]));
    assert.equal(frames[3]!.payload.toString(), 'pre-encoded');
    assert.deepEqual(parseCloseBody(frames[6]!.payload), { code: 1000, reason: 'bye ✓' });
    assert.equal(ws.idle, true);
    assert.equal(sink.idleCalls, 1);
  });

  it('copies queued binary data, so the caller may reuse its buffer', () => {
    const { ws, sink, compressor } = engine('client');
    ws.sendBinary(Buffer.from('first'));
    const reused = Buffer.from('second');
    ws.sendBinary(reused);
    reused.fill(0);
    compressor.compressions.shift()!.finish();
    compressor.compressions.shift()!.finish();
    const payloads = sink.frames().map((f) => f.payload);
    assert.deepEqual(payloads, [Buffer.from(reversed('first')), Buffer.from(reversed('second'))]);
  });

  it('compresses text given as a string as its UTF-8 bytes', () => {
    const { ws, compressor } = engine('client');
    ws.sendText('é✓');
    assert.deepEqual(Buffer.from(compressor.compressions[0]!.data), Buffer.from('é✓'));
  });

  it('fails the connection with 1011 when compression fails, and sends the close even if one was queued', () => {
    const { ws, sink, compressor } = engine('server');
    ws.sendText('first');
    ws.close(1000);
    compressor.compressions.shift()!.finish(new Error('out of memory'));
    assert.equal(ws.failed, true);
    assert.equal(sink.errors[0]!.closeCode, 1011);
    assert.match(sink.errors[0]!.message, /compression failed: out of memory/);
    const frames = sink.frames();
    assert.equal(frames.length, 1, 'the queued message and close are dropped');
    assert.equal(frames[0]!.opcode, Op.Close);
    assert.equal(parseCloseBody(frames[0]!.payload).code, 1011);
  });

  it('drops a compression that finishes after the connection failed', () => {
    const { ws, sink, compressor } = engine('server');
    ws.sendText('first');
    ws.abort(1008, 'policy', 'ERR_WS_PROTOCOL');
    compressor.compressions.shift()!.finish();
    assert.deepEqual(
      sink.frames().map((f) => f.opcode),
      [Op.Close],
    );
    assert.equal(sink.idleCalls, 0);
  });

  it('sends a message under the threshold at once when nothing waits', () => {
    const { ws, sink, compressor } = engine('server', 1024);
    ws.sendText('short');
    ws.sendText('x'.repeat(400)); // 400 units could be up to 1200 bytes: measured, 400
    ws.sendText('€'.repeat(400)); // measured: 1200 bytes, compressed
    assert.equal(compressor.compressions.length, 1);
    assert.deepEqual(
      sink.frames().map((f) => [f.opcode, f.rsv1]),
      [
        [Op.Text, false],
        [Op.Text, false],
      ],
    );
    ws.sendText('long'.repeat(300), false); // compress: false, but it waits its turn
    compressor.compressions.shift()!.finish();
    assert.deepEqual(
      sink.frames().map((f) => [f.opcode, f.rsv1]),
      [
        [Op.Text, false],
        [Op.Text, false],
        [Op.Text, true],
        [Op.Text, false],
      ],
    );
  });
});
