/** RFC 6455 sections 5.1 and 5.3: who masks, and with what. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { applyMask } from '../../../src/protocol/index.js';
import { assertFailed } from '../../support/assert-failed.js';
import { closeBody, frame, parseCloseBody } from '../../support/frames.js';
import { createEngine, feedCut, Op, platforms } from '../helpers.js';

describe('5.1 a server refuses unmasked frames', () => {
  for (const [name, spec] of [
    ['text', { opcode: Op.Text, payload: 'hello' }],
    ['binary', { opcode: Op.Binary, payload: Buffer.from([1, 2, 3]) }],
    ['ping', { opcode: Op.Ping, payload: 'p' }],
    ['close', { opcode: Op.Close, payload: closeBody(1000) }],
  ] as const) {
    it(`unmasked ${name} frame fails with 1002`, () => {
      const engine = createEngine('server');
      engine.ws.receive(frame({ ...spec, mask: false }));
      assertFailed(engine, 1002);
      assert.equal(engine.sink.errors[0]!.message, 'client sent an unmasked frame');
    });
  }

  it('an unmasked continuation in a masked message fails with 1002', () => {
    const engine = createEngine('server');
    engine.ws.receive(frame({ opcode: Op.Text, fin: false, payload: 'a', mask: true }));
    engine.ws.receive(frame({ opcode: Op.Continuation, payload: 'b', mask: false }));
    assertFailed(engine, 1002);
  });

  it('accepts a masked frame whose key is all zeros', () => {
    const engine = createEngine('server');
    engine.ws.receive(frame({ opcode: Op.Text, payload: 'zero key', mask: new Uint8Array(4) }));
    assert.deepEqual(engine.sink.events, [{ type: 'message', data: 'zero key', binary: false }]);
  });
});

describe('5.1 a client refuses masked frames', () => {
  for (const [name, spec] of [
    ['text', { opcode: Op.Text, payload: 'hello' }],
    ['binary', { opcode: Op.Binary, payload: Buffer.from([1, 2, 3]) }],
    ['pong', { opcode: Op.Pong, payload: 'p' }],
    ['close', { opcode: Op.Close, payload: closeBody(1000) }],
  ] as const) {
    it(`masked ${name} frame fails with 1002`, () => {
      const engine = createEngine('client');
      engine.ws.receive(frame({ ...spec, mask: Uint8Array.of(1, 2, 3, 4) }));
      assertFailed(engine, 1002);
      assert.equal(engine.sink.errors[0]!.message, 'server sent a masked frame');
    });
  }
});

for (const [platformName, platform] of platforms) {
  describe(`5.3 client frames are masked (${platformName} platform)`, () => {
    it('masks every kind of frame with a key that unmasks to the original payload', () => {
      const { ws, sink } = createEngine('client', { platform });
      const binary = randomBytes(300);
      ws.sendText('héllo wörld 😀');
      ws.sendBinary(binary);
      ws.sendText(new TextEncoder().encode('bytes as text'));
      ws.ping('ping!');
      ws.pong(Uint8Array.of(9, 8, 7));
      ws.sendFragment('frag', false, false);
      ws.sendFragment('ment', false, true);
      ws.close(1000, 'bye');
      const frames = sink.frames();
      assert.deepEqual(
        frames.map((f) => [f.opcode, f.fin]),
        [
          [Op.Text, true],
          [Op.Binary, true],
          [Op.Text, true],
          [Op.Ping, true],
          [Op.Pong, true],
          [Op.Text, false],
          [Op.Continuation, true],
          [Op.Close, true],
        ],
      );
      for (const f of frames) {
        assert.equal(f.masked, true);
        assert.equal(f.maskKey!.length, 4);
        assert.equal(f.rsv1 || f.rsv2 || f.rsv3, false);
      }
      assert.equal(frames[0]!.payload.toString(), 'héllo wörld 😀');
      assert.deepEqual(frames[1]!.payload, binary);
      assert.notDeepEqual(
        frames[1]!.wirePayload,
        binary,
        'the wire bytes are not the plain payload',
      );
      assert.equal(frames[2]!.payload.toString(), 'bytes as text');
      assert.equal(frames[3]!.payload.toString(), 'ping!');
      assert.deepEqual([...frames[4]!.payload], [9, 8, 7]);
      assert.equal(frames[5]!.payload.toString() + frames[6]!.payload.toString(), 'fragment');
      assert.deepEqual(parseCloseBody(frames[7]!.payload), { code: 1000, reason: 'bye' });
    });

    it('uses a different key for each frame', () => {
      const { ws, sink } = createEngine('client', { platform });
      for (let i = 0; i < 64; i++) ws.sendText('same');
      const keys = sink.frames().map((f) => f.maskKey!.toString('hex'));
      assert.equal(new Set(keys).size, keys.length);
      const wires = sink.frames().map((f) => f.wirePayload.toString('hex'));
      assert.ok(new Set(wires).size > 1, 'the same text looks different on the wire');
    });

    it('keys keep changing past the 8 KiB key pool refill', () => {
      const { ws, sink } = createEngine('client', { platform });
      for (let i = 0; i < 2100; i++) ws.sendBinary(Uint8Array.of(i & 0xff));
      const frames = sink.frames();
      assert.equal(frames.length, 2100);
      frames.forEach((f, i) => {
        assert.equal(f.payload[0], i & 0xff);
      });
      const keys = new Set(frames.map((f) => f.maskKey!.toString('hex')));
      assert.ok(keys.size > 2090, `only ${keys.size} distinct keys in 2100 frames`);
    });

    it('masks large payloads (aligned and unaligned, text and binary) correctly', () => {
      const { ws, sink } = createEngine('client', { platform });
      const big = randomBytes(70_001);
      const source = Buffer.concat([Buffer.alloc(3), big]).subarray(3); // odd byteOffset
      const text = 'ab€'.repeat(20_000);
      ws.sendBinary(big);
      ws.sendBinary(source);
      ws.sendText(text);
      const [a, b, c] = sink.frames();
      assert.deepEqual(a!.payload, big);
      assert.deepEqual(b!.payload, big);
      assert.equal(c!.payload.toString(), text);
      assert.deepEqual(source, big, 'the caller buffer is not modified');
    });

    it('a server engine reads what a client engine writes, however it is cut', () => {
      const client = createEngine('client', { platform });
      const server = createEngine('server', { platform });
      const payloads = [randomBytes(10), randomBytes(200), randomBytes(70_000)];
      for (const p of payloads) client.ws.sendBinary(p);
      const wire = client.sink.written;
      feedCut(server.ws, wire, [1, 5, 17, 300, 301, 40_000, wire.length - 1]);
      assert.deepEqual(
        server.sink.events,
        payloads.map((data) => ({ type: 'message', data, binary: true })),
      );
    });
  });

  describe(`5.1 server frames are not masked (${platformName} platform)`, () => {
    it('writes every kind of frame unmasked', () => {
      const { ws, sink } = createEngine('server', { platform });
      const big = randomBytes(40_000);
      ws.sendText('hi');
      ws.sendBinary(big);
      ws.ping('p');
      ws.pong('q');
      ws.sendFragment(Uint8Array.of(1), true, false);
      ws.sendFragment(Uint8Array.of(2), true, true);
      ws.close(1001);
      const frames = sink.frames();
      assert.equal(frames.length, 7);
      for (const f of frames) {
        assert.equal(f.masked, false);
        assert.deepEqual(f.payload, f.wirePayload);
      }
      assert.equal(frames[0]!.payload.toString(), 'hi');
      assert.deepEqual(frames[1]!.payload, big);
      assert.deepEqual(parseCloseBody(frames[6]!.payload), { code: 1001, reason: '' });
    });
  });
}

describe('applyMask', () => {
  function reference(data: Uint8Array, key: Uint8Array): Uint8Array {
    return Uint8Array.from(data, (b, i) => b ^ key[i & 3]!);
  }

  it('matches a byte-by-byte reference for any length, offset and key, copying or in place', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.uint8Array({ minLength: 4, maxLength: 4 }),
        fc.nat(7),
        fc.nat(7),
        (data, key, srcPad, dstPad) => {
          const expected = reference(data, key);
          const source = new Uint8Array(srcPad + data.length);
          source.set(data, srcPad);
          const target = new Uint8Array(dstPad + data.length);
          const maskBuf = new Uint8Array(6);
          maskBuf.set(key, 2);
          applyMask(source, srcPad, target, dstPad, data.length, maskBuf, 2);
          assert.deepEqual(target.subarray(dstPad), expected);
          assert.deepEqual(source.subarray(srcPad), data, 'the source is untouched');
          applyMask(source, srcPad, source, srcPad, data.length, key, 0);
          assert.deepEqual(source.subarray(srcPad), expected);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('masking twice restores the data (aligned 32-bit path)', () => {
    const data = randomBytes(4096);
    const copy = Uint8Array.from(data);
    const key = Uint8Array.of(0xde, 0xad, 0xbe, 0xef);
    applyMask(copy, 0, copy, 0, copy.length, key, 0);
    assert.deepEqual(copy, reference(data, key));
    applyMask(copy, 0, copy, 0, copy.length, key, 0);
    assert.deepEqual(Buffer.from(copy), data);
  });
});
