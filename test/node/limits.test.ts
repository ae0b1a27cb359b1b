/**
 * The resource limits of connections and servers: send queue limit and its policies,
 * `sendAsync()` pacing, idle timeout, the server's handshake and authenticate timeouts, and the
 * validation of each limit option.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import {
  HandshakeError,
  WebSocket,
  WebSocketError,
  type WebSocketOptions,
  WebSocketServer,
  type WebSocketServerOptions,
} from '../../src/index.js';
import { Scope } from '../support/scope.js';
import { WAIT_MS } from '../support/timeouts.js';
import { nextEmit, nextEvent } from '../support/waits.js';

const T = { timeout: 30_000 };
const KiB = 1024;

describe('send queue limit', () => {
  it(
    '"refuse": send() throws ERR_WS_BACKPRESSURE past the limit and the connection stays usable',
    T,
    async (t) => {
      const env = new Scope(t);
      const limit = 256 * KiB;
      const { wss, url } = await env.server({ sendQueueLimit: limit, sendQueuePolicy: 'refuse' });
      const connection = nextEmit<[WebSocket]>(wss, 'connection');
      const client = await env.open(url, [], { perMessageDeflate: false });
      const [peer] = await connection;
      client.pause();
      const chunk = new Uint8Array(64 * KiB);
      let sent = 0;
      let refused: unknown = null;
      // Bounded: the kernel's buffers hold a few MiB at most before the queue grows.
      for (let i = 0; i < 2000 && refused === null; i++) {
        try {
          peer.send(chunk);
          sent++;
        } catch (error) {
          refused = error;
        }
      }
      assert.ok(refused instanceof WebSocketError, `send() refused (${sent} sent first)`);
      assert.equal(refused.code, 'ERR_WS_BACKPRESSURE');
      assert.match(refused.message, /sendQueueLimit/);
      assert.ok(peer.bufferedAmount <= limit, 'nothing past the limit was queued');
      assert.equal(peer.readyState, WebSocket.OPEN);
      // Everything accepted arrives once the client reads again.
      let received = 0;
      const all = new Promise<void>((resolve) => {
        client.addEventListener('message', () => {
          if (++received === sent) resolve();
        });
      });
      client.resume();
      await all;
      assert.equal(received, sent);
    },
  );

  it(
    '"close" (default): the connection is dropped past the limit with ERR_WS_BACKPRESSURE',
    T,
    async (t) => {
      const env = new Scope(t);
      const { wss, url } = await env.server({ sendQueueLimit: 256 * KiB });
      const connection = nextEmit<[WebSocket]>(wss, 'connection');
      const client = await env.open(url, [], { perMessageDeflate: false });
      const [peer] = await connection;
      client.pause();
      const errors: WebSocketError[] = [];
      peer.addEventListener('error', (event) => errors.push(event.error as WebSocketError));
      const closed = nextEvent(peer, 'close');
      const chunk = new Uint8Array(64 * KiB);
      for (let i = 0; i < 2000 && peer.readyState === WebSocket.OPEN; i++) peer.send(chunk);
      const close = await closed;
      assert.equal(close.code, 1006);
      assert.equal(errors[0]?.code, 'ERR_WS_BACKPRESSURE');
      assert.equal(peer.bufferedAmount, 0, 'the queued bytes were let go');
    },
  );

  it(
    'sendAsync() resolves once the message left, and rejects after the connection ended',
    T,
    async (t) => {
      const env = new Scope(t);
      const { wss, url } = await env.server();
      const connection = nextEmit<[WebSocket]>(wss, 'connection');
      const client = await env.open(url);
      const [peer] = await connection;
      const message = nextEvent(client, 'message');
      await peer.sendAsync('paced');
      assert.equal(peer.bufferedAmount, 0);
      assert.equal((await message).data, 'paced');
      // Large messages: each await returns with nothing left in the buffer.
      for (let i = 0; i < 5; i++) {
        await peer.sendAsync(new Uint8Array(512 * KiB));
        assert.equal(peer.bufferedAmount, 0);
      }
      peer.terminate();
      await nextEvent(peer, 'close');
      await assert.rejects(
        peer.sendAsync('late'),
        (e: unknown) => e instanceof WebSocketError && e.code === 'ERR_WS_NOT_SENT',
      );
    },
  );
});

describe('timeouts', () => {
  it('idleTimeout closes a connection without traffic with 1001 "idle timeout"', T, async (t) => {
    const env = new Scope(t);
    const { url } = await env.server({ idleTimeout: 200 });
    const client = await env.open(url);
    const close = await nextEvent(client, 'close', WAIT_MS);
    assert.equal(close.code, 1001);
    assert.equal(close.reason, 'idle timeout');
    assert.equal(close.wasClean, true);
  });

  it(
    'a late authenticate hook: the client gets 503 and the server reports the hook',
    T,
    async (t) => {
      const env = new Scope(t);
      const { wss, url } = await env.server({
        authenticateTimeout: 200,
        authenticate: () => new Promise<boolean>(() => {}),
      });
      const serverError = nextEmit<[Error]>(wss, 'error');
      const client = env.client(url);
      const error = await nextEvent(client, 'error');
      assert.ok(error.error instanceof HandshakeError);
      assert.equal(error.error.status, 503);
      const [reported] = await serverError;
      assert.equal((reported as WebSocketError).code, 'ERR_WS_TIMEOUT');
      assert.match(reported.message, /authenticateTimeout/);
    },
  );

  it('handshakeTimeout also bounds handleUpgrade on an attached server', T, async (t) => {
    const env = new Scope(t);
    const { createServer } = await import('node:http');
    const http = createServer();
    env.defer(() => new Promise((resolve) => http.close(resolve)));
    const wss = new WebSocketServer({
      server: http,
      handshakeTimeout: 200,
      authenticateTimeout: 0,
      authenticate: () => new Promise<boolean>(() => {}),
    });
    env.defer(() => new Promise((resolve) => wss.close(() => resolve(undefined))));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const address = http.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    socket.write(
      'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    const started = Date.now();
    await new Promise((resolve) => socket.once('close', resolve));
    assert.ok(Date.now() - started < WAIT_MS, 'the pending handshake was dropped');
  });
});

describe('limit options are validated', () => {
  const bad: Array<[string, Record<string, unknown>, RegExp]> = [
    ['sendQueuePolicy', { sendQueuePolicy: 'drop' }, /sendQueuePolicy must be "close" or "refuse"/],
    ['sendQueueLimit', { sendQueueLimit: -1 }, /sendQueueLimit must be a number >= 0/],
    ['maxPendingPongs', { maxPendingPongs: 0 }, /maxPendingPongs must be a whole number >= 1/],
    ['idleTimeout', { idleTimeout: Number.NaN }, /idleTimeout must be a number >= 0/],
  ];
  for (const [name, options, message] of bad) {
    it(`client and server refuse a bad ${name}`, () => {
      assert.throws(
        () => new WebSocket('ws://127.0.0.1:1/', [], options as WebSocketOptions),
        (e: unknown) => e instanceof TypeError && message.test(e.message),
      );
      assert.throws(
        () => new WebSocketServer({ noServer: true, ...options } as WebSocketServerOptions),
        (e: unknown) => e instanceof TypeError && message.test(e.message),
      );
    });
  }
  it('the server refuses a bad handshakeTimeout and authenticateTimeout', () => {
    for (const key of ['handshakeTimeout', 'authenticateTimeout']) {
      assert.throws(
        () => new WebSocketServer({ noServer: true, [key]: -5 }),
        (e: unknown) => e instanceof TypeError && e.message.includes(key),
      );
    }
  });
});
