/** What the engine writes: data frames, pre-encoded broadcast frames, large payloads. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { nodePlatform } from '../../../src/node/node-platform.js';
import { Opcode, WebSocketProtocol } from '../../../src/protocol/index.js';
import { decodeFrames } from '../../support/frames.js';
import { createEngine, Op, platforms } from '../helpers.js';

for (const [platformName, platform] of platforms) {
  describe(`sending (${platformName} platform)`, () => {
    it('a server writes small and large text and binary messages that decode back', () => {
      const { ws, sink } = createEngine('server', { platform });
      const small = randomBytes(100);
      const large = randomBytes(100_000);
      const text = '€'.repeat(40_000);
      ws.sendBinary(small);
      ws.sendBinary(large);
      ws.sendText(text);
      ws.sendBinary('string as binary');
      const frames = sink.frames();
      assert.deepEqual(
        frames.map((f) => [f.opcode, f.fin, f.masked]),
        [
          [Op.Binary, true, false],
          [Op.Binary, true, false],
          [Op.Text, true, false],
          [Op.Binary, true, false],
        ],
      );
      assert.deepEqual(frames[0]!.payload, small);
      assert.deepEqual(frames[1]!.payload, large);
      assert.equal(frames[2]!.payload.toString(), text);
      assert.equal(frames[3]!.payload.toString(), 'string as binary');
      assert.equal(sink.writeCalls, 4, 'one write per frame');
    });

    it('a server writes binary payloads on both sides of the size it stops copying at', () => {
      const { ws, sink } = createEngine('server', { platform });
      const lengths = [4095, 4096, 4097, 16 * 1024, 40_000];
      const payloads = lengths.map((n) => randomBytes(n));
      for (const payload of payloads) ws.sendBinary(payload);
      // A view into a larger buffer sends only its own bytes.
      const backing = randomBytes(20_000);
      ws.sendBinary(backing.subarray(1000, 17_384));
      const frames = sink.frames();
      assert.deepEqual(
        frames.map((f) => f.payload),
        [...payloads, backing.subarray(1000, 17_384)],
      );
      assert.equal(sink.writeCalls, lengths.length + 1, 'one write per frame');
    });

    it('a client engine and a server engine talk to each other', () => {
      const client = createEngine('client', { platform });
      const server = createEngine('server', { platform });
      client.ws.sendText('hello server');
      client.ws.ping('p1');
      server.ws.receive(client.sink.written);
      server.ws.sendText('hello client');
      client.ws.receive(server.sink.written);
      assert.deepEqual(server.sink.events, [
        { type: 'message', data: 'hello server', binary: false },
        { type: 'ping', data: Buffer.from('p1') },
      ]);
      assert.deepEqual(client.sink.events, [
        { type: 'pong', data: Buffer.from('p1') },
        { type: 'message', data: 'hello client', binary: false },
      ]);

      // Closing handshake, client first.
      client.sink.clearWritten();
      server.sink.clearWritten();
      client.ws.close(1000, 'done');
      server.ws.receive(client.sink.written);
      client.ws.receive(server.sink.written);
      assert.deepEqual(server.sink.events.at(-1), { type: 'close', code: 1000, reason: 'done' });
      assert.deepEqual(client.sink.events.at(-1), { type: 'close', code: 1000, reason: '' });
      assert.equal(client.ws.done && server.ws.done, true);
    });
  });
}

describe('encodeFrame and sendRaw', () => {
  it('encodeFrame builds one unmasked final frame that a client reads', () => {
    const text = WebSocketProtocol.encodeFrame(Opcode.Text, 'broadcast ✓', nodePlatform);
    const bin = WebSocketProtocol.encodeFrame(Opcode.Binary, Uint8Array.of(1, 2, 3));
    const big = randomBytes(70_000);
    const large = WebSocketProtocol.encodeFrame(Opcode.Binary, big);
    const frames = decodeFrames(Buffer.concat([text, bin, large]));
    assert.deepEqual(
      frames.map((f) => [f.opcode, f.fin, f.masked, f.lengthBits]),
      [
        [Op.Text, true, false, 7],
        [Op.Binary, true, false, 7],
        [Op.Binary, true, false, 64],
      ],
    );
    const client = createEngine('client');
    client.ws.receive(Buffer.concat([text, bin, large]));
    assert.deepEqual(client.sink.events, [
      { type: 'message', data: 'broadcast ✓', binary: false },
      { type: 'message', data: Buffer.from([1, 2, 3]), binary: true },
      { type: 'message', data: big, binary: true },
    ]);
  });

  it('a server writes the pre-encoded frame as is', () => {
    const frameBytes = WebSocketProtocol.encodeFrame(Opcode.Text, 'hi');
    const servers = [createEngine('server'), createEngine('server')];
    for (const { ws } of servers) assert.equal(ws.sendRaw(frameBytes), true);
    for (const { sink } of servers) assert.deepEqual(sink.written, Buffer.from(frameBytes));
  });

  it('a client may not send pre-encoded (unmasked) frames', () => {
    const { ws, sink } = createEngine('client');
    assert.throws(() => ws.sendRaw(WebSocketProtocol.encodeFrame(Opcode.Text, 'hi')), TypeError);
    assert.equal(sink.written.length, 0);
  });

  it('sendRaw never slips a frame into a fragmented message, and returns false after close', () => {
    const { ws, sink } = createEngine('server');
    const frameBytes = WebSocketProtocol.encodeFrame(Opcode.Text, 'hi');
    ws.sendFragment('a', false, false);
    // Refused either by returning false or by throwing a TypeError; never written.
    let sent: boolean | undefined;
    try {
      sent = ws.sendRaw(frameBytes);
    } catch (error) {
      assert.ok(error instanceof TypeError);
    }
    assert.notEqual(sent, true);
    ws.sendFragment('b', false, true);
    ws.close(1000);
    assert.equal(ws.sendRaw(frameBytes), false);
    assert.deepEqual(
      sink.frames().map((f) => f.opcode),
      [Op.Text, Op.Continuation, Op.Close],
    );
  });
});
