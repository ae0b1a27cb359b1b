/**
 * WebSocketServer over real sockets on 127.0.0.1: the three ways to run it, path, authenticate,
 * subprotocols, limits, client tracking, broadcast, shutdown, the handshake checks it makes on
 * hand-crafted requests, and what it does with peers that misbehave.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { describe, it } from 'node:test';
import {
  type ErrorEvent,
  HandshakeError,
  type MessageEvent,
  ProtocolError,
  WebSocket,
  WebSocketServer,
} from '../../src/index.js';
import { closeBody, decodeFrame } from '../support/frames.js';
import {
  acceptFor,
  type ByteReader,
  closeNetServer,
  makeKey,
  upgradeRequest,
} from '../support/raw-peers.js';
import { closeServer, Scope, type ServerOptions, type StartedServer } from '../support/scope.js';
import { WAIT_MS } from '../support/timeouts.js';
import { upgradeResponse } from '../support/upgrade-response.js';
import { nextEmit, nextEvent, turn } from '../support/waits.js';
import {
  assertClientFailed,
  collectMessages,
  encodeFrame,
  parseClose,
  prng,
  recordEvents,
} from './helpers.js';

const T = { timeout: 10_000 };

type Connection = [WebSocket, IncomingMessage];

/** Opens a client and resolves with the error its failed handshake reported. */
async function handshakeError(env: Scope, url: string, protocols?: string[]): Promise<unknown> {
  const ws = env.client(url, protocols);
  const log = recordEvents(ws);
  const closed = await nextEvent(ws, 'close');
  assert.deepEqual(log.types, ['error', 'close']);
  assert.equal(closed.code, 1006);
  return log.first<ErrorEvent>('error')!.error;
}

/** Sends `request` over a fresh TCP connection and reads the HTTP answer. */
async function rawAnswer(env: Scope, port: number, request: string) {
  const conn = await env.rawClient(port);
  conn.write(request);
  const response = await conn.readResponse();
  return { conn, response };
}

/** An http.Server on 127.0.0.1:0 that answers plain requests with `hello`. */
async function httpServer(env: Scope) {
  const sockets = new Set<Socket>();
  const http = createHttpServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end('hello from http');
  });
  http.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  env.defer(() => closeNetServer(http, sockets));
  http.listen(0, '127.0.0.1');
  await nextEmit(http, 'listening');
  const { port } = http.address() as AddressInfo;
  return { http, port };
}

describe('ways to run the server', () => {
  it('listens standalone on port 0 and reports its address', T, async (t) => {
    const env = new Scope(t);
    let called = 0;
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' }, () => called++);
    env.defer(() => closeServer(wss));
    await nextEmit(wss, 'listening');
    const address = wss.address() as AddressInfo;
    assert.equal(address.address, '127.0.0.1');
    assert.equal(address.family, 'IPv4');
    assert.ok(address.port > 0);
    assert.equal(called, 1, 'the listening callback ran');
    const connected = nextEmit<Connection>(wss, 'connection');
    const client = await env.open(`ws://127.0.0.1:${address.port}/x?y=1`);
    const [peer, request] = await connected;
    assert.ok(peer instanceof WebSocket);
    assert.equal(peer.readyState, WebSocket.OPEN);
    assert.equal(request.url, '/x?y=1');
    const echoed = nextEvent(client, 'message');
    peer.send('welcome');
    assert.equal((await echoed).data, 'welcome');
  });

  it('needs exactly one of port, server and noServer', () => {
    assert.throws(() => new WebSocketServer({}), TypeError);
    assert.throws(() => new WebSocketServer({ port: 0, noServer: true }), TypeError);
  });

  it('attaches to an existing http.Server that still answers plain requests', T, async (t) => {
    const env = new Scope(t);
    const { http, port } = await httpServer(env);
    const wss = new WebSocketServer({ server: http });
    env.defer(() => closeServer(wss));
    await nextEmit(wss, 'listening'); // emitted for a server that already listens
    assert.equal((wss.address() as AddressInfo).port, port);
    wss.on('connection', (peer) => {
      peer.addEventListener('message', (event: MessageEvent) => peer.send(`echo:${event.data}`));
    });
    const response = await fetch(`http://127.0.0.1:${port}/page`);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), 'hello from http');

    const client = await env.open(`ws://127.0.0.1:${port}/ws`);
    const reply = nextEvent(client, 'message');
    client.send('ping');
    assert.equal((await reply).data, 'echo:ping');

    // Closing the WebSocketServer leaves the user's http.Server running.
    const clientClosed = nextEvent(client, 'close');
    await closeServer(wss);
    assert.equal((await clientClosed).code, 1001);
    assert.equal(http.listening, true);
    const again = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(await again.text(), 'hello from http');
  });

  it('works with noServer and handleUpgrade from the upgrade event', T, async (t) => {
    const env = new Scope(t);
    const { http, port } = await httpServer(env);
    const wss = new WebSocketServer({ noServer: true });
    env.defer(() => closeServer(wss));
    assert.equal(wss.address(), null);
    const seen: string[] = [];
    http.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) => {
      seen.push(request.url ?? '');
      if (request.url !== '/ws') {
        socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      wss.handleUpgrade(request, socket, head, (ws, req) => wss.emit('connection', ws, req));
    });
    wss.on('connection', (peer) => peer.send('hello via handleUpgrade'));
    const client = env.client(`ws://127.0.0.1:${port}/ws`);
    const message = await nextEvent(client, 'message');
    assert.equal(message.data, 'hello via handleUpgrade');
    assert.equal(wss.clients.size, 1);

    const error = await handshakeError(env, `ws://127.0.0.1:${port}/other`);
    assert.ok(error instanceof HandshakeError);
    assert.equal(error.status, 404);
    assert.deepEqual(seen, ['/ws', '/other']);
  });

  it('handleUpgrade refuses with 503 once a noServer server is closed', T, async (t) => {
    const env = new Scope(t);
    const { http, port } = await httpServer(env);
    const wss = new WebSocketServer({ noServer: true });
    http.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) => {
      wss.handleUpgrade(request, socket, head, (ws, req) => wss.emit('connection', ws, req));
    });
    await closeServer(wss);
    const error = await handshakeError(env, `ws://127.0.0.1:${port}/`);
    assert.ok(error instanceof HandshakeError);
    assert.equal(error.status, 503);
  });

  it('emits error with ERR_WS_ADDRESS_IN_USE when the port is taken', T, async (t) => {
    const env = new Scope(t);
    const first = await env.server();
    const second = new WebSocketServer({ port: first.port, host: '127.0.0.1' });
    env.defer(() => closeServer(second));
    const [error] = await nextEmit<[Error & { code?: string }]>(second, 'error');
    assert.equal(error.code, 'ERR_WS_ADDRESS_IN_USE');
  });
});

describe('more ways to run the server', () => {
  it('emits listening when an attached http.Server starts listening later', T, async (t) => {
    const env = new Scope(t);
    const http = createHttpServer();
    env.defer(() => closeNetServer(http));
    const wss = new WebSocketServer({ server: http });
    env.defer(() => closeServer(wss));
    assert.equal(wss.address(), null);
    const listening = nextEmit(wss, 'listening');
    http.listen(0, '127.0.0.1');
    await listening;
    const { port } = wss.address() as AddressInfo;
    await env.open(`ws://127.0.0.1:${port}/`);
    assert.equal(wss.clients.size, 1);
  });

  it('close() of a noServer server closes its clients with 1001', T, async (t) => {
    const env = new Scope(t);
    const { http, port } = await httpServer(env);
    const wss = new WebSocketServer({ noServer: true });
    env.defer(() => closeServer(wss));
    http.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) => {
      wss.handleUpgrade(request, socket, head, (ws, req) => wss.emit('connection', ws, req));
    });
    const client = await env.open(`ws://127.0.0.1:${port}/`);
    const closed = nextEvent(client, 'close');
    await closeServer(wss);
    const event = await closed;
    assert.equal(event.code, 1001);
    assert.equal(wss.clients.size, 0);
  });

  it('close() drops handshakes still waiting for authenticate', T, async (t) => {
    const env = new Scope(t);
    let release: (ok: boolean) => void = () => {};
    let asked: () => void = () => {};
    const authenticating = new Promise<void>((resolve) => {
      asked = resolve;
    });
    const server = await env.server({
      authenticate: () =>
        new Promise<boolean>((resolve) => {
          release = resolve;
          asked();
        }),
    });
    env.defer(() => release(true));
    const ws = env.client(server.url);
    const log = recordEvents(ws);
    await authenticating;
    const closed = nextEvent(ws, 'close');
    await closeServer(server.wss);
    const event = await closed;
    assert.deepEqual(log.types, ['error', 'close']);
    assert.equal(event.code, 1006);
    // A late verdict changes nothing.
    release(true);
    await turn();
    assert.equal(server.wss.clients.size, 0);
  });
});

describe('response headers', () => {
  it('sends the headers option with every 101 answer', T, async (t) => {
    const env = new Scope(t);
    const server = await env.server({ headers: { Server: 'echo/1.0', 'X-Region': 'eu' } });
    const answer = await upgradeResponse(server.url);
    assert.equal(answer.status, 101);
    assert.equal(answer.headers.server, 'echo/1.0');
    assert.equal(answer.headers['x-region'], 'eu');
    assert.equal(answer.headers.upgrade, 'websocket');
  });

  it('refuses bad or reserved headers when the server is made', () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ 'Bad Name': 'x' }, /invalid header name "Bad Name"/],
      [{ Server: 'a\r\nSet-Cookie: x' }, /invalid value for header "Server"/],
      [{ 'Sec-WebSocket-Accept': 'x' }, /set by the WebSocket handshake/],
      [{ connection: 'close' }, /set by the WebSocket handshake/],
      [{ 'Content-Length': '5' }, /set by the WebSocket handshake/],
    ];
    for (const [headers, message] of cases) {
      assert.throws(
        () => new WebSocketServer({ noServer: true, headers }),
        (error: unknown) => {
          assert.ok(error instanceof TypeError);
          assert.match(error.message, message);
          return true;
        },
      );
    }
    assert.throws(
      () => new WebSocketServer({ noServer: true, headers: 'Server: x' as never }),
      /headers must be an object/,
    );
  });
});

describe('path', () => {
  it('accepts its path (with any query) and refuses others with 400', T, async (t) => {
    const env = new Scope(t);
    const server = await env.server({ path: '/ws' });
    const connected = nextEmit<Connection>(server.wss, 'connection');
    await env.open(`${server.url}/ws?token=abc`);
    const [, request] = await connected;
    assert.equal(request.url, '/ws?token=abc');
    for (const path of ['/', '/other', '/ws/', '/wss']) {
      const error = await handshakeError(env, server.url + path);
      assert.ok(error instanceof HandshakeError, path);
      assert.equal(error.status, 400, path);
    }
    assert.equal(server.wss.clients.size, 1);
  });
});

describe('authenticate', () => {
  it('accepts after an asynchronous check that returns true or nothing', T, async (t) => {
    const env = new Scope(t);
    const tokens: Array<string | undefined> = [];
    const server = await env.server({
      authenticate: async (request) => {
        tokens.push(request.headers['x-token'] as string | undefined);
        await new Promise((resolve) => setImmediate(resolve));
        if (request.headers['x-token'] === 'void') return;
        return request.headers['x-token'] === 'good';
      },
    });
    await env.open(server.url, [], { headers: { 'X-Token': 'good' } });
    await env.open(server.url, [], { headers: { 'X-Token': 'void' } });
    assert.deepEqual(tokens, ['good', 'void']);
    assert.equal(server.wss.clients.size, 2);
  });

  it('refuses with 401 when the hook returns false', T, async (t) => {
    const env = new Scope(t);
    const server = await env.server({ authenticate: () => false });
    const error = await handshakeError(env, server.url);
    assert.ok(error instanceof HandshakeError);
    assert.equal(error.status, 401);
    assert.equal(server.wss.clients.size, 0);
  });

  it('refuses with the status, body and headers the hook returns', T, async (t) => {
    const env = new Scope(t);
    const server = await env.server({
      authenticate: async () => ({ status: 403, body: 'nope', headers: { 'X-Reason': 'banned' } }),
    });
    const error = await handshakeError(env, server.url);
    assert.ok(error instanceof HandshakeError);
    assert.equal(error.status, 403);
    assert.equal(error.body, 'nope');
    assert.equal(error.headers?.['x-reason'], 'banned');
    assert.match(error.message, /403/);
  });

  it('refuses with 500 and emits error when the hook throws or rejects', T, async (t) => {
    const env = new Scope(t);
    const failure = new Error('database down');
    let call = 0;
    const server = await env.server({
      authenticate: (): boolean | Promise<boolean> => {
        call++;
        if (call === 1) throw failure;
        return Promise.reject(failure);
      },
    });
    const errors: Array<Error & { code?: string }> = [];
    server.wss.on('error', (error) => errors.push(error));
    for (let i = 0; i < 2; i++) {
      const error = await handshakeError(env, server.url);
      assert.ok(error instanceof HandshakeError);
      assert.equal(error.status, 500);
    }
    assert.equal(errors.length, 2);
    for (const error of errors) {
      assert.equal(error.code, 'ERR_WS_HANDSHAKE');
      assert.equal(error.cause, failure);
    }
  });

  it('answers 500 when the refusal the hook returns has an invalid header', {
    ...T,
  }, async (t) => {
    const env = new Scope(t);
    // Watch for unhandled rejections here instead of letting them fail the whole run.
    const saved = process.listeners('unhandledRejection');
    const rejections: unknown[] = [];
    process.removeAllListeners('unhandledRejection');
    process.on('unhandledRejection', (reason) => rejections.push(reason));
    env.defer(() => {
      process.removeAllListeners('unhandledRejection');
      for (const listener of saved) process.on('unhandledRejection', listener);
    });
    // An attached server, so that cleanup can destroy a socket left unanswered.
    const { http, port } = await httpServer(env);
    const wss = new WebSocketServer({
      server: http,
      authenticate: async () => ({ status: 403, headers: { 'X-Bad': 'line\nbreak' } }),
    });
    env.defer(() => closeServer(wss));
    const ws = env.client(`ws://127.0.0.1:${port}/`, [], { handshakeTimeout: 1000 });
    const log = recordEvents(ws);
    await nextEvent(ws, 'close');
    assert.deepEqual(rejections, []);
    const error = log.first<ErrorEvent>('error')?.error;
    assert.ok(error instanceof HandshakeError, `got ${String(error)}`);
    assert.equal(error.status, 500);
  });

  it('a throwing hook without an error listener does not crash the server', T, async (t) => {
    const env = new Scope(t);
    let fail = true;
    const server = await env.server({
      authenticate: () => {
        if (fail) throw new Error('boom');
        return true;
      },
    });
    const error = await handshakeError(env, server.url);
    assert.ok(error instanceof HandshakeError);
    assert.equal(error.status, 500);
    fail = false;
    await env.open(server.url);
  });
});

describe('subprotocols', () => {
  it('handleProtocols picks the protocol the client sees', T, async (t) => {
    const env = new Scope(t);
    const offers: string[][] = [];
    const server = await env.server({
      handleProtocols: (protocols, request) => {
        assert.ok(protocols instanceof Set);
        assert.equal(typeof request.headers.host, 'string');
        offers.push([...protocols]);
        return protocols.has('v2.chat') ? 'v2.chat' : false;
      },
    });
    const connected = nextEmit<Connection>(server.wss, 'connection');
    const picked = await env.open(server.url, ['v1.chat', 'v2.chat']);
    assert.equal(picked.protocol, 'v2.chat');
    const [peer] = await connected;
    assert.equal(peer.protocol, 'v2.chat');

    const none = await env.open(server.url, ['v3.chat']);
    assert.equal(none.protocol, '');
    assert.deepEqual(offers, [['v1.chat', 'v2.chat'], ['v3.chat']]);
  });

  it('picks the first offered protocol by default', T, async (t) => {
    const env = new Scope(t);
    const server = await env.server();
    const ws = await env.open(server.url, ['first', 'second']);
    assert.equal(ws.protocol, 'first');
    const plain = await env.open(server.url);
    assert.equal(plain.protocol, '');
  });

  it('answers 500 when handleProtocols throws, as it does for authenticate', {
    ...T,
  }, async (t) => {
    const env = new Scope(t);
    const { http, port } = await httpServer(env);
    const wss = new WebSocketServer({
      noServer: true,
      handleProtocols: () => {
        throw new Error('handleProtocols failed');
      },
    });
    env.defer(() => closeServer(wss));
    const escaped: unknown[] = [];
    http.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) => {
      try {
        wss.handleUpgrade(request, socket, head, (ws, req) => wss.emit('connection', ws, req));
      } catch (error) {
        escaped.push(error); // without this catch the process would crash
      }
    });
    const ws = env.client(`ws://127.0.0.1:${port}/`, ['chat'], { handshakeTimeout: 1000 });
    const log = recordEvents(ws);
    await nextEvent(ws, 'close');
    assert.deepEqual(escaped, []);
    const error = log.first<ErrorEvent>('error')?.error;
    assert.ok(error instanceof HandshakeError, `got ${String(error)}`);
    assert.equal(error.status, 500);
  });

  it('refuses with 500 when handleProtocols picks one that was not offered', T, async (t) => {
    const env = new Scope(t);
    const server = await env.server({ handleProtocols: () => 'invented' });
    const error = await handshakeError(env, server.url, ['real']);
    assert.ok(error instanceof HandshakeError);
    assert.equal(error.status, 500);
  });
});

describe('limits and options of accepted sockets', () => {
  it('closes with 1009 when a client sends more than maxPayload', T, async (t) => {
    const env = new Scope(t);
    const server = await env.server({ maxPayload: 100 });
    const { client, peer } = await env.pair(server);
    const peerLog = recordEvents(peer);
    const got = collectMessages(peer, 1);
    client.send(Buffer.alloc(100, 1)); // exactly the limit
    assert.equal(((await got)[0] as Buffer).length, 100);
    const clientClosed = nextEvent(client, 'close');
    const peerClosed = nextEvent(peer, 'close');
    client.send('x'.repeat(101));
    const event = await clientClosed;
    assert.equal(event.code, 1009);
    assert.equal((await peerClosed).wasClean, false);
    const error = peerLog.first<ErrorEvent>('error')?.error;
    assert.ok(error instanceof ProtocolError);
    assert.equal(error.closeCode, 1009);
    assert.equal(peerLog.types.at(-1), 'close');
  });

  it('gives accepted sockets the binaryType option (default nodebuffer)', T, async (t) => {
    const env = new Scope(t);
    const plain = await env.server();
    const a = await env.pair(plain);
    assert.equal(a.peer.binaryType, 'nodebuffer');
    let message = nextEvent(a.peer, 'message');
    a.client.send(new Uint8Array([1, 2]));
    assert.ok(Buffer.isBuffer((await message).data));

    const typed = await env.server({ binaryType: 'arraybuffer' });
    const b = await env.pair(typed);
    assert.equal(b.peer.binaryType, 'arraybuffer');
    message = nextEvent(b.peer, 'message');
    b.client.send(new Uint8Array([3, 4]));
    const data = (await message).data;
    assert.ok(data instanceof ArrayBuffer);
    assert.deepEqual([...new Uint8Array(data)], [3, 4]);
  });

  it('round-trips large messages in both directions', T, async (t) => {
    const env = new Scope(t);
    const server = await env.server();
    server.wss.on('connection', (peer) => {
      peer.addEventListener('message', (event: MessageEvent) => peer.send(event.data as Buffer));
    });
    const client = await env.open(server.url, [], { binaryType: 'nodebuffer' });
    const big = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
    const reply = nextEvent(client, 'message');
    client.send(big);
    const data = (await reply).data as Buffer;
    assert.equal(data.length, big.length);
    assert.ok(data.equals(big));
  });

  it('feeds bytes that arrived together with the upgrade request', T, async (t) => {
    const env = new Scope(t);
    const server = await env.server();
    const connected = nextEmit<Connection>(server.wss, 'connection');
    const conn = await env.rawClient(server.port);
    const messages: unknown[] = [];
    server.wss.once('connection', (peer) => {
      peer.addEventListener('message', (event: MessageEvent) => messages.push(event.data));
    });
    conn.write(
      Buffer.concat([
        Buffer.from(upgradeRequest()),
        encodeFrame(0x1, 'in the same packet', { mask: true }),
      ]),
    );
    const head = await conn.readHead();
    assert.equal(head.status, 101);
    const [peer] = await connected;
    if (messages.length === 0) await nextEvent(peer, 'message');
    assert.deepEqual(messages, ['in the same packet']);
  });
});

describe('client tracking', () => {
  it('tracks open clients and forgets closed ones', T, async (t) => {
    const env = new Scope(t);
    const server = await env.server();
    const a = await env.pair(server);
    const b = await env.pair(server);
    assert.equal(server.wss.clients.size, 2);
    assert.ok(server.wss.clients.has(a.peer));
    assert.ok(server.wss.clients.has(b.peer));
    const gone = nextEvent(a.peer, 'close');
    a.client.close();
    await gone;
    assert.equal(server.wss.clients.size, 1);
    assert.ok(!server.wss.clients.has(a.peer));
    const dropped = nextEvent(b.peer, 'close');
    b.client.terminate();
    await dropped;
    assert.equal(server.wss.clients.size, 0);
  });

  it('keeps clients empty with clientTracking: false', T, async (t) => {
    const env = new Scope(t);
    const server = await env.server({ clientTracking: false });
    const { client, peer } = await env.pair(server);
    assert.equal(server.wss.clients.size, 0);
    // Untracked sockets are the user's to close.
    const closed = nextEvent(peer, 'close');
    client.close();
    await closed;
  });
});

describe('broadcast', () => {
  async function clients(env: Scope, server: StartedServer, n: number) {
    const pairs: Array<{ client: WebSocket; peer: WebSocket }> = [];
    for (let i = 0; i < n; i++)
      pairs.push(await env.pair(server, '/', [], { binaryType: 'nodebuffer' }));
    return pairs;
  }

  it('sends to every client and returns the count', T, async (t) => {
    const env = new Scope(t);
    const server = await env.server();
    const pairs = await clients(env, server, 4);
    const received = pairs.map((p) => nextEvent(p.client, 'message'));
    assert.equal(server.wss.broadcast('to all'), 4);
    for (const event of await Promise.all(received)) assert.equal(event.data, 'to all');
  });

  it('honours except and filter, and sends binary', T, async (t) => {
    const env = new Scope(t);
    const server = await env.server();
    const pairs = await clients(env, server, 4);
    const expected = [3, 4, 4, 5];
    const logs = pairs.map((p, i) => collectMessages(p.client, expected[i]!));
    const sender = pairs[0]!.peer;
    const count = server.wss.broadcast('not to the sender', { except: sender });
    assert.equal(count, 3);
    const odd = new Set([pairs[1]!.peer, pairs[3]!.peer]);
    assert.equal(server.wss.broadcast(Buffer.from([1, 2, 3]), { filter: (ws) => odd.has(ws) }), 2);
    assert.equal(server.wss.broadcast('as binary', { binary: true, except: pairs[1]!.peer }), 3);
    assert.equal(server.wss.broadcast(new Uint8Array([9]).buffer), 4);
    assert.equal(server.wss.broadcast('end'), 4);
    const received = await Promise.all(logs);
    const show = (data: unknown) =>
      Buffer.isBuffer(data) ? `bin:${data.toString('hex')}` : `text:${String(data)}`;
    const binaryText = Buffer.from('as binary').toString('hex');
    assert.deepEqual(received[0]!.map(show), [`bin:${binaryText}`, 'bin:09', 'text:end']);
    assert.deepEqual(received[1]!.map(show), [
      'text:not to the sender',
      'bin:010203',
      'bin:09',
      'text:end',
    ]);
    assert.deepEqual(received[2]!.map(show), [
      'text:not to the sender',
      `bin:${binaryText}`,
      'bin:09',
      'text:end',
    ]);
    assert.deepEqual(received[3]!.map(show), [
      'text:not to the sender',
      'bin:010203',
      `bin:${binaryText}`,
      'bin:09',
      'text:end',
    ]);
  });

  it('skips clients that are closing and counts only the ones it wrote to', T, async (t) => {
    const env = new Scope(t);
    const server = await env.server();
    const pairs = await clients(env, server, 3);
    pairs[0]!.peer.close(1000);
    assert.equal(server.wss.broadcast('after one closed'), 2);
  });

  it('reaches a client whose own Blob send is still pending', T, async (t) => {
    const env = new Scope(t);
    const server = await env.server();
    const [pair] = await clients(env, server, 1);
    const { client, peer } = pair!;
    const got = collectMessages(client, 2);
    peer.send(new Blob(['blob first']));
    const count = server.wss.broadcast('broadcast second');
    assert.equal(count, 1);
    const data = await got;
    assert.deepEqual(
      data.map((d) => String(d)),
      ['blob first', 'broadcast second'],
    );
  });
});

describe('close()', () => {
  it('closes every client with 1001, emits close and calls the callback', T, async (t) => {
    const env = new Scope(t);
    const server = await env.server();
    const pairs = [await env.pair(server), await env.pair(server), await env.pair(server)];
    const clientCloses = pairs.map((p) => nextEvent(p.client, 'close'));
    const peerCloses = pairs.map((p) => nextEvent(p.peer, 'close'));
    const emitted = nextEmit(server.wss, 'close');
    let callbackCalls = 0;
    const callback = new Promise<void>((resolve) =>
      server.wss.close(() => {
        callbackCalls++;
        resolve();
      }),
    );
    for (const event of await Promise.all(clientCloses)) {
      assert.equal(event.code, 1001);
      assert.equal(event.reason, 'server shutting down');
      assert.equal(event.wasClean, true);
    }
    for (const event of await Promise.all(peerCloses)) assert.equal(event.wasClean, true);
    await Promise.all([emitted, callback]);
    assert.equal(callbackCalls, 1);
    assert.equal(server.wss.clients.size, 0);
    // The owned HTTP server is closed: nothing listens on the port any more.
    const error = await handshakeError(env, server.url);
    assert.equal((error as { code?: string }).code, 'ERR_WS_CONNECTION_REFUSED');
    // Closing again calls the callback too.
    await new Promise<void>((resolve) => server.wss.close(() => resolve()));
  });

  it('emits close for a noServer server without clients', T, async (t) => {
    const env = new Scope(t);
    const wss = new WebSocketServer({ noServer: true });
    env.defer(() => closeServer(wss));
    const emitted = nextEmit(wss, 'close');
    wss.close();
    await emitted;
  });
});

describe('HTTP answers of a standalone server', () => {
  it('answers a plain GET with 426 Upgrade Required', T, async (t) => {
    const env = new Scope(t);
    const server = await env.server();
    const response = await fetch(`http://127.0.0.1:${server.port}/`);
    assert.equal(response.status, 426);
    assert.equal(response.headers.get('upgrade'), 'websocket');
    await response.text();
  });

  it('answers a non-GET upgrade with 405 and Allow: GET', T, async (t) => {
    const env = new Scope(t);
    const server = await env.server();
    const { response } = await rawAnswer(
      env,
      server.port,
      upgradeRequest({ method: 'POST', extra: [['Content-Length', '0']] }),
    );
    assert.equal(response.status, 405);
    assert.equal(response.headers.allow, 'GET');
  });

  it('answers an HTTP/1.0 upgrade with 400', T, async (t) => {
    const env = new Scope(t);
    const server = await env.server();
    const { response } = await rawAnswer(env, server.port, upgradeRequest({ version: '1.0' }));
    assert.equal(response.status, 400);
  });

  it('answers an upgrade without Host with 400', T, async (t) => {
    const env = new Scope(t);
    const server = await env.server();
    const { response } = await rawAnswer(env, server.port, upgradeRequest({ host: null }));
    assert.equal(response.status, 400);
  });

  it('answers a missing or malformed Sec-WebSocket-Key with 400', T, async (t) => {
    const env = new Scope(t);
    const server = await env.server();
    const badKeys = [
      'short',
      'AAAAAAAAAAAAAAAAAAAAAA', // no padding
      'AAAAAAAAAAAAAAAAAAAAAB==', // 16 bytes would need the last 4 bits zero
      '!!!!!!!!!!!!!!!!!!!!!!==',
      Buffer.alloc(17).toString('base64'),
    ];
    for (const key of badKeys) {
      const { response } = await rawAnswer(env, server.port, upgradeRequest({ key }));
      assert.equal(response.status, 400, key);
      assert.match(response.body, /Sec-WebSocket-Key/, key);
    }
    const noKey = upgradeRequest().replace(/Sec-WebSocket-Key: [^\r]*\r\n/, '');
    const { response } = await rawAnswer(env, server.port, noKey);
    assert.equal(response.status, 400);
    assert.equal(server.wss.clients.size, 0);
  });

  it('answers version 8 with 426 and Sec-WebSocket-Version: 13', T, async (t) => {
    const env = new Scope(t);
    const server = await env.server();
    const { response } = await rawAnswer(env, server.port, upgradeRequest({ wsVersion: '8' }));
    assert.equal(response.status, 426);
    assert.equal(response.headers['sec-websocket-version'], '13');
  });

  it('answers more than maxHeaders request headers with 431', T, async (t) => {
    const env = new Scope(t);
    const server = await env.server({ maxHeaders: 10 });
    // upgradeRequest() writes 5 headers; 5 more is exactly the limit.
    const extra = (n: number) =>
      Array.from({ length: n }, (_, i): [string, string] => [`X-Extra-${i}`, 'v']);
    const ok = await env.rawClient(server.port);
    ok.write(upgradeRequest({ extra: extra(5) }));
    assert.equal((await ok.readHead()).status, 101);
    const { response } = await rawAnswer(env, server.port, upgradeRequest({ extra: extra(20) }));
    assert.equal(response.status, 431);
  });

  it('answers 101 with the right Sec-WebSocket-Accept to a valid raw request', T, async (t) => {
    const env = new Scope(t);
    const server = await env.server();
    const conn = await env.rawClient(server.port);
    const key = makeKey();
    conn.write(upgradeRequest({ key, extra: [['Sec-WebSocket-Protocol', 'a, b']] }));
    const head = await conn.readHead();
    assert.equal(head.status, 101);
    assert.equal(head.headers.upgrade?.toLowerCase(), 'websocket');
    assert.equal(head.headers.connection?.toLowerCase(), 'upgrade');
    assert.equal(head.headers['sec-websocket-accept'], acceptFor(key));
    assert.equal(head.headers['sec-websocket-protocol'], 'a');
  });
});

describe('misbehaving peers', () => {
  it('fails with 1002 when a client sends an unmasked frame', T, async (t) => {
    const { conn, peer } = await rawPeer(new Scope(t));
    const log = recordEvents(peer);
    const closed = nextEvent(peer, 'close');
    conn.write(encodeFrame(0x1, 'not masked'));
    const frame = await conn.readFrame();
    assert.equal(frame.opcode, 0x8);
    assert.equal(frame.masked, false, 'server frames are not masked');
    assert.equal(parseClose(frame.payload).code, 1002);
    // The server closes the connection without waiting for an answer.
    await conn.readToEnd();
    const event = await closed;
    assert.deepEqual(log.types, ['error', 'close']);
    assertClientFailed(log, event, 1002, 'ERR_WS_PROTOCOL');
  });

  it('answers a ping with an unmasked pong carrying the same payload', T, async (t) => {
    const { conn, peer } = await rawPeer(new Scope(t));
    const pinged = nextEvent(peer, 'ping');
    conn.write(encodeFrame(0x9, 'heartbeat', { mask: true }));
    const pong = await conn.readFrame();
    assert.equal(pong.opcode, 0xa);
    assert.equal(pong.masked, false);
    assert.equal(pong.payload.toString(), 'heartbeat');
    assert.equal(String((await pinged).data), 'heartbeat');
  });

  it('fails with 1009 when fragments add up to more than maxPayload', T, async (t) => {
    const { conn, peer } = await rawPeer(new Scope(t), { maxPayload: 100 });
    const log = recordEvents(peer);
    const peerClosed = nextEvent(peer, 'close');
    conn.write(encodeFrame(0x2, Buffer.alloc(60), { fin: false, mask: true }));
    conn.write(encodeFrame(0x0, Buffer.alloc(60), { mask: true }));
    const frame = await conn.readCloseFrame();
    assert.equal(parseClose(frame.payload).code, 1009);
    await conn.readToEnd();
    assert.equal((await peerClosed).code, 1006);
    assert.ok(!log.types.includes('message'));
    const error = log.first<ErrorEvent>('error')?.error;
    assert.ok(error instanceof ProtocolError);
    assert.equal(error.code, 'ERR_WS_MESSAGE_TOO_BIG');
  });

  it('fails with 1007 on invalid UTF-8 from a client', T, async (t) => {
    const env = new Scope(t);
    const server = await env.server();
    const conn = await env.rawUpgrade(server.port);
    conn.write(encodeFrame(0x1, Buffer.from([0xed, 0xa0, 0x80]), { mask: true })); // a surrogate
    const frame = await conn.readCloseFrame();
    assert.equal(parseClose(frame.payload).code, 1007);
    await conn.readToEnd();
  });

  it('answers a client close frame, closes TCP first and reports a clean close', T, async (t) => {
    const { conn, peer } = await rawPeer(new Scope(t));
    const closed = nextEvent(peer, 'close');
    conn.write(encodeFrame(0x8, closeBody(4000, 'raw client'), { mask: true }));
    const echo = await conn.readFrame();
    assert.equal(echo.opcode, 0x8);
    assert.equal(parseClose(echo.payload).code, 4000);
    const rest = await conn.readToEnd();
    assert.equal(rest.length, 0);
    const event = await closed;
    assert.equal(event.code, 4000);
    assert.equal(event.reason, 'raw client');
    assert.equal(event.wasClean, true);
  });

  it('reports 1006, not clean, when a client drops the connection', T, async (t) => {
    const { server, conn, peer } = await rawPeer(new Scope(t));
    const closed = nextEvent(peer, 'close');
    conn.socket.end();
    const event = await closed;
    assert.equal(event.code, 1006);
    assert.equal(event.wasClean, false);
    assert.equal(server.wss.clients.size, 0);
  });

  it('destroys a client that never answers the close frame after closeTimeout', T, async (t) => {
    const { server, conn, peer } = await rawPeer(new Scope(t), { closeTimeout: 200 });
    const closed = nextEvent(peer, 'close');
    const started = Date.now();
    peer.close(1000, 'bye');
    const frame = await conn.readFrame();
    assert.deepEqual(parseClose(frame.payload), { code: 1000, reason: 'bye' });
    // The raw client ignores the close frame and keeps the connection open.
    await conn.waitClosed();
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 150, `closed after ${elapsed} ms`);
    const event = await closed;
    assert.equal(event.code, 1006);
    assert.equal(event.wasClean, false);
    assert.equal(server.wss.clients.size, 0);
  });

  it('close() finishes even when a client never answers, after closeTimeout', T, async (t) => {
    const { server, conn } = await rawPeer(new Scope(t), { closeTimeout: 200 });
    await closeServer(server.wss);
    const frame = await conn.readFrame();
    assert.equal(parseClose(frame.payload).code, 1001);
    await conn.waitClosed();
  });
});

/** A server (options as given) with one raw client that completed its opening handshake. */
async function rawPeer(
  env: Scope,
  options: ServerOptions = {},
): Promise<{ server: StartedServer; conn: ByteReader; peer: WebSocket }> {
  const server = await env.server(options);
  const connected = nextEmit<Connection>(server.wss, 'connection');
  const conn = await env.rawUpgrade(server.port);
  const [peer] = await connected;
  return { server, conn, peer };
}

/** Close codes a peer may put on the wire (RFC 6455 section 7.4). */
function isWireCloseCode(code: number): boolean {
  return (
    (code >= 1000 && code <= 1003) ||
    (code >= 1007 && code <= 1014) ||
    (code >= 3000 && code <= 4999)
  );
}

/** Checks that what a server wrote after its 101 is a valid stream of server frames. */
function assertValidServerStream(bytes: Buffer, label: string): void {
  let rest = bytes;
  let closed = false;
  while (rest.length > 0) {
    const decoded = decodeFrame(rest);
    assert.ok(decoded, `${label}: ${rest.length} trailing bytes are not a whole frame`);
    const { frame, size } = decoded;
    rest = rest.subarray(size);
    assert.equal(closed, false, `${label}: a frame followed the close frame`);
    assert.equal(frame.masked, false, `${label}: server frames are never masked`);
    assert.deepEqual(
      [frame.rsv1, frame.rsv2, frame.rsv3],
      [false, false, false],
      `${label}: no extension was negotiated`,
    );
    assert.ok([0x1, 0x2, 0x8, 0x9, 0xa].includes(frame.opcode), `${label}: opcode ${frame.opcode}`);
    if (frame.opcode >= 0x8) assert.ok(frame.payload.length <= 125, `${label}: control size`);
    if (frame.opcode === 0x8) {
      closed = true;
      assert.notEqual(frame.payload.length, 1, `${label}: 1-byte close body`);
      if (frame.payload.length >= 2) {
        const { code } = parseClose(frame.payload);
        assert.ok(isWireCloseCode(code), `${label}: close code ${code} may not be sent`);
      }
    }
  }
}

/**
 * Opens one raw connection per entry of `inputs`, writes its buffers after the handshake, ends
 * it, and checks that the server closes it and only ever wrote valid frames.
 */
async function fuzz(env: Scope, server: StartedServer, inputs: Buffer[][]): Promise<void> {
  const batch = 20;
  for (let start = 0; start < inputs.length; start += batch) {
    await Promise.all(
      inputs.slice(start, start + batch).map(async (pieces, i) => {
        const conn: ByteReader = await env.rawUpgrade(server.port);
        for (const piece of pieces) conn.write(piece);
        conn.socket.end();
        const output = await conn.readToEnd(WAIT_MS * 2);
        await conn.waitClosed(WAIT_MS * 2);
        assertValidServerStream(output, `connection ${start + i}`);
      }),
    );
  }
}

/** A server for fuzzing: echoes every message and records every socket's close. */
async function fuzzServer(env: Scope) {
  const server = await env.server({ maxPayload: 64 * 1024 });
  const peerCloses: Array<Promise<unknown>> = [];
  server.wss.on('connection', (peer) => {
    peer.addEventListener('error', () => {});
    peer.addEventListener('message', (event: MessageEvent) => peer.send(event.data as Buffer));
    peerCloses.push(nextEvent(peer, 'close', 20_000));
  });
  return { server, peerCloses };
}

async function assertStillServes(env: Scope, server: StartedServer): Promise<void> {
  const client = await env.open(server.url);
  const reply = nextEvent(client, 'message');
  client.send('still alive');
  assert.equal((await reply).data, 'still alive');
}

describe('fuzzing: nothing a peer sends crashes the server', () => {
  it('survives random garbage after the handshake and keeps serving', {
    timeout: 60_000,
  }, async (t) => {
    const env = new Scope(t);
    const { server, peerCloses } = await fuzzServer(env);
    const random = prng(0x5eed);
    const byte = () => Math.floor(random() * 256);
    const garbage = (): Buffer => {
      const length = 1 + Math.floor(random() * 300);
      const out = Buffer.alloc(length);
      for (let i = 0; i < length; i++) out[i] = byte();
      // Half of the buffers start like a frame header, so that the parser gets further in.
      if (random() < 0.5) {
        out[0] = (random() < 0.5 ? 0x80 : 0) | (random() < 0.1 ? 0x40 : 0) | (byte() & 0x0f);
        out[1] = (random() < 0.9 ? 0x80 : 0) | Math.floor(random() * 128);
      }
      return out;
    };
    const inputs = Array.from({ length: 200 }, () =>
      Array.from({ length: 1 + Math.floor(random() * 4) }, garbage),
    );
    await fuzz(env, server, inputs);
    await Promise.all(peerCloses);
    assert.equal(peerCloses.length, inputs.length);
    assert.equal(server.wss.clients.size, 0);
    await assertStillServes(env, server);
  });

  it('survives well-formed frames with random fields and contents', {
    timeout: 60_000,
  }, async (t) => {
    const env = new Scope(t);
    const { server, peerCloses } = await fuzzServer(env);
    const random = prng(0xc0ffee);
    const pick = <V>(values: readonly V[]): V => values[Math.floor(random() * values.length)]!;
    const bytes = (n: number) =>
      Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256)));
    const texts = ['', 'hello', '\u00e9\u00e8', '\u{1f600}', 'x'.repeat(200)];
    const frame = (): Buffer => {
      const opcode = pick([0x0, 0x1, 0x1, 0x2, 0x2, 0x8, 0x9, 0xa, 0x3, 0xb]);
      const payloadKind = random();
      let payload: Buffer;
      if (opcode === 0x8) {
        payload = pick([
          Buffer.alloc(0),
          Buffer.from([3]),
          closeBody(pick([1000, 1001, 1005, 1006, 1015, 2999, 3000, 4999, 5000, 999])),
          Buffer.concat([closeBody(1000), Buffer.from([0xff, 0xfe])]),
          closeBody(1000, 'r'.repeat(130)),
        ]);
      } else if (payloadKind < 0.4) {
        const text = Buffer.from(pick(texts));
        // Sometimes cut a multi-byte character in half.
        payload = random() < 0.3 ? text.subarray(0, Math.max(0, text.length - 1)) : text;
      } else {
        payload = bytes(pick([0, 1, 125, 126, 127, 300, 70_000]));
      }
      return encodeFrame(opcode, payload, {
        fin: random() < 0.7,
        rsv: random() < 0.1 ? pick([1, 2, 4]) : 0,
        mask: random() < 0.95,
      });
    };
    const inputs = Array.from({ length: 200 }, () => {
      const frames = Array.from({ length: 1 + Math.floor(random() * 6) }, frame);
      // Sometimes deliver the frames cut at a random point.
      const joined = Buffer.concat(frames);
      if (random() < 0.5 || joined.length < 2) return [joined];
      const cut = 1 + Math.floor(random() * (joined.length - 1));
      return [joined.subarray(0, cut), joined.subarray(cut)];
    });
    await fuzz(env, server, inputs);
    await Promise.all(peerCloses);
    assert.equal(server.wss.clients.size, 0);
    await assertStillServes(env, server);
  });

  it('survives garbage instead of an HTTP request', { timeout: 30_000 }, async (t) => {
    const env = new Scope(t);
    const { server } = await fuzzServer(env);
    const random = prng(42);
    for (let i = 0; i < 50; i++) {
      const conn = await env.rawClient(server.port);
      const length = 1 + Math.floor(random() * 200);
      conn.write(Buffer.from(Array.from({ length }, () => Math.floor(random() * 256))));
      conn.write('\r\n\r\n');
      await conn.readToEnd(WAIT_MS);
      conn.socket.destroy();
    }
    assert.equal(server.wss.clients.size, 0);
    await assertStillServes(env, server);
  });
});
