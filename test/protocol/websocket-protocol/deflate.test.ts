/**
 * The sans-I/O engine with permessage-deflate (RFC 7692): a client-role and a server-role
 * WebSocketProtocol, each with a NodeDeflateCompressor built from a negotiated agreement, linked
 * in memory. Frames written are decoded to check RSV1, ordering and context takeover; crafted
 * frames check reassembly and the failures the extension adds.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, it } from 'node:test';
import { constants, inflateRawSync } from 'node:zlib';
import type { ProtocolError } from '../../../src/errors.js';
import { WebSocketServer } from '../../../src/index.js';
import { NodeDeflateCompressor } from '../../../src/node/deflate/zlib-compressor.js';
import {
  acceptDeflateOffer,
  type DeflateAgreement,
} from '../../../src/protocol/extensions/permessage-deflate.js';
import { assertFailed } from '../../support/assert-failed.js';
import {
  closeCodeOf,
  createPair,
  createSide,
  type DecodedFrame,
  deflateMessage,
  jsonLikeText,
  Op,
  type Pair,
  peerFrame,
  SharedDeflater,
  T,
  TAIL,
} from '../../support/deflate.js';

function inflate(payload: Buffer, windowBits = 15): Buffer {
  return inflateRawSync(Buffer.concat([payload, TAIL]), {
    windowBits,
    finishFlush: constants.Z_SYNC_FLUSH,
  });
}

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const fn of cleanups.splice(0)) fn();
});

function pair(options: Parameters<typeof createPair>[0] = {}): Pair {
  const p = createPair(options);
  cleanups.push(() => p.close());
  return p;
}

function side(role: 'client' | 'server', agreement: DeflateAgreement | null, maxPayload?: number) {
  const s = createSide(role, agreement, {}, maxPayload);
  cleanups.push(() => s.compressor?.close());
  return s;
}

function defaultAgreement(changes: Partial<DeflateAgreement> = {}): DeflateAgreement {
  return {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: 15,
    clientMaxWindowBits: 15,
    ...changes,
  };
}

function compress(c: NodeDeflateCompressor, data: Uint8Array): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    c.compress(data, (error, result) => {
      if (error || !result) reject(error ?? new Error('no result'));
      else resolve(Buffer.from(result));
    }),
  );
}

function decompress(
  c: NodeDeflateCompressor,
  data: Uint8Array,
  maxBytes = 0,
): Promise<{ error: ProtocolError | null; result: Buffer | null }> {
  return new Promise((resolve) =>
    c.decompress(data, maxBytes, (error, result) =>
      resolve({ error, result: result ? Buffer.from(result) : null }),
    ),
  );
}

/** Splits `data` into `count` non-empty parts. */
function split(data: Buffer, count: number): Buffer[] {
  const size = Math.ceil(data.length / count);
  const parts: Buffer[] = [];
  for (let i = 0; i < count; i++) parts.push(data.subarray(i * size, (i + 1) * size));
  assert.ok(parts.every((p) => p.length > 0));
  return parts;
}

/** The three frames of a compressed message split in fragments, RSV1 on the first only. */
function compressedFragments(role: 'client' | 'server', text: string): Buffer[] {
  const parts = split(deflateMessage(text), 3);
  return [
    peerFrame(role, { opcode: Op.Text, fin: false, rsv1: true, payload: parts[0]! }),
    peerFrame(role, { opcode: Op.Continuation, fin: false, payload: parts[1]! }),
    peerFrame(role, { opcode: Op.Continuation, fin: true, payload: parts[2]! }),
  ];
}

function assertRsv1OnlyOnFirstFrames(frames: readonly DecodedFrame[]): void {
  for (const [i, f] of frames.entries()) {
    assert.equal(f.rsv2 || f.rsv3, false, `frame ${i}: RSV2/RSV3 are never set`);
    if (f.opcode === Op.Continuation || f.opcode >= Op.Close)
      assert.equal(f.rsv1, false, `frame ${i} (opcode ${f.opcode}) must not carry RSV1`);
  }
}

describe('engine: sending compressed messages', () => {
  it('a message at or above the threshold goes out as one frame with RSV1 and FIN', {
    ...T,
  }, async () => {
    const p = pair();
    const text = jsonLikeText(8 * 1024);
    p.client.ws.sendText(text);
    await p.client.sink.untilFrames(1);
    const [f] = p.client.sink.frames();
    assert.ok(f);
    assert.equal(f.opcode, Op.Text);
    assert.equal(f.fin, true);
    assert.equal(f.masked, true);
    assert.equal(f.rsv1, true, 'RSV1 marks the compressed message');
    assert.ok(f.payload.length < Buffer.byteLength(text) / 2, 'the payload is compressed');
    assert.equal(inflate(f.payload).toString(), text);
    await p.server.sink.untilMessages(1);
    assert.equal(p.server.sink.messages()[0]!.data.toString(), text);

    const binary = Buffer.alloc(20_000, 'abcdefgh');
    p.server.ws.sendBinary(binary);
    await p.server.sink.untilFrames(1);
    const [g] = p.server.sink.frames();
    assert.ok(g);
    assert.deepEqual([g.opcode, g.fin, g.rsv1, g.masked], [Op.Binary, true, true, false]);
    assert.deepEqual(inflate(g.payload), binary);
    await p.client.sink.untilMessages(1);
    assert.deepEqual(p.client.sink.messages()[0]!.data, binary);
  });

  it('RSV1 is never set on continuation or control frames', T, async () => {
    const p = pair({ client: { threshold: 0 }, server: { threshold: 0 } });
    const c = p.client.ws;
    c.sendText(jsonLikeText(4096));
    c.sendFragment('fragment one '.repeat(200), false, false);
    c.ping('between fragments');
    c.sendFragment('fragment two '.repeat(200), false, false);
    c.sendFragment('fragment three '.repeat(200), false, true);
    c.sendBinary(Buffer.alloc(5000, 7));
    c.pong('unsolicited');
    await p.server.sink.untilMessages(3);
    await p.server.sink.until(
      () => p.server.sink.events.some((e) => e.type === 'pong'),
      'the unsolicited pong',
    );
    const frames = p.client.sink.frames();
    // Control frames may overtake a message still being compressed; data frames keep order.
    assert.deepEqual(
      frames.filter((f) => f.opcode < Op.Close).map((f) => f.opcode),
      [Op.Text, Op.Text, Op.Continuation, Op.Continuation, Op.Binary],
    );
    assert.deepEqual(
      frames
        .filter((f) => f.opcode >= Op.Close)
        .map((f) => f.opcode)
        .sort((a, b) => a - b),
      [Op.Ping, Op.Pong],
    );
    assertRsv1OnlyOnFirstFrames(frames);
    const got = p.server.sink.messages().map((m) => m.data.toString());
    assert.equal(got[0], jsonLikeText(4096));
    assert.equal(
      got[1],
      'fragment one '.repeat(200) + 'fragment two '.repeat(200) + 'fragment three '.repeat(200),
    );
    assert.deepEqual(p.server.sink.messages()[2]!.data, Buffer.alloc(5000, 7));
    // The server answered the ping; its pong is not compressed either.
    await p.server.sink.untilFrames(1);
    assertRsv1OnlyOnFirstFrames(p.server.sink.frames());
  });

  it('control frames are sent uncompressed, byte for byte, even with threshold 0', T, async () => {
    const p = pair({ client: { threshold: 0 }, server: { threshold: 0 } });
    const ping = Buffer.alloc(125, 'a');
    const pong = Buffer.alloc(125, 'b');
    const reason = 'r'.repeat(100);
    p.client.ws.ping(ping);
    p.client.ws.pong(pong);
    p.client.ws.close(1000, reason);
    await p.client.sink.untilFrames(3);
    const frames = p.client.sink.frames();
    assert.deepEqual(
      frames.map((f) => [f.opcode, f.rsv1, f.payload.length]),
      [
        [Op.Ping, false, 125],
        [Op.Pong, false, 125],
        [Op.Close, false, 102],
      ],
    );
    assert.deepEqual(frames[0]!.payload, ping);
    assert.deepEqual(frames[1]!.payload, pong);
    assert.equal(closeCodeOf(frames[2]!.payload), 1000);
    assert.equal(frames[2]!.payload.subarray(2).toString(), reason);
    // The server's automatic answers (pong, close echo) are not compressed either.
    await p.server.sink.untilFrames(2);
    const answers = p.server.sink.frames();
    assert.deepEqual(
      answers.map((f) => [f.opcode, f.rsv1]),
      [
        [Op.Pong, false],
        [Op.Close, false],
      ],
    );
    assert.deepEqual(answers[0]!.payload, ping);
    assert.deepEqual(p.server.sink.events.at(-1), { type: 'close', code: 1000, reason });
  });

  it('messages below the threshold are sent uncompressed (RSV1 clear)', T, async () => {
    const p = pair({ client: { threshold: 100 } });
    const small = 'y'.repeat(99);
    p.client.ws.sendText(small);
    // Default threshold on the server: 1024 bytes.
    const below = Buffer.alloc(1023, 'z');
    p.server.ws.sendBinary(below);
    await p.client.sink.untilFrames(1);
    await p.server.sink.untilFrames(1);
    const [c] = p.client.sink.frames();
    const [s] = p.server.sink.frames();
    assert.deepEqual([c!.opcode, c!.rsv1, c!.payload.toString()], [Op.Text, false, small]);
    assert.deepEqual([s!.opcode, s!.rsv1], [Op.Binary, false]);
    assert.deepEqual(s!.payload, below);
    await p.server.sink.untilMessages(1);
    await p.client.sink.untilMessages(1);
    assert.equal(p.server.sink.messages()[0]!.data.toString(), small);
    assert.deepEqual(p.client.sink.messages()[0]!.data, below);
  });

  it('a message of exactly the threshold is compressed; threshold 0 compresses everything', {
    ...T,
  }, async () => {
    const p = pair({ client: { threshold: 100 }, server: { threshold: 0 } });
    p.client.ws.sendText('x'.repeat(100));
    p.server.ws.sendText('a');
    await p.client.sink.untilFrames(1);
    await p.server.sink.untilFrames(1);
    const [c] = p.client.sink.frames();
    const [s] = p.server.sink.frames();
    assert.equal(c!.rsv1, true);
    assert.equal(inflate(c!.payload).toString(), 'x'.repeat(100));
    assert.equal(s!.rsv1, true);
    assert.equal(inflate(s!.payload).toString(), 'a');
  });

  it('compresses with the agreed window size', { ...T }, async () => {
    const p = pair({ client: { clientMaxWindowBits: 9 }, server: { serverMaxWindowBits: 9 } });
    assert.equal(p.agreed.client.clientMaxWindowBits, 9);
    assert.equal(p.agreed.server.serverMaxWindowBits, 9);
    // Repeats 1000 bytes apart: a 512-byte window cannot reach them, a larger one would.
    const unit = randomBytes(1000);
    const data = Buffer.concat([unit, unit, unit, unit]);
    p.client.ws.sendBinary(data);
    p.server.ws.sendBinary(data);
    await p.client.sink.untilFrames(1);
    await p.server.sink.untilFrames(1);
    for (const f of [p.client.sink.frames()[0]!, p.server.sink.frames()[0]!]) {
      assert.equal(f.rsv1, true);
      assert.deepEqual(inflate(f.payload, 9), data, 'a 512-byte window inflates it');
    }
  });
});

describe('engine: order of outgoing frames', () => {
  it('a large message, a small one and close() arrive in order', T, async () => {
    const p = pair();
    const big = Buffer.alloc(1024 * 1024, 'compressible ');
    p.client.ws.sendBinary(big);
    p.client.ws.sendText('small');
    assert.equal(p.client.ws.close(1000, 'bye'), true);
    assert.equal(p.client.ws.closeSent, true, 'close() counts as sent at once');
    assert.equal(p.client.ws.sendText('too late'), false, 'nothing is sent after close()');
    await p.server.sink.untilEvents(3);
    const events = p.server.sink.events;
    assert.equal(events[0]!.type, 'message');
    assert.deepEqual(events[0]!.type === 'message' && events[0]!.data.equals(big), true);
    assert.deepEqual(events[1], { type: 'message', data: Buffer.from('small'), binary: false });
    assert.deepEqual(events[2], { type: 'close', code: 1000, reason: 'bye' });
    await p.client.sink.untilFrames(3);
    assert.deepEqual(
      p.client.sink.frames().map((f) => f.opcode),
      [Op.Binary, Op.Text, Op.Close],
    );
    // The closing handshake completes.
    await p.client.sink.until(() => p.client.ws.done, 'the close echo');
    assert.deepEqual(p.client.sink.events.at(-1), { type: 'close', code: 1000, reason: '' });
  });

  it('the close queued behind a compression is written after it (idle/onIdle)', {
    ...T,
  }, async () => {
    const p = pair();
    const big = Buffer.alloc(1024 * 1024, 'compressible ');
    p.client.ws.sendBinary(big);
    assert.equal(p.client.ws.idle, false, 'the message is being compressed');
    p.client.ws.sendText('small');
    p.client.ws.close(1000);
    assert.equal(p.client.ws.closeSent, true);
    assert.equal(p.client.sink.chunks.length, 0, 'nothing may overtake the compressed message');
    await p.client.sink.until(() => p.client.sink.idleCalls > 0, 'onIdle');
    assert.equal(p.client.ws.idle, true);
    const frames = p.client.sink.frames();
    assert.deepEqual(
      frames.map((f) => [f.opcode, f.rsv1]),
      [
        [Op.Binary, true],
        [Op.Text, false],
        [Op.Close, false],
      ],
    );
    assert.ok(frames[0]!.payload.length < 64 * 1024);
    assert.deepEqual(inflate(frames[0]!.payload), big);
  });

  it('a fragmented message sent right after a compressible one keeps its place', T, async () => {
    const p = pair();
    const big = jsonLikeText(64 * 1024);
    p.client.ws.sendText(big);
    p.client.ws.sendFragment('first half, ', false, false);
    p.client.ws.sendFragment('second half', false, true);
    await p.server.sink.untilMessages(2);
    const got = p.server.sink.messages().map((m) => m.data.toString());
    assert.deepEqual(got, [big, 'first half, second half']);
  });

  it('many messages of mixed sizes arrive in order both ways', T, async () => {
    const p = pair({ client: { threshold: 64 }, server: { threshold: 64 } });
    const sent: string[] = [];
    for (let i = 0; i < 300; i++) sent.push(`${i}:`.padEnd((i * 37) % 3000, 'abc'));
    for (const m of sent) {
      p.client.ws.sendText(m);
      p.server.ws.sendText(m);
    }
    await p.server.sink.untilMessages(sent.length);
    await p.client.sink.untilMessages(sent.length);
    assert.deepEqual(
      p.server.sink.messages().map((m) => m.data.toString()),
      sent,
    );
    assert.deepEqual(
      p.client.sink.messages().map((m) => m.data.toString()),
      sent,
    );
  });
});

describe('engine: receiving compressed messages', () => {
  for (const role of ['server', 'client'] as const) {
    it(`a compressed message in three fragments is reassembled (${role})`, T, async () => {
      const s = side(role, defaultAgreement());
      const text = jsonLikeText(6000);
      for (const f of compressedFragments(role, text)) s.ws.receive(f);
      await s.sink.untilMessages(1);
      assert.deepEqual(s.sink.events, [
        { type: 'message', data: Buffer.from(text), binary: false },
      ]);
    });
  }

  it(
    'a ping between the compressed fragments is answered and the message still arrives',
    T,
    async () => {
      const s = side('server', defaultAgreement());
      const text = jsonLikeText(3000);
      const [a, b, c] = compressedFragments('server', text);
      s.ws.receive(
        Buffer.concat([a!, b!, peerFrame('server', { opcode: Op.Ping, payload: 'hi' }), c!]),
      );
      await s.sink.untilMessages(1);
      assert.deepEqual(
        s.sink.events.map((e) => e.type),
        ['ping', 'message'],
      );
      assert.equal(s.sink.messages()[0]!.data.toString(), text);
      const pong = s.sink.frames()[0]!;
      assert.deepEqual([pong.opcode, pong.rsv1, pong.payload.toString()], [Op.Pong, false, 'hi']);
    },
  );

  it('fragments fed one byte at a time are reassembled', T, async () => {
    const s = side('client', defaultAgreement());
    const text = jsonLikeText(2000);
    const bytes = Buffer.concat(compressedFragments('client', text));
    for (const byte of bytes) s.ws.receive(Uint8Array.of(byte));
    await s.sink.untilMessages(1);
    assert.equal(s.sink.messages()[0]!.data.toString(), text);
  });

  it('an uncompressed message (RSV1 clear) is delivered as is', T, async () => {
    const s = side('server', defaultAgreement());
    s.ws.receive(peerFrame('server', { opcode: Op.Text, payload: 'plain text' }));
    s.ws.receive(
      peerFrame('server', { opcode: Op.Binary, payload: Buffer.from([0, 0, 0xff, 0xff]) }),
    );
    await s.sink.untilMessages(2);
    assert.deepEqual(
      s.sink.messages().map((m) => [m.binary, m.data.toString('hex')]),
      [
        [false, Buffer.from('plain text').toString('hex')],
        [true, '0000ffff'],
      ],
    );
  });

  it(
    'an empty compressed message (a single 0x00 byte, or no byte at all) is an empty message',
    T,
    async () => {
      const s = side('server', defaultAgreement());
      s.ws.receive(peerFrame('server', { opcode: Op.Text, rsv1: true, payload: Buffer.from([0]) }));
      s.ws.receive(
        peerFrame('server', { opcode: Op.Binary, rsv1: true, payload: Buffer.alloc(0) }),
      );
      await s.sink.untilMessages(2);
      assert.deepEqual(
        s.sink.messages().map((m) => [m.binary, m.data.length]),
        [
          [false, 0],
          [true, 0],
        ],
      );
    },
  );

  it(
    'a big compressed message, a small one, a ping and a close in one chunk keep their order',
    T,
    async () => {
      const s = side('server', defaultAgreement());
      const big = Buffer.alloc(4 * 1024 * 1024, 'order matters ');
      const chunk = Buffer.concat([
        peerFrame('server', { opcode: Op.Binary, rsv1: true, payload: deflateMessage(big) }),
        peerFrame('server', { opcode: Op.Text, payload: 'small' }),
        peerFrame('server', { opcode: Op.Ping, payload: 'p' }),
        peerFrame('server', { opcode: Op.Close, payload: Buffer.from([0x03, 0xe8]) }),
      ]);
      s.ws.receive(chunk);
      await s.sink.untilEvents(4);
      const events = s.sink.events;
      assert.deepEqual(
        events.map((e) => e.type),
        ['message', 'message', 'ping', 'close'],
      );
      assert.ok(events[0]!.type === 'message' && events[0]!.data.equals(big));
      assert.deepEqual(events[1], { type: 'message', data: Buffer.from('small'), binary: false });
      assert.deepEqual(events[3], { type: 'close', code: 1000, reason: '' });
      assert.deepEqual(
        s.sink.frames().map((f) => f.opcode),
        [Op.Pong, Op.Close],
      );
    },
  );

  it(
    'asks the transport to pause while frames pile up behind a decompression, then resumes',
    T,
    async () => {
      const s = side('server', defaultAgreement());
      const big = Buffer.alloc(8 * 1024 * 1024, 'pause ');
      const frames = [
        peerFrame('server', { opcode: Op.Binary, rsv1: true, payload: deflateMessage(big) }),
      ];
      for (let i = 0; i < 100; i++)
        frames.push(peerFrame('server', { opcode: Op.Text, payload: `m${i}` }));
      s.ws.receive(Buffer.concat(frames));
      assert.equal(s.sink.pauses, 1, 'paused once the backlog reached its limit');
      await s.sink.untilMessages(101);
      assert.equal(s.sink.resumes, 1, 'resumed once the backlog drained');
      const got = s.sink.messages();
      assert.ok(got[0]!.data.equals(big));
      assert.deepEqual(
        got.slice(1).map((m) => m.data.toString()),
        Array.from({ length: 100 }, (_, i) => `m${i}`),
      );
    },
  );

  it('inflates a message that refers back to the previous one (context takeover)', T, async () => {
    const s = side('server', defaultAgreement());
    const deflater = new SharedDeflater();
    cleanups.push(() => deflater.close());
    const text = jsonLikeText(4000);
    const first = await deflater.message(text);
    const second = await deflater.message(text);
    assert.ok(second.length < first.length / 4, 'the crafted second message uses the window');
    s.ws.receive(peerFrame('server', { opcode: Op.Text, rsv1: true, payload: first }));
    s.ws.receive(peerFrame('server', { opcode: Op.Text, rsv1: true, payload: second }));
    await s.sink.untilMessages(2);
    assert.deepEqual(
      s.sink.messages().map((m) => m.data.toString()),
      [text, text],
    );
  });

  it('resets the inflater per message when the peer agreed to no context takeover', T, async () => {
    // The client agreed to client_no_context_takeover but (wrongly) keeps its window.
    const s = side('server', defaultAgreement({ clientNoContextTakeover: true }));
    const deflater = new SharedDeflater();
    cleanups.push(() => deflater.close());
    const text = jsonLikeText(4000);
    s.ws.receive(
      peerFrame('server', { opcode: Op.Text, rsv1: true, payload: await deflater.message(text) }),
    );
    s.ws.receive(
      peerFrame('server', { opcode: Op.Text, rsv1: true, payload: await deflater.message(text) }),
    );
    await s.sink.untilError();
    assert.equal(s.sink.messages().length, 1);
    assertFailed(s, 1007, { code: 'ERR_WS_INVALID_COMPRESSED_DATA' });
  });

  it('RSV1 on a continuation frame fails with 1002', T, async () => {
    for (const firstCompressed of [true, false]) {
      const s = side('server', defaultAgreement());
      const first = firstCompressed ? deflateMessage('hello ') : Buffer.from('hello ');
      s.ws.receive(
        peerFrame('server', { opcode: Op.Text, fin: false, rsv1: firstCompressed, payload: first }),
      );
      s.ws.receive(peerFrame('server', { opcode: Op.Continuation, rsv1: true, payload: 'world' }));
      await s.sink.untilError();
      assertFailed(s, 1002, { message: /continuation/ });
      assert.equal(s.sink.messages().length, 0);
    }
  });

  it('RSV1 on a control frame fails with 1002', T, async () => {
    const s = side('client', defaultAgreement());
    s.ws.receive(peerFrame('client', { opcode: Op.Ping, rsv1: true, payload: 'x' }));
    await s.sink.untilError();
    assertFailed(s, 1002, { message: /control/ });
  });

  it('RSV1 without a negotiated extension fails with 1002', T, async () => {
    for (const role of ['server', 'client'] as const) {
      for (const opcode of [Op.Text, Op.Binary]) {
        const s = side(role, null);
        s.ws.receive(peerFrame(role, { opcode, rsv1: true, payload: deflateMessage('hello') }));
        await s.sink.untilError();
        assertFailed(s, 1002, { message: /RSV1/ });
      }
    }
  });

  it('invalid compressed data fails with 1007', T, async () => {
    for (const payload of [
      Buffer.from([0xff, 0xff, 0xff, 0xff]), // block type 3 is reserved
      Buffer.from([0x01, 0x05, 0x00, 0x00, 0x00]), // stored block with LEN != ~NLEN
    ]) {
      const s = side('server', defaultAgreement());
      s.ws.receive(peerFrame('server', { opcode: Op.Binary, rsv1: true, payload }));
      await s.sink.untilError();
      assertFailed(s, 1007, {
        code: 'ERR_WS_INVALID_COMPRESSED_DATA',
        message: /invalid compressed data/,
      });
    }
  });

  it(
    'a compressed text that inflates to invalid UTF-8 fails with 1007; as binary it is fine',
    T,
    async () => {
      const bad = Buffer.from([0x68, 0x69, 0xc3, 0x28, 0xed, 0xa0, 0x80]);
      const s = side('server', defaultAgreement());
      s.ws.receive(
        peerFrame('server', { opcode: Op.Text, rsv1: true, payload: deflateMessage(bad) }),
      );
      await s.sink.untilError();
      assertFailed(s, 1007, { message: /UTF-8/ });
      assert.equal(s.sink.messages().length, 0);

      const b = side('server', defaultAgreement());
      b.ws.receive(
        peerFrame('server', { opcode: Op.Binary, rsv1: true, payload: deflateMessage(bad) }),
      );
      await b.sink.untilMessages(1);
      assert.deepEqual(b.sink.messages()[0]!.data, bad);
    },
  );

  it('a fragmented compressed text that inflates to invalid UTF-8 fails with 1007', T, async () => {
    const s = side('server', defaultAgreement());
    const parts = split(
      deflateMessage(Buffer.concat([Buffer.alloc(3000, 'a'), Buffer.from([0xff])])),
      2,
    );
    s.ws.receive(
      peerFrame('server', { opcode: Op.Text, fin: false, rsv1: true, payload: parts[0]! }),
    );
    s.ws.receive(peerFrame('server', { opcode: Op.Continuation, payload: parts[1]! }));
    await s.sink.untilError();
    assertFailed(s, 1007);
  });

  it(
    'maxPayload applies to the inflated size: exactly the limit passes, one byte more is 1009',
    T,
    async () => {
      const limit = 64 * 1024;
      const ok = side('server', defaultAgreement(), limit);
      ok.ws.receive(
        peerFrame('server', {
          opcode: Op.Binary,
          rsv1: true,
          payload: deflateMessage(Buffer.alloc(limit)),
        }),
      );
      await ok.sink.untilMessages(1);
      assert.equal(ok.sink.messages()[0]!.data.length, limit);

      const big = side('server', defaultAgreement(), limit);
      big.ws.receive(
        peerFrame('server', {
          opcode: Op.Binary,
          rsv1: true,
          payload: deflateMessage(Buffer.alloc(limit + 1)),
        }),
      );
      await big.sink.untilError();
      assertFailed(big, 1009, { message: /decompressed/ });
      assert.equal(big.sink.errors[0]!.code, 'ERR_WS_MESSAGE_TOO_BIG');
    },
  );
});

describe('engine: context takeover on the wire', () => {
  const text = jsonLikeText(4096);

  async function twoFrames(p: Pair): Promise<[DecodedFrame, DecodedFrame]> {
    p.client.ws.sendText(text);
    p.client.ws.sendText(text);
    await p.client.sink.untilFrames(2);
    await p.server.sink.untilMessages(2);
    assert.deepEqual(
      p.server.sink.messages().map((m) => m.data.toString()),
      [text, text],
    );
    const [a, b] = p.client.sink.frames();
    return [a!, b!];
  }

  it('with context takeover the second identical message compresses smaller', {
    ...T,
  }, async () => {
    const p = pair();
    assert.equal(p.agreed.client.clientNoContextTakeover, false);
    const [a, b] = await twoFrames(p);
    assert.equal(a.rsv1 && b.rsv1, true);
    assert.ok(
      b.payload.length < a.payload.length / 4,
      `${b.payload.length} vs ${a.payload.length}`,
    );
  });

  it('with client_no_context_takeover both messages compress to the same bytes', {
    ...T,
  }, async () => {
    const p = pair({ client: { clientNoContextTakeover: true } });
    assert.equal(p.agreed.client.clientNoContextTakeover, true);
    const [a, b] = await twoFrames(p);
    assert.equal(a.rsv1 && b.rsv1, true);
    assert.equal(a.payload.length, b.payload.length);
    assert.deepEqual(a.payload, b.payload);
  });
});

describe('NodeDeflateCompressor', () => {
  const text = Buffer.from(jsonLikeText(4096));

  function compressor(role: 'client' | 'server', changes: Partial<DeflateAgreement> = {}) {
    const c = new NodeDeflateCompressor(defaultAgreement(changes), role);
    cleanups.push(() => c.close());
    return c;
  }

  it('produces raw deflate without the sync-flush tail, which the peer inflates', T, async () => {
    const c = compressor('client');
    const out = await compress(c, text);
    assert.notDeepEqual(out.subarray(-4), TAIL);
    assert.deepEqual(inflate(out), text);
    const empty = await compress(c, Buffer.alloc(0));
    assert.deepEqual(empty, Buffer.from([0]), 'an empty message is one empty block');
  });

  it('keeps its window between messages by default: the second message is smaller', T, async () => {
    const c = compressor('client');
    const a = await compress(c, text);
    const b = await compress(c, text);
    assert.ok(b.length < a.length / 4, `${b.length} vs ${a.length}`);
    const r = compressor('server');
    assert.deepEqual((await decompress(r, a)).result, text);
    assert.deepEqual((await decompress(r, b)).result, text, 'the peer keeps its window too');
  });

  for (const [role, changes] of [
    ['client', { clientNoContextTakeover: true }],
    ['server', { serverNoContextTakeover: true }],
  ] as const) {
    it(
      `resets its window per message as a ${role} with ${Object.keys(changes)[0]}`,
      T,
      async () => {
        const c = compressor(role, changes);
        const a = await compress(c, text);
        const b = await compress(c, text);
        assert.deepEqual(a, b);
        assert.deepEqual(inflate(b), text, 'each message inflates on its own');
      },
    );
  }

  it('uses the agreed window bits of its own role', T, async () => {
    const unit = randomBytes(1000);
    const data = Buffer.concat([unit, unit, unit]);
    for (const role of ['client', 'server'] as const) {
      const c = compressor(
        role,
        role === 'client' ? { clientMaxWindowBits: 9 } : { serverMaxWindowBits: 9 },
      );
      const out = await compress(c, data);
      assert.deepEqual(inflate(out, 9), data);
      assert.ok(out.length > 2900, 'matches 1000 bytes back are out of a 512-byte window');
    }
    const wide = await compress(compressor('client'), data);
    assert.ok(wide.length < 1200, 'a 32 KiB window finds them');
  });

  it('fails with 1007 on invalid data and with 1009 past maxBytes', T, async () => {
    const bad = await decompress(compressor('server'), Buffer.from([0xff, 0xff]));
    assert.equal(bad.error?.closeCode, 1007);
    assert.equal(bad.result, null);
    const big = await decompress(
      compressor('server'),
      deflateMessage(Buffer.alloc(100_001)),
      100_000,
    );
    assert.equal(big.error?.closeCode, 1009);
    assert.equal(big.result, null);
    const fits = await decompress(
      compressor('server'),
      deflateMessage(Buffer.alloc(100_000)),
      100_000,
    );
    assert.equal(fits.error, null);
    assert.equal(fits.result?.length, 100_000);
  });

  it('a closed compressor calls nothing back', T, async () => {
    const c = compressor('server');
    let called = false;
    c.close();
    c.compress(text, () => {
      called = true;
    });
    c.decompress(deflateMessage(text), 0, () => {
      called = true;
    });
    // A fresh compressor's job queued after them finishes, so theirs have run (FIFO limiter).
    const after = await compress(compressor('client'), text);
    assert.deepEqual(inflate(after), text);
    assert.equal(called, false, 'a closed compressor calls nothing back');
  });
});

describe('permessage-deflate option validation', () => {
  const agreement = defaultAgreement();

  it('NodeDeflateCompressor refuses out-of-range level, memLevel and window bits at once', {}, () => {
    assert.throws(() => new NodeDeflateCompressor(agreement, 'server', { level: 12 }), RangeError);
    assert.throws(
      () => new NodeDeflateCompressor(agreement, 'server', { memLevel: 0 }),
      RangeError,
    );
    assert.throws(
      () => new NodeDeflateCompressor(defaultAgreement({ serverMaxWindowBits: 20 }), 'server'),
      RangeError,
    );
  });

  it('NodeDeflateCompressor refuses a concurrencyLimit below 1', () => {
    assert.throws(
      () => new NodeDeflateCompressor(agreement, 'server', { concurrencyLimit: 0 }),
      RangeError,
    );
  });

  it('a server limiting its window to more than 15 bits is not agreed to', {}, () => {
    const accepted = acceptDeflateOffer('permessage-deflate', { serverMaxWindowBits: 20 });
    assert.ok(accepted === null || accepted.agreement.serverMaxWindowBits <= 15);
  });

  it('WebSocketServer refuses invalid perMessageDeflate options when constructed', {
    ...T,
  }, async () => {
    for (const perMessageDeflate of [
      { concurrencyLimit: 0 },
      { level: 12 },
      { serverMaxWindowBits: 20 },
    ]) {
      let server: WebSocketServer | null = null;
      try {
        assert.throws(
          () => {
            server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate });
          },
          RangeError,
          JSON.stringify(perMessageDeflate),
        );
      } finally {
        const s = server as WebSocketServer | null;
        if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
      }
    }
  });
});
