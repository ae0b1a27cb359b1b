/**
 * Streams and promises: createWebSocketStream (a byte-exact 5 MiB round trip through an echo
 * server, backpressure on the write side and on the read side), `for await` over a socket, and
 * WebSocket.connect.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import {
  ConnectionError,
  createWebSocketStream,
  type MessageEvent,
  socketErrorOf,
  WebSocket,
} from '../../src/index.js';
import {
  assertWsError,
  finalClose,
  observe,
  parseHead,
  readHead,
  rejection,
  Signal,
} from '../resilience/helpers.js';
import { closedPort } from '../support/ports.js';
import { acceptFor } from '../support/raw-peers.js';
import { Scope } from '../support/scope.js';
import { nextEmit, nextEvent, within } from '../support/waits.js';

const T = { timeout: 15_000 };

/** Deterministic pseudo-random bytes (xorshift), so a failure is reproducible. */
function pseudoRandom(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A client connected through WebSocket.connect to a server of `scope`, and its server-side peer. */
async function connectedPair(scope: Scope): Promise<{ ws: WebSocket; peer: WebSocket }> {
  const server = await scope.server();
  const connection = nextEmit<[WebSocket]>(server.wss, 'connection');
  const ws = scope.track(await WebSocket.connect(server.url));
  const [peer] = await connection;
  return { ws, peer };
}

describe('createWebSocketStream', () => {
  const TOTAL = 5 * 1024 * 1024;
  const DATA = pseudoRandom(TOTAL, 0x5eed);
  /** The 5 MiB in uneven chunks: message boundaries must not matter to the byte stream. */
  function* chunks(): Generator<Buffer> {
    const sizes = [1, 65_536, 100_000, 7, 16_384, 250_000];
    let offset = 0;
    for (let i = 0; offset < TOTAL; i++) {
      const size = Math.min(sizes[i % sizes.length]!, TOTAL - offset);
      yield DATA.subarray(offset, offset + size);
      offset += size;
    }
  }

  async function echoClient(scope: Scope): Promise<WebSocket> {
    const server = await scope.server();
    server.wss.on('connection', (peer) => {
      peer.addEventListener('message', (event: MessageEvent) => peer.send(event.data as Buffer));
    });
    return scope.track(await WebSocket.connect(server.url));
  }

  it('round-trips 5 MiB through an echo server, byte-exact', T, async (t) => {
    const scope = new Scope(t);
    const ws = await echoClient(scope);
    const duplex = createWebSocketStream(ws);
    const reading = (async () => {
      const parts: Buffer[] = [];
      let length = 0;
      for await (const chunk of duplex as AsyncIterable<Buffer>) {
        parts.push(chunk);
        length += chunk.length;
        // Everything is back: end the writable side, which closes the connection with 1000;
        // the readable side then ends too.
        if (length >= TOTAL && duplex.writable) duplex.end();
      }
      return Buffer.concat(parts);
    })();
    // Write with backpressure, without ending: the echo of the tail is still on its way.
    for (const chunk of chunks()) {
      if (!duplex.write(chunk)) await nextEmit(duplex, 'drain', 10_000);
    }
    const echoed = await within(reading, 12_000, 'the 5 MiB echo');
    assert.equal(echoed.length, TOTAL);
    assert.equal(sha256(echoed), sha256(DATA));
    assert.equal(ws.readyState, WebSocket.CLOSED);
    assert.ok(duplex.readableEnded, 'the readable side ended cleanly');
  });

  it('pipeline(source, duplex, sink) gets the whole 5 MiB echo back', {
    ...T,
  }, async (t) => {
    const scope = new Scope(t);
    const ws = await echoClient(scope);
    const duplex = createWebSocketStream(ws);
    const received: Buffer[] = [];
    await within(
      pipeline(Readable.from(chunks()), duplex, async (source: AsyncIterable<Buffer>) => {
        for await (const chunk of source) received.push(chunk);
      }),
      12_000,
      'the 5 MiB pipeline',
    );
    const echoed = Buffer.concat(received);
    assert.equal(echoed.length, TOTAL);
    assert.equal(sha256(echoed), sha256(DATA));
  });

  it('end(data) still delivers the echo of data', {
    ...T,
  }, async (t) => {
    const scope = new Scope(t);
    const ws = await echoClient(scope);
    const duplex = createWebSocketStream(ws);
    duplex.end(Buffer.from('hello'));
    const parts: Buffer[] = [];
    for await (const chunk of duplex as AsyncIterable<Buffer>) parts.push(chunk);
    assert.equal(Buffer.concat(parts).toString(), 'hello');
  });

  it(
    'write side: write() returns false while the socket is backed up, then drain',
    T,
    async (t) => {
      const scope = new Scope(t);
      const { ws, peer } = await connectedPair(scope);
      let receivedBytes = 0;
      peer.addEventListener('message', (event: MessageEvent) => {
        receivedBytes += (event.data as Buffer).length;
      });
      // The server stops reading: the client's socket buffer must fill up.
      peer.pause();
      const highWaterMark = 64 * 1024;
      const duplex = createWebSocketStream(ws, { writableHighWaterMark: highWaterMark });
      const chunk = Buffer.alloc(16 * 1024, 0x61);
      let written = 0;
      let maxBuffered = 0;
      let refused = false;
      // Bounded: 256 MiB would mean no backpressure at all.
      while (written < 256 * 1024 * 1024) {
        const accepted = duplex.write(chunk);
        written += chunk.length;
        maxBuffered = Math.max(maxBuffered, ws.bufferedAmount);
        if (!accepted) {
          refused = true;
          break;
        }
        // Let write callbacks run as they would in a real producer.
        await new Promise<void>((resolve) => setImmediate(resolve));
        maxBuffered = Math.max(maxBuffered, ws.bufferedAmount);
      }
      assert.ok(refused, 'write() returned false');
      // ws.send() runs only while the socket holds at most the high-water mark, so at most one
      // chunk (plus its frame header) goes beyond it.
      assert.ok(
        maxBuffered <= highWaterMark + chunk.length + 14,
        `bufferedAmount reached ${maxBuffered}: not bounded by the high-water mark`,
      );
      assert.ok(duplex.writableLength > 0, 'the rest waits in the stream, not in the socket');
      const drained = nextEmit(duplex, 'drain', 10_000);
      peer.resume();
      await drained;
      t.diagnostic(
        `write backpressure after ${(written / 1024 / 1024).toFixed(1)} MiB; max bufferedAmount ${maxBuffered}`,
      );
      // Everything written reaches the server.
      const all = new Signal();
      const check = () => {
        if (receivedBytes === written) all.resolve();
      };
      peer.addEventListener('message', check);
      check();
      await all.wait(10_000, 'every written byte at the server');
      duplex.end();
      await finalClose(ws);
    },
  );

  it(
    'read side: a slow consumer pauses the socket, and all data arrives in order',
    T,
    async (t) => {
      const scope = new Scope(t);
      const { ws, peer } = await connectedPair(scope);

      // Count how the stream drives the socket's flow control.
      let pauses = 0;
      let resumes = 0;
      const paused = new Signal();
      const pause = ws.pause.bind(ws);
      const resume = ws.resume.bind(ws);
      ws.pause = () => {
        pauses++;
        paused.resolve();
        pause();
      };
      ws.resume = () => {
        resumes++;
        resume();
      };
      const highWaterMark = 16;
      const duplex = createWebSocketStream(ws, {
        readableObjectMode: true,
        readableHighWaterMark: highWaterMark,
      });

      const COUNT = 2000;
      const SIZE = 16 * 1024;
      for (let i = 0; i < COUNT; i++) {
        const message = Buffer.alloc(SIZE, i & 0xff);
        message.writeUInt32BE(i, 0);
        peer.send(message);
      }
      peer.close(1000, 'all sent');

      // Nobody reads yet: the stream fills up to its high-water mark and pauses the socket.
      await paused.wait(5000, 'the stream to pause the socket');
      // Observation window: a stalled consumer must hold the data back at the server.
      await observe(200);
      const stalledServer = peer.bufferedAmount;
      const stalledStream = duplex.readableLength;
      assert.ok(stalledServer > 0, 'the server could not flush while the consumer stalled');
      assert.ok(
        stalledStream <= highWaterMark + 8,
        `the stalled stream buffered ${stalledStream} messages`,
      );
      assert.equal(ws.readyState, WebSocket.OPEN);

      const sequence: number[] = [];
      let corrupt = 0;
      let maxReadable = stalledStream;
      for await (const chunk of duplex as AsyncIterable<Buffer>) {
        const index = chunk.readUInt32BE(0);
        sequence.push(index);
        if (chunk.length !== SIZE || chunk[SIZE - 1] !== (index & 0xff)) corrupt++;
        maxReadable = Math.max(maxReadable, duplex.readableLength);
        // The slow consumer: one message per event-loop turn.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }

      assert.equal(sequence.length, COUNT);
      assert.ok(
        sequence.every((value, i) => value === i),
        'messages arrived in order, none lost or repeated',
      );
      assert.equal(corrupt, 0);
      assert.ok(resumes > 0, 'the stream resumed the socket');
      assert.ok(
        maxReadable <= highWaterMark + 8,
        `the stream buffered up to ${maxReadable} messages`,
      );
      t.diagnostic(
        `read backpressure: ${pauses} pauses, ${resumes} resumes; server still held ` +
          `${stalledServer} bytes while stalled; stream max ${maxReadable} messages`,
      );
      assert.equal(ws.readyState, WebSocket.CLOSED);
    },
  );

  it('ends the readable side on a clean close and errors on an abnormal one', T, async (t) => {
    const scope = new Scope(t);
    const server = await scope.server();
    let connections = 0;
    server.wss.on('connection', (peer) => {
      connections++;
      const abnormal = connections === 2;
      peer.addEventListener('message', (event: MessageEvent) => {
        // 'go': answer, then close (first connection) or wait for the client's 'ack' and
        // drop the connection without a closing handshake (second one).
        if (event.data === 'ack') peer.terminate();
        else {
          peer.send('last words');
          if (!abnormal) peer.close(1000);
        }
      });
    });
    const clean = scope.track(await WebSocket.connect(server.url));
    const cleanStream = createWebSocketStream(clean, { readableObjectMode: true });
    clean.send('go');
    const got: unknown[] = [];
    for await (const chunk of cleanStream) got.push(chunk);
    assert.deepEqual(got, ['last words']);

    const broken = scope.track(await WebSocket.connect(server.url));
    const brokenStream = createWebSocketStream(broken, { readableObjectMode: true });
    broken.send('go');
    const seen: unknown[] = [];
    const error = await rejection(
      (async () => {
        for await (const chunk of brokenStream) {
          seen.push(chunk);
          broken.send('ack');
        }
      })(),
    );
    assert.deepEqual(seen, ['last words']);
    assert.ok(error instanceof ConnectionError);
    assert.ok(['ERR_WS_CONNECTION_CLOSED', 'ERR_WS_CONNECTION_RESET'].includes(error.code));
  });
});

describe('async iteration over a WebSocket', () => {
  it('yields messages in order and ends on a clean close', T, async (t) => {
    const scope = new Scope(t);
    const server = await scope.server();
    server.wss.on('connection', (peer) => {
      // Wait for the client's go: it iterates from then on, so nothing is missed.
      peer.addEventListener(
        'message',
        () => {
          for (let i = 0; i < 200; i++) peer.send(`m${i}`);
          peer.close(1000, 'done');
        },
        { once: true },
      );
    });
    const ws = scope.track(await WebSocket.connect(server.url));
    const messages: unknown[] = [];
    const closed = nextEvent(ws, 'close');
    ws.send('go');
    for await (const data of ws) messages.push(data);
    assert.deepEqual(
      messages,
      Array.from({ length: 200 }, (_, i) => `m${i}`),
    );
    const event = await closed;
    assert.equal(event.code, 1000);
    assert.equal(event.wasClean, true);
  });

  it('throws the typed error after the messages on an abnormal close', T, async (t) => {
    const scope = new Scope(t);
    const server = await scope.server();
    server.wss.on('connection', (peer) => {
      peer.addEventListener('message', (event: MessageEvent) => {
        // 'go': two messages; 'ack' (both arrived): drop the connection, no closing handshake.
        if (event.data === 'ack') peer.terminate();
        else {
          peer.send('one');
          peer.send('two');
        }
      });
    });
    const ws = scope.track(await WebSocket.connect(server.url));
    ws.send('go');
    const messages: unknown[] = [];
    const error = await rejection(
      (async () => {
        for await (const data of ws) {
          messages.push(data);
          if (data === 'two') ws.send('ack');
        }
      })(),
    );
    assert.deepEqual(messages, ['one', 'two']);
    assert.ok(error instanceof ConnectionError, `got ${String(error)}`);
    assert.ok(
      ['ERR_WS_CONNECTION_CLOSED', 'ERR_WS_CONNECTION_RESET'].includes(error.code),
      error.code,
    );
    assert.equal(socketErrorOf(error), 1);
  });

  it('messages sent just before terminate() in a message handler are delivered', {
    ...T,
  }, async (t) => {
    const scope = new Scope(t);
    const server = await scope.server();
    server.wss.on('connection', (peer) => {
      peer.addEventListener('message', () => {
        peer.send('one');
        peer.send('two');
        peer.terminate();
      });
    });
    const ws = scope.track(await WebSocket.connect(server.url));
    ws.send('go');
    const messages: unknown[] = [];
    await rejection(
      (async () => {
        for await (const data of ws) messages.push(data);
      })(),
    );
    assert.deepEqual(messages, ['one', 'two']);
  });

  it('a heartbeat failure surfaces as ERR_WS_TIMEOUT from the loop', T, async (t) => {
    const scope = new Scope(t);
    // A raw server that completes the handshake and then never answers (no pongs).
    const { port } = await scope.net((socket) => {
      readHead(socket).then(
        ({ head }) => {
          const key = parseHead(head)['sec-websocket-key'] ?? '';
          socket.write(
            'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
              `Sec-WebSocket-Accept: ${acceptFor(key)}\r\n\r\n`,
          );
          // From here on nothing is read: the client's pings go unanswered.
        },
        () => socket.destroy(),
      );
    });
    const ws = scope.track(
      await WebSocket.connect(`ws://127.0.0.1:${port}/`, {
        heartbeat: { interval: 50, timeout: 50 },
        perMessageDeflate: false,
      }),
    );
    const error = await rejection(
      (async () => {
        for await (const _ of ws) assert.fail('no message expected');
      })(),
    );
    assertWsError(error, ConnectionError, 'ERR_WS_TIMEOUT');
  });
});

describe('WebSocket.connect', () => {
  it('resolves with the open socket', T, async (t) => {
    const scope = new Scope(t);
    const server = await scope.server();
    const ws = scope.track(await WebSocket.connect(`${server.url}/p`, { protocols: ['chat'] }));
    assert.equal(ws.readyState, WebSocket.OPEN);
    assert.equal(ws.protocol, 'chat');
    ws.close();
    await finalClose(ws);
  });

  it('rejects with ERR_WS_CONNECTION_REFUSED when nothing listens', T, async () => {
    const port = await closedPort();
    const error = assertWsError(
      await rejection(WebSocket.connect(`ws://127.0.0.1:${port}/`)),
      ConnectionError,
      'ERR_WS_CONNECTION_REFUSED',
    );
    assert.equal(socketErrorOf(error), 0);
    assert.equal((error.cause as NodeJS.ErrnoException).code, 'ECONNREFUSED');
  });

  it('rejects synchronously-invalid input as a rejection, not a throw', T, async () => {
    const error = await rejection(WebSocket.connect('ftp://127.0.0.1/'));
    assert.ok(error instanceof DOMException);
    assert.equal(error.name, 'SyntaxError');
  });
});
