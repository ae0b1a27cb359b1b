/**
 * Heartbeat (the `heartbeat` option): a TCP relay between client and server that goes silent
 * after the opening handshake makes the peer dead while TCP stays up; the client must notice
 * within about interval + timeout, and reconnect when asked to. Healthy peers stay connected, and
 * the server drops clients that never answer its pings.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import {
  type CloseEvent,
  ConnectionError,
  type ErrorEvent,
  type MessageEvent,
  type ReconnectEvent,
  WebSocket,
  type WebSocketEvent,
} from '../../src/index.js';
import { Scope } from '../support/scope.js';
import { nextEmit, nextEvent } from '../support/waits.js';
import { EventLog, finalClose, rawWebSocketClient, Signal } from './helpers.js';

const T = { timeout: 15_000 };

/**
 * A TCP relay to the server on `target`. Connections for which `freeze(n)` is true (n counts
 * from 1) forward the opening handshake and then nothing at all, in either direction: both
 * sockets are unpiped and paused, TCP stays open. The others forward normally.
 */
async function relay(
  scope: Scope,
  target: number,
  freeze: (n: number) => boolean,
): Promise<{ port: number; frozen: Signal<number>; connections: () => number }> {
  let count = 0;
  const frozen = new Signal<number>();
  const upstreams = new Set<Socket>();
  scope.defer(() => {
    for (const socket of upstreams) socket.destroy();
  });
  const { port } = await scope.net((client) => {
    const n = ++count;
    const upstream = connect({ host: '127.0.0.1', port: target });
    upstreams.add(upstream);
    upstream.on('error', () => {});
    upstream.on('close', () => {
      upstreams.delete(upstream);
      client.destroy();
    });
    client.on('close', () => upstream.destroy());
    client.pipe(upstream);
    if (!freeze(n)) {
      upstream.pipe(client);
      return;
    }
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      // Forward the 101 answer and go silent: nothing more crosses the relay.
      client.write(head.subarray(0, end + 4));
      upstream.removeListener('data', onData);
      client.unpipe(upstream);
      client.pause();
      upstream.pause();
      frozen.resolve(performance.now());
    };
    upstream.on('data', onData);
  });
  return { port, frozen, connections: () => count };
}

function echo(peer: WebSocket): void {
  peer.addEventListener('message', (event: MessageEvent) => peer.send(String(event.data)));
}

describe('heartbeat: client side', () => {
  it('detects a silent peer with ERR_WS_TIMEOUT and close 1006', T, async (t) => {
    const scope = new Scope(t);
    const server = await scope.server();
    const hop = await relay(scope, server.port, () => true);
    const ws = scope.track(
      new WebSocket(`ws://127.0.0.1:${hop.port}/`, undefined, {
        heartbeat: { interval: 100, timeout: 100 },
      }),
    );
    const errors = new EventLog<ErrorEvent>(ws, 'error');
    const order: string[] = [];
    for (const type of ['open', 'error', 'close'])
      ws.addEventListener(type, () => order.push(type));
    await nextEvent(ws, 'open');
    const openedAt = performance.now();
    const frozenAt = await hop.frozen.wait(5000, 'the relay to go silent');
    const closed = await nextEvent(ws, 'close', 5000);
    const detected = performance.now() - openedAt;

    assert.equal(closed.code, 1006);
    assert.equal(closed.wasClean, false);
    assert.equal(ws.readyState, WebSocket.CLOSED);
    assert.deepEqual(order, ['open', 'error', 'close']);
    const error = errors.events[0]!.error;
    assert.ok(error instanceof ConnectionError);
    assert.equal(error.code, 'ERR_WS_TIMEOUT');
    const report = `heartbeat: dead peer detected ${detected.toFixed(1)} ms after open (${(performance.now() - frozenAt).toFixed(1)} ms after the relay went silent); interval 100 + timeout 100`;
    console.log(report);
    t.diagnostic(report);
    assert.ok(detected >= 150, `detected after ${detected} ms: earlier than interval + timeout`);
    assert.ok(detected < 1000, `detection took ${detected} ms`);
  });

  it('reconnects after a heartbeat timeout when reconnect is on', T, async (t) => {
    const scope = new Scope(t);
    const server = await scope.server();
    let serverConnections = 0;
    server.wss.on('connection', (peer) => {
      serverConnections++;
      echo(peer);
    });
    // Only the first connection goes silent; later ones forward normally.
    const hop = await relay(scope, server.port, (n) => n === 1);
    const ws = scope.track(
      new WebSocket(`ws://127.0.0.1:${hop.port}/`, undefined, {
        heartbeat: { interval: 100, timeout: 100 },
        reconnect: { minDelay: 50, maxDelay: 50, jitter: 0 },
      }),
    );
    const opens = new EventLog<WebSocketEvent>(ws, 'open');
    const closes = new EventLog<CloseEvent>(ws, 'close');
    const retries = new EventLog<ReconnectEvent>(ws, 'reconnecting');
    const errors = new EventLog<ErrorEvent>(ws, 'error');
    const pongs = new EventLog<MessageEvent>(ws, 'pong');
    await opens.until(1);
    const openedAt = performance.now();
    await opens.until(2, 5000);
    const reconnectedAt = performance.now();

    assert.equal(closes.events[0]!.code, 1006);
    const timeout = errors.events[0]!.error;
    assert.ok(timeout instanceof ConnectionError);
    assert.equal(timeout.code, 'ERR_WS_TIMEOUT');
    assert.equal(retries.count, 1);
    assert.equal(retries.events[0]!.error, timeout, 'the reconnecting event says why');
    assert.equal(hop.connections(), 2);
    assert.equal(serverConnections, 2);

    // The new connection works and keeps its own heartbeat going.
    const pongsBefore = pongs.count;
    ws.send('through the relay');
    const reply = await nextEvent(ws, 'message');
    assert.equal(reply.data, 'through the relay');
    await pongs.until(pongsBefore + 2, 3000);
    assert.equal(ws.readyState, WebSocket.OPEN);
    assert.equal(errors.count, 1);
    t.diagnostic(
      `heartbeat + reconnect: open -> reopened ${(reconnectedAt - openedAt).toFixed(1)} ms`,
    );
    ws.close();
    await finalClose(ws);
  });

  it('keeps a connection to a healthy server open across several intervals', T, async (t) => {
    const scope = new Scope(t);
    const server = await scope.server();
    const ws = scope.track(
      new WebSocket(server.url, undefined, { heartbeat: { interval: 50, timeout: 200 } }),
    );
    const errors = new EventLog<ErrorEvent>(ws, 'error');
    const closes = new EventLog<CloseEvent>(ws, 'close');
    const pongs = new EventLog<MessageEvent>(ws, 'pong');
    await nextEvent(ws, 'open');
    const start = performance.now();
    await pongs.until(6, 3000);
    const elapsed = performance.now() - start;
    assert.ok(elapsed >= 250, `six pongs after ${elapsed} ms: pings are ~50 ms apart`);
    assert.equal(ws.readyState, WebSocket.OPEN);
    assert.equal(errors.count, 0);
    assert.equal(closes.count, 0);
    assert.equal(server.wss.clients.size, 1);
    ws.close();
    const closed = await finalClose(ws);
    assert.equal(closed.wasClean, true);
  });
});

describe('heartbeat: server side', () => {
  it('drops a client that never answers pings and removes it from clients', T, async (t) => {
    const scope = new Scope(t);
    const server = await scope.server({ heartbeat: { interval: 100, timeout: 100 } });
    const connection = nextEmit<[WebSocket]>(server.wss, 'connection');
    const raw = await rawWebSocketClient(scope, server.port);
    const [peer] = await connection;
    const acceptedAt = performance.now();
    assert.equal(server.wss.clients.size, 1);
    const errors = new EventLog<ErrorEvent>(peer, 'error');
    const closed = await nextEvent(peer, 'close', 5000);
    const dropped = performance.now() - acceptedAt;

    assert.equal(closed.code, 1006);
    assert.equal(server.wss.clients.size, 0, 'the dead client left server.clients');
    assert.ok(!server.wss.clients.has(peer));
    assert.equal(peer.readyState, WebSocket.CLOSED);
    const error = errors.events[0]?.error;
    assert.ok(error instanceof ConnectionError);
    assert.equal(error.code, 'ERR_WS_TIMEOUT');
    await raw.closed;
    assert.ok(raw.opcodes.includes(0x9), 'the server pinged the raw client');
    t.diagnostic(`server heartbeat: silent client dropped after ${dropped.toFixed(1)} ms`);
    assert.ok(dropped < 1000, `dropping took ${dropped} ms`);
  });

  it('keeps a client that answers pings in clients', T, async (t) => {
    const scope = new Scope(t);
    const server = await scope.server({ heartbeat: { interval: 50, timeout: 200 } });
    const connection = nextEmit<[WebSocket]>(server.wss, 'connection');
    const ws = scope.track(new WebSocket(server.url));
    const [peer] = await connection;
    const pongs = new EventLog<MessageEvent>(peer, 'pong');
    const clientPings = new EventLog<MessageEvent>(ws, 'ping');
    const closes = new EventLog<CloseEvent>(peer, 'close');
    await pongs.until(5, 3000);
    assert.ok(clientPings.count >= 5, 'the client saw the pings');
    assert.equal(closes.count, 0);
    assert.equal(server.wss.clients.size, 1);
    assert.equal(ws.readyState, WebSocket.OPEN);
    ws.close();
    await finalClose(ws);
  });
});
