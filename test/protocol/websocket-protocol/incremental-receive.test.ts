/**
 * Receiving a message in pieces: text is validated as each chunk arrives (RFC 6455 section 8.1
 * lets an endpoint fail as soon as it sees invalid UTF-8), and what is held for a message still
 * arriving is bounded by its bytes and maxPayload, not by its count of fragments.
 */
import assert from 'node:assert/strict';
import { Buffer, isUtf8 } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { deflateRawSync } from 'node:zlib';
import { NodeDeflateCompressor } from '../../../src/node/deflate/zlib-compressor.js';
import { type Platform, type Role, Utf8Validator } from '../../../src/protocol/index.js';
import { assertFailed } from '../../support/assert-failed.js';
import { createEngine, Op, peerFrame, platforms } from '../helpers.js';

const roles: Role[] = ['server', 'client'];

/** `frame` cut into pieces of `size` bytes. */
function pieces(frame: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < frame.length; i += size) out.push(Buffer.from(frame.subarray(i, i + size)));
  return out;
}

/** One 1-byte data frame as `role`'s peer sends it, built by hand for speed. */
function tinyFrame(role: Role, opcode: number, fin: boolean, byte: number): Buffer {
  const b0 = (fin ? 0x80 : 0) | opcode;
  if (role === 'client') return Buffer.from([b0, 1, byte]); // from a server: unmasked
  const mask = randomBytes(4);
  return Buffer.from([b0, 0x81, ...mask, byte ^ mask[0]!]);
}

const gc = (() => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

/** Heap and buffer bytes still reachable, after a full collection. */
function retained(): number {
  gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}

/** A platform that counts what the engine allocates. */
function counting(platform: Platform): { platform: Platform; allocs: number[] } {
  const allocs: number[] = [];
  return {
    allocs,
    platform: {
      ...platform,
      alloc: (size) => {
        allocs.push(size);
        return platform.alloc(size);
      },
    },
  };
}

for (const [platformName, platform] of platforms) {
  for (const role of roles) {
    describe(`text validated as it arrives, ${role} role, ${platformName} platform`, () => {
      it('fails with 1007 at the piece that carries the invalid byte, not at the end', () => {
        const text = Buffer.alloc(3000, 'a');
        text[2000] = 0xff;
        const frame = peerFrame(role, { opcode: Op.Text, payload: text });
        const header = frame.length - text.length;
        const bad = Math.floor((header + 2000) / 500);
        const engine = createEngine(role, { platform });
        const parts = pieces(frame, 500);
        for (let i = 0; i < parts.length; i++) {
          engine.ws.receive(parts[i]!);
          if (i < bad) assert.deepEqual(engine.sink.events, [], `no event after piece ${i}`);
          else break;
        }
        assertFailed(engine, 1007);
        assert.ok(bad < parts.length - 1, 'the bad piece is not the last one');
      });

      it('fails at the fragment that carries the invalid byte, the frame cut in pieces', () => {
        const engine = createEngine(role, { platform });
        engine.ws.receive(peerFrame(role, { opcode: Op.Text, fin: false, payload: 'ok, ' }));
        const frame = peerFrame(role, {
          opcode: Op.Continuation,
          fin: false,
          payload: Buffer.from([0x61, 0x62, 0xc0, 0x80, 0x63]),
        });
        const parts = pieces(frame, frame.length - 3); // the overlong 0xc0 0x80 is in the last 3
        engine.ws.receive(parts[0]!);
        assert.deepEqual(engine.sink.events, []);
        engine.ws.receive(parts[1]!);
        assertFailed(engine, 1007);
      });

      it('accepts valid text whose code points are cut by piece boundaries', () => {
        const text = 'añ€𝄞'.repeat(300);
        const frame = peerFrame(role, { opcode: Op.Text, payload: text });
        for (const size of [1, 2, 3, 5, 7, 64]) {
          const engine = createEngine(role, { platform });
          for (const part of pieces(frame, size)) engine.ws.receive(part);
          assert.deepEqual(engine.sink.events, [{ type: 'message', data: text, binary: false }]);
        }
      });

      it('fails a text message that ends inside a code point', () => {
        const engine = createEngine(role, { platform });
        const frame = peerFrame(role, {
          opcode: Op.Text,
          payload: Buffer.from([0x61, 0xe2, 0x82]),
        });
        for (const part of pieces(frame, 2)) engine.ws.receive(part);
        assertFailed(engine, 1007);
      });
    });

    describe(`memory per message bounded by bytes, ${role} role, ${platformName} platform`, () => {
      it('closes with 1009 a message of 1-byte fragments that never ends, once maxPayload is reached', () => {
        const maxPayload = 256 * 1024;
        const { platform: countingPlatform, allocs } = counting(platform);
        const engine = createEngine(role, { platform: countingPlatform, maxPayload });
        engine.ws.receive(tinyFrame(role, Op.Binary, false, 1));
        let sent = 1;
        // Fragments in batches of 1,000 per chunk, as a peer streaming them would deliver them.
        while (engine.sink.errors.length === 0 && sent <= maxPayload + 1000) {
          const batch: Buffer[] = [];
          for (let i = 0; i < 1000; i++) batch.push(tinyFrame(role, Op.Continuation, false, 2));
          engine.ws.receive(Buffer.concat(batch));
          sent += 1000;
        }
        assertFailed(engine, 1009);
        assert.ok(sent > maxPayload, `failed only past maxPayload (after ${sent} bytes)`);
        assert.ok(sent <= maxPayload + 1000, 'failed in the chunk that passed maxPayload');
        // One buffer per message, grown by doubling: no allocation per fragment or per chunk.
        const held = allocs.filter((size) => size > 125);
        assert.ok(held.length <= 20, `${held.length} allocations for ${sent} fragments`);
        assert.ok(Math.max(...held) <= maxPayload, 'no buffer larger than maxPayload');
        assert.ok(
          held.reduce((a, b) => a + b, 0) <= 2 * maxPayload,
          'all growth together at most twice maxPayload',
        );
      });

      it('holds about the message bytes for a million 1-byte fragments, not a million objects', () => {
        const maxPayload = 1024 * 1024;
        const engine = createEngine(role, { platform, maxPayload });
        const before = retained();
        engine.ws.receive(tinyFrame(role, Op.Binary, false, 1));
        const one = tinyFrame(role, Op.Continuation, false, 2);
        for (let n = 1; n < maxPayload - 1000; n += 1000) {
          const batch = Buffer.allocUnsafe(one.length * 1000);
          for (let i = 0; i < 1000; i++) one.copy(batch, i * one.length);
          engine.ws.receive(batch);
        }
        assert.deepEqual(engine.sink.events, [], 'still open, under maxPayload');
        const growth = retained() - before;
        // One buffer of at most maxPayload; a list of fragments would hold ~100 MiB here.
        assert.ok(growth < 8 * maxPayload, `${(growth / 2 ** 20).toFixed(1)} MiB retained`);
      });

      it('delivers one message of 20,000 1-byte fragments, zero-length ones among them', () => {
        const engine = createEngine(role, { platform, maxPayload: 1024 * 1024 });
        const expected = Buffer.alloc(20_000);
        const frames: Buffer[] = [tinyFrame(role, Op.Binary, false, 0)];
        for (let i = 1; i < 20_000; i++) {
          expected[i] = i & 0xff;
          frames.push(tinyFrame(role, Op.Continuation, i === 19_999, i & 0xff));
          if (i % 1000 === 0)
            frames.push(peerFrame(role, { opcode: Op.Continuation, fin: false, payload: '' }));
        }
        const stream = Buffer.concat(frames);
        // Chunks that cut frames anywhere, as TCP does.
        for (const part of pieces(stream, 4093)) engine.ws.receive(part);
        assert.deepEqual(engine.sink.events, [{ type: 'message', data: expected, binary: true }]);
      });
    });
  }
}

describe('compressed text validated as it inflates', () => {
  it('stops inflating at the output piece with invalid UTF-8 and fails with 1007', async () => {
    const agreement = {
      serverNoContextTakeover: true,
      clientNoContextTakeover: true,
      serverMaxWindowBits: 15,
      clientMaxWindowBits: 15,
    };
    const compressor = new NodeDeflateCompressor(agreement, 'server');
    const text = Buffer.alloc(8 * 1024 * 1024, 'a');
    text[1000] = 0xff;
    // RFC 7692 section 7.2.1: the message is the deflate data without its final empty block.
    const deflated = deflateRawSync(text, { finishFlush: 2 /* Z_SYNC_FLUSH */ });
    const data = deflated.subarray(0, deflated.length - 4);
    let checked = 0;
    const validator = new Utf8Validator(isUtf8);
    const error = await new Promise((resolve) =>
      compressor.decompress(
        data,
        0,
        (e) => resolve(e),
        (chunk) => {
          checked += chunk.length;
          return validator.push(chunk);
        },
      ),
    );
    compressor.close();
    assert.equal((error as { closeCode?: number } | null)?.closeCode, 1007);
    assert.ok(checked < text.length / 4, `only ${checked} of ${text.length} bytes inflated`);
  });
});
