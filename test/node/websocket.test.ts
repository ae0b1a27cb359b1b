/**
 * The WHATWG `WebSocket` client over real sockets on 127.0.0.1: constructor checks, readyState,
 * send and close, binaryType, events, close codes, handshake failures, and what it writes in
 * answer to hand-crafted server bytes.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  type BinaryType,
  type CloseEvent,
  ConnectionError,
  type ErrorEvent,
  HandshakeError,
  type MessageEvent,
  ProtocolError,
  WebSocket,
  type WebSocketEvent,
  WebSocketServer,
} from '../../src/index.js';
import { closeBody } from '../support/frames.js';
import { closedPort } from '../support/ports.js';
import { acceptFor, closeNetServer, httpResponse } from '../support/raw-peers.js';
import { closeServer, Scope } from '../support/scope.js';
import { nextEmit, nextEvent, turn } from '../support/waits.js';
import {
  assertClientFailed,
  collectMessages,
  encodeFrame,
  openRaw,
  parseClose,
  recordEvents,
} from './helpers.js';

const T = { timeout: 10_000 };

function isDomException(name: string): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof DOMException, `expected a DOMException, got ${String(error)}`);
    assert.equal(error.name, name);
    return true;
  };
}

/** Server-side messages as [kind, text] pairs, binary as hex. */
function describeData(data: unknown): string {
  if (typeof data === 'string') return `text:${data}`;
  if (Buffer.isBuffer(data)) return `binary:${data.toString('hex')}`;
  return `other:${String(data)}`;
}

describe('WebSocket constructor', () => {
  it('throws a SyntaxError DOMException for an invalid URL', () => {
    for (const url of ['not a url', '', 'ws://', 'ws://[::1']) {
      assert.throws(() => new WebSocket(url), isDomException('SyntaxError'), url);
    }
  });

  it('throws a SyntaxError for unsupported schemes', () => {
    for (const url of ['ftp://127.0.0.1/', 'file:///tmp/x', 'mailto:a@b.c', 'data:text/plain,x']) {
      assert.throws(() => new WebSocket(url), isDomException('SyntaxError'), url);
    }
  });

  it('throws a SyntaxError for a URL with a fragment, even an empty one', () => {
    for (const url of ['ws://127.0.0.1/#x', 'ws://127.0.0.1/path#', 'http://127.0.0.1/#frag']) {
      assert.throws(() => new WebSocket(url), isDomException('SyntaxError'), url);
    }
  });

  it('throws a SyntaxError for subprotocols that are not HTTP tokens', () => {
    const bad: Array<string | string[]> = [
      'has space',
      '',
      ['chat', ''],
      ['chat', 'a,b'],
      'caf\u00e9',
      'tab\there',
      ['ok', 'semi;colon'],
    ];
    for (const protocols of bad) {
      assert.throws(
        () => new WebSocket('ws://127.0.0.1:1/', protocols),
        isDomException('SyntaxError'),
        JSON.stringify(protocols),
      );
    }
  });

  it('throws a SyntaxError for a duplicated subprotocol', () => {
    assert.throws(
      () => new WebSocket('ws://127.0.0.1:1/', ['chat', 'json', 'chat']),
      isDomException('SyntaxError'),
    );
  });

  it('throws a SyntaxError for subprotocols repeated in different case', {
    ...T,
  }, (t) => {
    const env = new Scope(t);
    let created: WebSocket | undefined;
    try {
      assert.throws(() => {
        created = new WebSocket('ws://127.0.0.1:1/', ['echo', 'eCho']);
      }, isDomException('SyntaxError'));
    } finally {
      // If the constructor accepted the list, the attempt must not outlive the test.
      env.defer(() => created?.terminate());
    }
  });

  it('maps http: to ws: and https: to wss: in url', T, async (t) => {
    const env = new Scope(t);
    const port = await closedPort();
    const plain = env.client(`http://127.0.0.1:${port}/chat?room=1`);
    assert.equal(plain.url, `ws://127.0.0.1:${port}/chat?room=1`);
    const secure = env.client(`https://127.0.0.1:${port}/x`);
    assert.equal(secure.url, `wss://127.0.0.1:${port}/x`);
    const bare = env.client(`ws://127.0.0.1:${port}`);
    assert.equal(bare.url, `ws://127.0.0.1:${port}/`);
    const fromUrl = env.client(new URL(`ws://127.0.0.1:${port}/u`));
    assert.equal(fromUrl.url, `ws://127.0.0.1:${port}/u`);
    // Every attempt fails (nothing listens): each one ends with a close event.
    await Promise.all([plain, secure, bare, fromUrl].map((ws) => nextEvent(ws, 'close')));
  });

  it('has the readyState constants on the class and on instances', T, async (t) => {
    const env = new Scope(t);
    const expected = { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 } as const;
    const ws = env.client(`ws://127.0.0.1:${await closedPort()}`);
    for (const [name, value] of Object.entries(expected)) {
      assert.equal(WebSocket[name as keyof typeof expected], value, `WebSocket.${name}`);
      assert.equal(ws[name as keyof typeof expected], value, `instance.${name}`);
      assert.equal(
        (WebSocket.prototype as unknown as Record<string, number>)[name],
        value,
        `prototype.${name}`,
      );
    }
    await nextEvent(ws, 'close');
  });
});

describe('readyState, send() and close()', () => {
  it('goes CONNECTING -> OPEN -> CLOSING -> CLOSED', T, async (t) => {
    const env = new Scope(t);
    const server = await env.server();
    const ws = env.client(server.url);
    const states: Array<[string, number]> = [['constructed', ws.readyState]];
    ws.onopen = () => {
      states.push(['open', ws.readyState]);
      ws.close();
      states.push(['after close()', ws.readyState]);
    };
    ws.onclose = () => states.push(['close', ws.readyState]);
    await nextEvent(ws, 'close');
    assert.deepEqual(states, [
      ['constructed', WebSocket.CONNECTING],
      ['open', WebSocket.OPEN],
      ['after close()', WebSocket.CLOSING],
      ['close', WebSocket.CLOSED],
    ]);
    assert.equal(ws.readyState, WebSocket.CLOSED);
  });

  it('send() while CONNECTING throws InvalidStateError', T, async (t) => {
    const env = new Scope(t);
    const server = await env.server();
    const ws = env.client(server.url);
    assert.equal(ws.readyState, WebSocket.CONNECTING);
    assert.throws(() => ws.send('too early'), isDomException('InvalidStateError'));
    await nextEvent(ws, 'open');
  });

  it(
    'close() refuses codes other than 1000 and 3000-4999 with InvalidAccessError',
    T,
    async (t) => {
      const env = new Scope(t);
      const server = await env.server();
      const { client, peer } = await env.pair(server);
      for (const code of [0, 999, 1001, 1005, 1006, 2999, 5000, 65535]) {
        assert.throws(() => client.close(code), isDomException('InvalidAccessError'), String(code));
        assert.equal(client.readyState, WebSocket.OPEN, `still open after close(${code})`);
      }
      const serverSide = nextEvent(peer, 'close');
      client.close(4999, 'ok');
      const event = await serverSide;
      assert.equal(event.code, 4999);
      assert.equal(event.reason, 'ok');
    },
  );

  it('close() refuses a reason longer than 123 UTF-8 bytes with SyntaxError', T, async (t) => {
    const env = new Scope(t);
    const server = await env.server();
    const { client, peer } = await env.pair(server);
    assert.throws(() => client.close(1000, 'x'.repeat(124)), isDomException('SyntaxError'));
    // 62 two-byte characters are 124 bytes though only 62 UTF-16 code units.
    assert.throws(() => client.close(1000, '\u00e9'.repeat(62)), isDomException('SyntaxError'));
    assert.equal(client.readyState, WebSocket.OPEN);
    const serverSide = nextEvent(peer, 'close');
    const reason = 'y'.repeat(123);
    client.close(1000, reason);
    const event = await serverSide;
    assert.equal(event.code, 1000);
    assert.equal(event.reason, reason);
  });

  it('close() while CONNECTING fires error, then close with 1006', T, async (t) => {
    const env = new Scope(t);
    const raw = await env.rawServer();
    const ws = env.client(raw.url);
    const conn = await raw.accept();
    await conn.readHead(); // the request arrived; the server never answers
    const log = recordEvents(ws);
    assert.equal(ws.readyState, WebSocket.CONNECTING);
    const closed = nextEvent(ws, 'close');
    ws.close();
    const event = await closed;
    assert.deepEqual(log.types, ['error', 'close']);
    assert.equal(event.code, 1006);
    assert.equal(event.wasClean, false);
    assert.equal(ws.readyState, WebSocket.CLOSED);
    // The attempt is abandoned: the TCP connection is closed.
    await conn.waitClosed();
  });

  it('close() while CONNECTING sets CLOSING and fires its events after close() returns', {
    ...T,
  }, async (t) => {
    const env = new Scope(t);
    const raw = await env.rawServer();
    const ws = env.client(raw.url);
    const conn = await raw.accept();
    await conn.readHead();
    let returned = false;
    const seen: Array<[string, boolean]> = [];
    ws.onerror = () => seen.push(['error', returned]);
    ws.onclose = () => seen.push(['close', returned]);
    ws.close();
    returned = true;
    assert.equal(ws.readyState, WebSocket.CLOSING);
    // Listeners added right after close() still get the events, as in browsers.
    const late = nextEvent(ws, 'close');
    await late;
    assert.deepEqual(seen, [
      ['error', true],
      ['close', true],
    ]);
  });

  it('send() after close() only grows bufferedAmount and sends nothing', T, async (t) => {
    const { ws, conn } = await openRaw(new Scope(t));
    ws.send('before');
    ws.close(1000);
    assert.equal(ws.readyState, WebSocket.CLOSING);
    const base = ws.bufferedAmount;
    ws.send('abc');
    assert.equal(ws.bufferedAmount, base + 3);
    ws.send(new Uint8Array(10));
    assert.equal(ws.bufferedAmount, base + 13);
    ws.send(new Blob(['12345']));
    assert.equal(ws.bufferedAmount, base + 18);
    // On the wire: the message sent before close(), the close frame, and nothing after it.
    const first = await conn.readFrame();
    assert.equal(first.opcode, 0x1);
    assert.equal(first.payload.toString(), 'before');
    const close = await conn.readFrame();
    assert.equal(close.opcode, 0x8);
    assert.equal(parseClose(close.payload).code, 1000);
    const closed = nextEvent(ws, 'close');
    conn.write(encodeFrame(0x8, closeBody(1000)));
    conn.socket.end();
    const rest = await conn.readToEnd();
    assert.equal(rest.length, 0, 'nothing was written after the close frame');
    assert.equal((await closed).wasClean, true);
    // After CLOSED the count keeps growing (the standard never resets it).
    const after = ws.bufferedAmount;
    assert.ok(after >= 18);
    ws.send('\u00e9'); // two UTF-8 bytes
    assert.equal(ws.bufferedAmount, after + 2);
  });
});

describe('binaryType', () => {
  it('defaults to "blob" and delivers binary messages as Blobs', T, async (t) => {
    const env = new Scope(t);
    const server = await env.server();
    const { client, peer } = await env.pair(server);
    assert.equal(client.binaryType, 'blob');
    const message = nextEvent(client, 'message');
    peer.send(Buffer.from([1, 2, 3, 250]));
    const { data } = await message;
    assert.ok(data instanceof Blob, 'data is a Blob');
    assert.equal(data.size, 4);
    assert.deepEqual([...new Uint8Array(await data.arrayBuffer())], [1, 2, 3, 250]);
  });

  it('"arraybuffer" delivers ArrayBuffers and "nodebuffer" Buffers', T, async (t) => {
    const env = new Scope(t);
    const server = await env.server();
    const { client, peer } = await env.pair(server);
    client.binaryType = 'arraybuffer';
    assert.equal(client.binaryType, 'arraybuffer');
    let message = nextEvent(client, 'message');
    peer.send(Buffer.from('abc'));
    const first = (await message).data;
    assert.ok(first instanceof ArrayBuffer, 'data is an ArrayBuffer');
    assert.equal(Buffer.from(first).toString(), 'abc');

    client.binaryType = 'nodebuffer';
    message = nextEvent(client, 'message');
    peer.send(Buffer.from('def'));
    const second = (await message).data;
    assert.ok(Buffer.isBuffer(second), 'data is a Buffer');
    assert.equal(second.toString(), 'def');

    // Text stays a string whatever binaryType says.
    message = nextEvent(client, 'message');
    peer.send('text');
    assert.equal((await message).data, 'text');
  });

  it('ignores values outside the enumeration', T, async (t) => {
    const env = new Scope(t);
    const server = await env.server();
    const client = env.client(server.url, [], { binaryType: 'arraybuffer' });
    assert.equal(client.binaryType, 'arraybuffer');
    for (const value of ['Blob', 'buffer', '', 'ARRAYBUFFER']) {
      client.binaryType = value as BinaryType;
      assert.equal(client.binaryType, 'arraybuffer', value);
    }
    await nextEvent(client, 'open');
  });
});

describe('send()', () => {
  it('sends strings as text and every binary type as binary', T, async (t) => {
    const env = new Scope(t);
    const server = await env.server();
    const { client, peer } = await env.pair(server);
    const got = collectMessages(peer, 7);
    const backing = new Uint8Array([9, 9, 1, 2, 3, 9]);
    client.send('hello \u00e9\u{1f600}');
    client.send(new Uint8Array([1, 2, 3]).buffer);
    client.send(backing.subarray(2, 5)); // a view: only its bytes are sent
    client.send(new DataView(backing.buffer, 1, 3));
    client.send(Buffer.from('buf'));
    client.send(new Blob(['blob ', new Uint8Array([0x41])]));
    client.send(new Uint16Array([0x0102]));
    const data = (await got).map(describeData);
    assert.deepEqual(data, [
      'text:hello \u00e9\u{1f600}',
      'binary:010203',
      'binary:010203',
      'binary:090102',
      `binary:${Buffer.from('buf').toString('hex')}`,
      `binary:${Buffer.from('blob A').toString('hex')}`,
      `binary:${Buffer.from(new Uint16Array([0x0102]).buffer).toString('hex')}`,
    ]);
  });

  it('keeps the order of messages when a Blob is followed by strings', T, async (t) => {
    const env = new Scope(t);
    const server = await env.server();
    const { client, peer } = await env.pair(server);
    const got = collectMessages(peer, 6);
    client.send('first');
    client.send(new Blob([Buffer.alloc(64 * 1024, 7)]));
    client.send('after blob 1');
    client.send(new Uint8Array([5]));
    client.send(new Blob(['small']));
    client.send('after blob 2');
    // Bytes waiting behind the Blob count in bufferedAmount.
    assert.ok(client.bufferedAmount > 0);
    const data = await got;
    assert.deepEqual(
      data.map((d) => (Buffer.isBuffer(d) ? `binary(${d.length})` : d)),
      ['first', `binary(${64 * 1024})`, 'after blob 1', 'binary(1)', 'binary(5)', 'after blob 2'],
    );
  });
});

describe('events', () => {
  it('fires onX handlers and addEventListener listeners in registration order', T, async (t) => {
    const env = new Scope(t);
    const server = await env.server();
    const ws = env.client(server.url);
    const order: string[] = [];
    ws.addEventListener('open', () => order.push('listener 1'));
    ws.onopen = () => order.push('onopen');
    ws.addEventListener('open', {
      handleEvent: (event: WebSocketEvent) => order.push(`handleEvent:${event.type}`),
    });
    const opened = nextEvent(ws, 'open');
    const event = await opened;
    assert.deepEqual(order, ['listener 1', 'onopen', 'handleEvent:open']);
    assert.equal(event.type, 'open');
    assert.equal(typeof ws.onopen, 'function');
  });

  it('honours once, removeEventListener and a handler set to null', T, async (t) => {
    const env = new Scope(t);
    const server = await env.server();
    const { client, peer } = await env.pair(server);
    const calls: string[] = [];
    const removed = () => calls.push('removed');
    client.addEventListener('message', () => calls.push('once'), { once: true });
    client.addEventListener('message', removed);
    client.removeEventListener('message', removed);
    client.onmessage = () => calls.push('handler');
    client.onmessage = null;
    assert.equal(client.onmessage, null);
    const always = (event: MessageEvent) => calls.push(`always:${String(event.data)}`);
    client.addEventListener('message', always);
    client.addEventListener('message', always); // a duplicate is ignored
    const two = collectMessages(client, 2);
    peer.send('m1');
    peer.send('m2');
    await two;
    assert.deepEqual(calls, ['once', 'always:m1', 'always:m2']);
  });

  it('removes a listener when its AbortSignal aborts', T, async (t) => {
    const env = new Scope(t);
    const server = await env.server();
    const { client, peer } = await env.pair(server);
    const controller = new AbortController();
    const calls: string[] = [];
    client.addEventListener(
      'message',
      (event: MessageEvent) => calls.push(`signal:${event.data}`),
      {
        signal: controller.signal,
      },
    );
    client.addEventListener('message', (event: MessageEvent) => calls.push(`plain:${event.data}`));
    let got = collectMessages(client, 1);
    peer.send('a');
    await got;
    controller.abort();
    got = collectMessages(client, 1);
    peer.send('b');
    await got;
    assert.deepEqual(calls, ['signal:a', 'plain:a', 'plain:b']);
  });

  it('a throwing listener does not stop the other listeners', T, async (t) => {
    const env = new Scope(t);
    const server = await env.server();
    const { client, peer } = await env.pair(server);
    const reported: unknown[] = [];
    process.setUncaughtExceptionCaptureCallback((error) => reported.push(error));
    env.defer(() => process.setUncaughtExceptionCaptureCallback(null));
    const calls: string[] = [];
    const boom = new Error('listener failure');
    client.addEventListener('message', () => {
      calls.push('first');
      throw boom;
    });
    client.onmessage = () => calls.push('second');
    const got = collectMessages(client, 1);
    peer.send('x');
    await got;
    await turn();
    process.setUncaughtExceptionCaptureCallback(null);
    assert.deepEqual(calls, ['first', 'second']);
    // The exception is reported (as a browser reports it), not swallowed.
    assert.deepEqual(reported, [boom]);
  });
});

describe('closing', () => {
  it('a client-initiated close is clean on both sides', T, async (t) => {
    const env = new Scope(t);
    const server = await env.server();
    const { client, peer } = await env.pair(server);
    const clientClosed = nextEvent(client, 'close');
    const peerClosed = nextEvent(peer, 'close');
    client.close(1000, 'bye');
    const [c, p] = await Promise.all([clientClosed, peerClosed]);
    assert.equal(c.code, 1000);
    assert.equal(c.wasClean, true);
    assert.equal(p.code, 1000);
    assert.equal(p.reason, 'bye');
    assert.equal(p.wasClean, true);
  });

  it('a server-initiated close delivers its code and reason', T, async (t) => {
    const env = new Scope(t);
    const server = await env.server();
    const { client, peer } = await env.pair(server);
    const clientClosed = nextEvent(client, 'close');
    const peerClosed = nextEvent(peer, 'close');
    peer.close(4001, 'done \u00e9');
    const [c, p] = await Promise.all([clientClosed, peerClosed]);
    assert.equal(c.code, 4001);
    assert.equal(c.reason, 'done \u00e9');
    assert.equal(c.wasClean, true);
    assert.equal(p.code, 4001);
    assert.equal(p.wasClean, true);
  });

  it('reports 1005 when the server closes without a code', T, async (t) => {
    const env = new Scope(t);
    const server = await env.server();
    const { client, peer } = await env.pair(server);
    const clientClosed = nextEvent(client, 'close');
    peer.close();
    const event = await clientClosed;
    assert.equal(event.code, 1005);
    assert.equal(event.reason, '');
    assert.equal(event.wasClean, true);
  });

  it('reports 1006 when the server drops the TCP connection', T, async (t) => {
    const env = new Scope(t);
    const server = await env.server();
    const { client, peer } = await env.pair(server);
    const clientClosed = nextEvent(client, 'close');
    peer.terminate();
    const event = await clientClosed;
    assert.equal(event.code, 1006);
    assert.equal(event.reason, '');
    assert.equal(event.wasClean, false);
    assert.equal(client.readyState, WebSocket.CLOSED);
  });

  it('terminate() ends an open connection at once with 1006', T, async (t) => {
    const env = new Scope(t);
    const server = await env.server();
    const { client, peer } = await env.pair(server);
    const clientClosed = nextEvent(client, 'close');
    const peerClosed = nextEvent(peer, 'close');
    client.terminate();
    const [c, p] = await Promise.all([clientClosed, peerClosed]);
    assert.equal(c.code, 1006);
    assert.equal(c.wasClean, false);
    assert.equal(p.code, 1006);
    assert.equal(p.wasClean, false);
  });
});

describe('handshake attributes and options', () => {
  it('exposes the selected protocol and the (empty) extensions', T, async (t) => {
    const env = new Scope(t);
    const server = await env.server();
    const ws = env.client(server.url, ['chat.v2', 'chat.v1']);
    assert.equal(ws.protocol, '');
    assert.equal(ws.extensions, '');
    await nextEvent(ws, 'open');
    assert.equal(ws.protocol, 'chat.v2');
    assert.equal(ws.extensions, '');
    const plain = await env.open(server.url);
    assert.equal(plain.protocol, '');
  });

  it('sends custom headers and the origin to the server', T, async (t) => {
    const env = new Scope(t);
    const server = await env.server();
    const connection = nextEmit<[WebSocket, import('node:http').IncomingMessage]>(
      server.wss,
      'connection',
    );
    await env.open(`${server.url}/path?q=1`, 'p1', {
      headers: { 'X-Token': 'secret', 'User-Agent': 'wskit-test' },
      origin: 'https://app.example',
    });
    const [peer, request] = await connection;
    assert.equal(request.headers['x-token'], 'secret');
    assert.equal(request.headers['user-agent'], 'wskit-test');
    assert.equal(request.headers.origin, 'https://app.example');
    assert.equal(request.headers.host, `127.0.0.1:${server.port}`);
    assert.equal(request.headers['sec-websocket-protocol'], 'p1');
    assert.equal(request.url, '/path?q=1');
    assert.equal(peer.url, `ws://127.0.0.1:${server.port}/path?q=1`);
  });

  it('refuses headers the handshake sets itself', () => {
    assert.throws(
      () => new WebSocket('ws://127.0.0.1:1/', [], { headers: { 'Sec-WebSocket-Key': 'x' } }),
      TypeError,
    );
  });

  it('connects to a server on a Unix socket with a ws+unix: URL', T, async (t) => {
    if (process.platform === 'win32') return t.skip('no Unix sockets');
    const env = new Scope(t);
    const dir = await mkdtemp(join(tmpdir(), 'wskit-'));
    env.defer(() => rm(dir, { recursive: true, force: true }));
    const socketPath = join(dir, 'ws.sock');
    const http = createHttpServer((_req, res) => res.end('http'));
    env.defer(() => closeNetServer(http));
    http.listen(socketPath);
    await nextEmit(http, 'listening');
    const wss = new WebSocketServer({ server: http });
    env.defer(() => closeServer(wss));
    wss.on('connection', (peer, request) => {
      peer.send(`path=${request.url}`);
      peer.addEventListener('message', (event: MessageEvent) => peer.send(`echo:${event.data}`));
    });
    const ws = env.client(`ws+unix:${socketPath}:/chat?x=1`);
    const messages = collectMessages(ws, 2);
    await nextEvent(ws, 'open');
    ws.send('hi');
    assert.deepEqual(await messages, ['path=/chat?x=1', 'echo:hi']);
    const closed = nextEvent(ws, 'close');
    ws.close(1000);
    assert.equal((await closed).wasClean, true);
  });
});

describe('connection failures', () => {
  it('fails with ERR_WS_HANDSHAKE_TIMEOUT when the server never answers', T, async (t) => {
    const env = new Scope(t);
    const raw = await env.rawServer();
    const started = Date.now();
    const ws = env.client(raw.url, [], { handshakeTimeout: 200 });
    const log = recordEvents(ws);
    const conn = await raw.accept();
    await conn.readHead();
    const closed = await nextEvent(ws, 'close');
    assert.ok(Date.now() - started >= 150, 'not before the timeout');
    assert.deepEqual(log.types, ['error', 'close']);
    const error = log.first<ErrorEvent>('error')!.error;
    assert.ok(error instanceof ConnectionError);
    assert.equal(error.code, 'ERR_WS_HANDSHAKE_TIMEOUT');
    assert.equal(closed.code, 1006);
    assert.equal(closed.wasClean, false);
    assert.equal(ws.readyState, WebSocket.CLOSED);
    await conn.waitClosed();
  });

  it('fails with ERR_WS_CONNECTION_REFUSED when nothing listens', T, async (t) => {
    const env = new Scope(t);
    const ws = env.client(`ws://127.0.0.1:${await closedPort()}/`);
    const log = recordEvents(ws);
    const closed = await nextEvent(ws, 'close');
    assert.deepEqual(log.types, ['error', 'close']);
    const error = log.first<ErrorEvent>('error')!.error;
    assert.ok(error instanceof ConnectionError);
    assert.equal(error.code, 'ERR_WS_CONNECTION_REFUSED');
    assert.equal(closed.code, 1006);
    assert.equal(closed.wasClean, false);
  });

  it('reports an HTTP refusal as a HandshakeError with status and body', T, async (t) => {
    const env = new Scope(t);
    const raw = await env.rawServer();
    const ws = env.client(raw.url);
    const log = recordEvents(ws);
    const conn = await raw.accept();
    await conn.readHead();
    conn.write(
      httpResponse(403, 'Forbidden', { 'Content-Type': 'text/plain', 'X-Why': 'test' }, 'no way'),
    );
    const closed = await nextEvent(ws, 'close');
    assert.deepEqual(log.types, ['error', 'close']);
    const error = log.first<ErrorEvent>('error')!.error;
    assert.ok(error instanceof HandshakeError);
    assert.equal(error.code, 'ERR_WS_HANDSHAKE');
    assert.equal(error.status, 403);
    assert.equal(error.headers?.['x-why'], 'test');
    assert.equal(error.body, 'no way');
    assert.equal(closed.code, 1006);
  });

  it('refuses a 101 with a wrong Sec-WebSocket-Accept', T, async (t) => {
    const env = new Scope(t);
    const raw = await env.rawServer();
    const ws = env.client(raw.url);
    const log = recordEvents(ws);
    const upgraded = raw.acceptUpgrade({
      'Sec-WebSocket-Accept': 'dGhlIHNhbXBsZSBub25jZQ==',
    });
    const closed = await nextEvent(ws, 'close');
    const { conn } = await upgraded;
    assert.deepEqual(log.types, ['error', 'close']);
    const error = log.first<ErrorEvent>('error')!.error;
    assert.ok(error instanceof HandshakeError);
    assert.equal(error.code, 'ERR_WS_HANDSHAKE');
    assert.match(error.message, /Sec-WebSocket-Accept/);
    assert.equal(closed.code, 1006);
    await conn.waitClosed();
  });

  it('refuses a subprotocol that was not offered', T, async (t) => {
    const env = new Scope(t);
    const raw = await env.rawServer();
    for (const offered of [['chat'], []]) {
      const ws = env.client(raw.url, offered);
      const log = recordEvents(ws);
      const upgraded = raw.acceptUpgrade({ 'Sec-WebSocket-Protocol': 'superchat' });
      const closed = await nextEvent(ws, 'close');
      await upgraded;
      assert.deepEqual(log.types, ['error', 'close'], `offered ${JSON.stringify(offered)}`);
      const error = log.first<ErrorEvent>('error')!.error;
      assert.ok(error instanceof HandshakeError);
      assert.match(error.message, /superchat/);
      assert.equal(closed.code, 1006);
      assert.equal(ws.protocol, '');
    }
  });

  it('fails with 1002 when the server sends a masked frame', T, async (t) => {
    const { ws, log, conn } = await openRaw(new Scope(t));
    const closed = nextEvent(ws, 'close');
    conn.write(encodeFrame(0x1, 'masked', { mask: true }));
    const frame = await conn.readFrame();
    assert.equal(conn.buffered.length, 0);
    assert.equal(frame.opcode, 0x8);
    assert.equal(frame.fin, true);
    assert.equal(frame.masked, true, 'client frames are masked');
    assert.equal(parseClose(frame.payload).code, 1002);
    const event = await closed;
    assert.deepEqual(log.types, ['open', 'error', 'close']);
    assertClientFailed(log, event, 1002, 'ERR_WS_PROTOCOL');
  });

  it('the raw close frame bytes start with 0x88 and carry 1002', T, async (t) => {
    const { ws, conn } = await openRaw(new Scope(t));
    conn.write(encodeFrame(0x2, Buffer.from([1]), { mask: new Uint8Array([1, 2, 3, 4]) }));
    const bytes = await conn.readToEnd();
    assert.equal(bytes[0], 0x88);
    assert.equal(bytes[1]! & 0x80, 0x80, 'mask bit');
    const length = bytes[1]! & 0x7f;
    const mask = bytes.subarray(2, 6);
    const payload = Buffer.from(bytes.subarray(6, 6 + length).map((b, i) => b ^ mask[i % 4]!));
    assert.equal(payload.readUInt16BE(0), 1002);
    await nextEvent(ws, 'close');
  });

  it('answers a ping with a pong carrying the same payload', T, async (t) => {
    const { ws, conn } = await openRaw(new Scope(t));
    const pinged = nextEvent(ws, 'ping');
    const payload = Buffer.from([0, 1, 2, 0xff, 0x80, 0x41]);
    conn.write(encodeFrame(0x9, payload));
    const pong = await conn.readFrame();
    assert.equal(pong.opcode, 0xa);
    assert.equal(pong.masked, true);
    assert.deepEqual(pong.payload, payload);
    const event = await pinged;
    assert.deepEqual(event.data, payload);
    // An empty ping gets an empty pong, and the connection stays usable.
    conn.write(encodeFrame(0x9));
    const empty = await conn.readFrame();
    assert.equal(empty.opcode, 0xa);
    assert.equal(empty.payload.length, 0);
    assert.equal(ws.readyState, WebSocket.OPEN);
  });

  it('ping() and pong() send control frames and a pong event reports the answer', T, async (t) => {
    const { ws, conn } = await openRaw(new Scope(t));
    ws.ping('are you there');
    const ping = await conn.readFrame();
    assert.equal(ping.opcode, 0x9);
    assert.equal(ping.payload.toString(), 'are you there');
    const ponged = nextEvent(ws, 'pong');
    conn.write(encodeFrame(0xa, ping.payload));
    assert.equal(String((await ponged).data), 'are you there');
    ws.pong(new Uint8Array([7]));
    const pong = await conn.readFrame();
    assert.equal(pong.opcode, 0xa);
    assert.deepEqual([...pong.payload], [7]);
    assert.throws(() => ws.ping(Buffer.alloc(126)), RangeError);
  });

  it('fails with 1009 on a message larger than maxPayload', T, async (t) => {
    const { ws, log, conn } = await openRaw(new Scope(t), [], { maxPayload: 1024 });
    const closed = nextEvent(ws, 'close');
    conn.write(encodeFrame(0x2, Buffer.alloc(1024, 1))); // at the limit: fine
    conn.write(encodeFrame(0x2, Buffer.alloc(1025, 2))); // one byte over
    const frame = await conn.readCloseFrame();
    assert.equal(parseClose(frame.payload).code, 1009);
    const event = await closed;
    assert.deepEqual(log.types, ['open', 'message', 'error', 'close']);
    assertClientFailed(log, event, 1009, 'ERR_WS_MESSAGE_TOO_BIG');
  });

  it('answers a raw server close frame and reports its code', T, async (t) => {
    const { ws, conn } = await openRaw(new Scope(t));
    const closed = nextEvent(ws, 'close');
    conn.write(encodeFrame(0x8, closeBody(3001, 'raw bye')));
    const echo = await conn.readFrame();
    assert.equal(echo.opcode, 0x8);
    assert.equal(parseClose(echo.payload).code, 3001);
    // The server closes the TCP connection after the closing handshake (RFC 6455 7.1.1).
    conn.socket.end();
    const event: CloseEvent = await closed;
    assert.equal(event.code, 3001);
    assert.equal(event.reason, 'raw bye');
    assert.equal(event.wasClean, true);
  });
});

describe('frames from a hand-crafted server', () => {
  it('delivers frames that arrive in the same packet as the 101 answer', T, async (t) => {
    const env = new Scope(t);
    const raw = await env.rawServer();
    const ws = env.client(raw.url);
    const log = recordEvents(ws);
    const messages = collectMessages(ws, 2);
    const conn = await raw.accept();
    const request = await conn.readHead();
    const key = request.headers['sec-websocket-key'] ?? '';
    conn.write(
      Buffer.concat([
        Buffer.from(
          httpResponse(101, 'Switching Protocols', {
            Upgrade: 'websocket',
            Connection: 'Upgrade',
            'Sec-WebSocket-Accept': acceptFor(key),
          }),
        ),
        encodeFrame(0x1, 'early 1'),
        encodeFrame(0x1, 'early 2'),
      ]),
    );
    assert.deepEqual(await messages, ['early 1', 'early 2']);
    assert.deepEqual(log.types.slice(0, 3), ['open', 'message', 'message']);
  });

  it('assembles fragmented messages, with a ping between the fragments', T, async (t) => {
    const { ws, conn } = await openRaw(new Scope(t));
    ws.binaryType = 'nodebuffer';
    const messages = collectMessages(ws, 2);
    const text = Buffer.from('h\u00e9llo w\u00f6rld');
    // Split the text inside a two-byte UTF-8 sequence on purpose.
    conn.write(encodeFrame(0x1, text.subarray(0, 2), { fin: false }));
    conn.write(encodeFrame(0x9, 'mid'));
    conn.write(encodeFrame(0x0, text.subarray(2, 7), { fin: false }));
    conn.write(encodeFrame(0x0, text.subarray(7)));
    conn.write(encodeFrame(0x2, Buffer.from([1, 2]), { fin: false }));
    conn.write(encodeFrame(0x0, Buffer.from([3])));
    const [first, second] = await messages;
    assert.equal(first, 'h\u00e9llo w\u00f6rld');
    assert.deepEqual(second, Buffer.from([1, 2, 3]));
    const pong = await conn.readFrame();
    assert.equal(pong.opcode, 0xa);
    assert.equal(pong.payload.toString(), 'mid');
  });

  it('fails with 1007 on invalid UTF-8 in a text message', T, async (t) => {
    const { ws, log, conn } = await openRaw(new Scope(t));
    const closed = nextEvent(ws, 'close');
    conn.write(encodeFrame(0x1, Buffer.from([0x61, 0xc3, 0x28])));
    const frame = await conn.readCloseFrame();
    assert.equal(parseClose(frame.payload).code, 1007);
    await closed;
    assert.deepEqual(log.types, ['open', 'error', 'close']);
    const error = log.first<ErrorEvent>('error')!.error;
    assert.ok(error instanceof ProtocolError);
    assert.equal(error.code, 'ERR_WS_INVALID_UTF8');
  });

  it('fails with 1002 on a close frame carrying a reserved code', T, async (t) => {
    const { ws, log, conn } = await openRaw(new Scope(t));
    const closed = nextEvent(ws, 'close');
    conn.write(encodeFrame(0x8, closeBody(1005)));
    const frame = await conn.readCloseFrame();
    assert.equal(parseClose(frame.payload).code, 1002);
    const event = await closed;
    assert.deepEqual(log.types, ['open', 'error', 'close']);
    assert.equal(event.code, 1006);
  });

  it('does not deliver messages that arrive after close() was called', T, async (t) => {
    const { ws, log, conn } = await openRaw(new Scope(t));
    ws.close(1000, 'leaving');
    const close = await conn.readFrame();
    assert.deepEqual(parseClose(close.payload), { code: 1000, reason: 'leaving' });
    const closed = nextEvent(ws, 'close');
    conn.write(encodeFrame(0x1, 'late message'));
    conn.write(encodeFrame(0x8, closeBody(1000, 'ack')));
    conn.socket.end();
    const event = await closed;
    assert.deepEqual(log.types, ['open', 'close']);
    assert.equal(event.code, 1000);
    assert.equal(event.reason, 'ack');
    assert.equal(event.wasClean, true);
  });

  it('refuses a 101 that accepts an extension that was not offered', T, async (t) => {
    const env = new Scope(t);
    const raw = await env.rawServer();
    const ws = env.client(raw.url);
    const log = recordEvents(ws);
    const upgraded = raw.acceptUpgrade({ 'Sec-WebSocket-Extensions': 'x-never-offered' });
    await nextEvent(ws, 'close');
    await upgraded;
    assert.deepEqual(log.types, ['error', 'close']);
    assert.ok(log.first<ErrorEvent>('error')!.error instanceof HandshakeError);
  });

  it('refuses a 101 without Upgrade: websocket', T, async (t) => {
    const env = new Scope(t);
    const raw = await env.rawServer();
    const ws = env.client(raw.url);
    const log = recordEvents(ws);
    const upgraded = raw.acceptUpgrade({ Upgrade: 'h2c' });
    await nextEvent(ws, 'close');
    await upgraded;
    assert.deepEqual(log.types, ['error', 'close']);
    const error = log.first<ErrorEvent>('error')!.error;
    assert.ok(error instanceof HandshakeError);
    assert.equal(error.status, 101);
  });

  it('gives up the closing handshake after closeTimeout', T, async (t) => {
    const { ws, conn } = await openRaw(new Scope(t), [], { closeTimeout: 200 });
    const closed = nextEvent(ws, 'close');
    const started = Date.now();
    ws.close(1000);
    const frame = await conn.readFrame();
    assert.equal(frame.opcode, 0x8);
    // The server neither answers nor closes: the client must still finish.
    const event = await closed;
    assert.ok(Date.now() - started >= 150, 'waited for the timeout');
    assert.equal(event.code, 1006);
    assert.equal(event.wasClean, false);
    await conn.waitClosed();
  });

  it('reports ERR_WS_CONNECTION_RESET when the server resets an open connection', T, async (t) => {
    const { ws, log, conn } = await openRaw(new Scope(t));
    const closed = nextEvent(ws, 'close');
    conn.socket.resetAndDestroy();
    const event = await closed;
    assert.deepEqual(log.types, ['open', 'error', 'close']);
    const error = log.first<ErrorEvent>('error')!.error;
    assert.ok(error instanceof ConnectionError);
    assert.equal(error.code, 'ERR_WS_CONNECTION_RESET');
    assert.equal(event.code, 1006);
    assert.equal(event.wasClean, false);
  });

  it('sends URL credentials as Basic authorization and reports the origin', T, async (t) => {
    const env = new Scope(t);
    const raw = await env.rawServer();
    const ws = env.client(`http://us%20er:p%40ss@127.0.0.1:${raw.port}/auth`);
    const { conn, request } = await raw.acceptUpgrade();
    assert.equal(request.statusLine, 'GET /auth HTTP/1.1');
    assert.equal(
      request.headers.authorization,
      `Basic ${Buffer.from('us er:p@ss').toString('base64')}`,
    );
    assert.equal(request.headers.host, `127.0.0.1:${raw.port}`);
    assert.equal(request.headers['sec-websocket-version'], '13');
    await nextEvent(ws, 'open');
    const message = nextEvent(ws, 'message');
    conn.write(encodeFrame(0x1, 'hi'));
    assert.equal((await message).origin, `ws://127.0.0.1:${raw.port}`);
  });
});

describe('more close() and bufferedAmount details', () => {
  it('close() with a reason but no code closes the connection', {
    ...T,
  }, async (t) => {
    const env = new Scope(t);
    const server = await env.server();
    const { client, peer } = await env.pair(server);
    assert.doesNotThrow(() => client.close(undefined, 'reason without code'));
    assert.equal(client.readyState, WebSocket.CLOSING);
    // Close events need the network, so listening after close() returned misses nothing.
    const peerClosed = nextEvent(peer, 'close');
    const clientClosed = nextEvent(client, 'close');
    const [p, c] = await Promise.all([peerClosed, clientClosed]);
    // WHATWG leaves the code out (1005) or uses 1000; either is a clean close.
    assert.ok([1000, 1005].includes(p.code), `server saw ${p.code}`);
    assert.equal(c.wasClean, true);
  });

  it('close() clamps the code as WebIDL [Clamp] unsigned short does', T, async (t) => {
    const env = new Scope(t);
    const server = await env.server();
    const { client, peer } = await env.pair(server);
    for (const code of [Number.NaN, -1, 999.4, 65536, Number.POSITIVE_INFINITY]) {
      assert.throws(() => client.close(code), isDomException('InvalidAccessError'), String(code));
    }
    const peerClosed = nextEvent(peer, 'close');
    const clientClosed = nextEvent(client, 'close');
    client.close(3000.5); // rounds half to even: 3000
    // Further calls do nothing once closing.
    client.close(4000);
    client.close();
    assert.equal((await peerClosed).code, 3000);
    const closed = await clientClosed;
    assert.equal(closed.code, 3000);
    client.close(); // and nothing once closed
    assert.equal(client.readyState, WebSocket.CLOSED);
  });

  it('counts unsent bytes in bufferedAmount and drops to 0 once flushed', T, async (t) => {
    const { ws, conn } = await openRaw(new Scope(t));
    conn.socket.pause(); // the server reads nothing for now
    assert.equal(ws.bufferedAmount, 0);
    // Send 1 MiB messages until the kernel buffers are full and bytes wait in the socket.
    const size = 1024 * 1024;
    const frameBytes = size + 14; // header with a 64-bit length and a mask
    let sent = 0;
    while (ws.bufferedAmount === 0 && sent < 256) {
      ws.send(Buffer.alloc(size, 0x61));
      sent++;
    }
    assert.ok(ws.bufferedAmount > 0, `bytes wait in the socket after ${sent} MiB`);
    assert.ok(ws.bufferedAmount <= frameBytes, `at most the last frame: ${ws.bufferedAmount}`);
    ws.send('marker'); // queued behind the rest
    assert.ok(ws.bufferedAmount > frameBytes - size);
    conn.socket.resume();
    for (let i = 0; i < sent; i++) {
      const frame = await conn.readFrame();
      assert.equal(frame.payload.length, size);
    }
    assert.equal((await conn.readFrame()).payload.toString(), 'marker');
    const deadline = Date.now() + 5000;
    while (ws.bufferedAmount > 0 && Date.now() < deadline) await turn();
    assert.equal(ws.bufferedAmount, 0);
  });
});

describe('input split at every byte', () => {
  it('parses a 101 answer and frames that arrive one byte at a time', T, async (t) => {
    const env = new Scope(t);
    const raw = await env.rawServer();
    const ws = env.client(raw.url);
    ws.binaryType = 'nodebuffer';
    const log = recordEvents(ws);
    const messages = collectMessages(ws, 3);
    const conn = await raw.accept();
    conn.socket.setNoDelay(true);
    const request = await conn.readHead();
    const big = Buffer.alloc(70_000, 0x42); // needs the 64-bit length form
    const bytes = Buffer.concat([
      Buffer.from(
        httpResponse(101, 'Switching Protocols', {
          upgrade: 'WebSocket',
          connection: 'keep-alive, Upgrade',
          'sec-websocket-accept': acceptFor(request.headers['sec-websocket-key'] ?? ''),
        }),
      ),
      encodeFrame(0x1, 'tiny'),
      encodeFrame(0x2, Buffer.alloc(300, 0x41)), // 16-bit length form
      encodeFrame(0x2, big),
    ]);
    // Byte by byte through the head and every frame header, then larger slices.
    const headerEnd = bytes.length - big.length;
    for (let i = 0; i < headerEnd; i++) {
      conn.write(bytes.subarray(i, i + 1));
      if (i % 16 === 0) await turn();
    }
    for (let i = headerEnd; i < bytes.length; i += 9999) conn.write(bytes.subarray(i, i + 9999));
    const [tiny, medium, large] = await messages;
    assert.equal(tiny, 'tiny');
    assert.deepEqual(medium, Buffer.alloc(300, 0x41));
    assert.ok(Buffer.isBuffer(large) && large.equals(big));
    assert.deepEqual(log.types, ['open', 'message', 'message', 'message']);
  });
});
