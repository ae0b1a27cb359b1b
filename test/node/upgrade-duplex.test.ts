/**
 * `handleUpgrade` with a `Duplex` that is not a `net.Socket` (what a tunnel or a proxy layer
 * hands over): no `setNoDelay()`, no `setTimeout()`. The connection works as over TCP, and the
 * one option that needs a `net.Socket`, `idleTimeout`, is refused rather than ignored.
 */
import assert from 'node:assert/strict';
import type { Buffer } from 'node:buffer';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { describe, it } from 'node:test';
import { type WebSocket, WebSocketServer, type WebSocketServerOptions } from '../../src/index.js';
import { closeNetServer } from '../support/raw-peers.js';
import { closeServer, Scope } from '../support/scope.js';
import { nextEmit, nextEvent } from '../support/waits.js';

const T = { timeout: 10_000 };

/** A Duplex carrying `socket`'s bytes both ways, with none of `net.Socket`'s own methods. */
function tunnel(socket: Socket): Duplex {
  const duplex = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      socket.write(chunk, callback);
    },
    final(callback) {
      socket.end(callback);
    },
    destroy(error, callback) {
      socket.destroy();
      callback(error);
    },
  });
  socket.on('data', (chunk: Buffer) => {
    if (!duplex.push(chunk)) socket.pause();
  });
  socket.on('end', () => duplex.push(null));
  socket.on('close', () => duplex.destroy());
  socket.on('error', (error) => duplex.destroy(error));
  return duplex;
}

/** An HTTP server whose upgrades go through {@link tunnel} to a noServer WebSocketServer. */
async function tunnelled(env: Scope, options: WebSocketServerOptions<'nodebuffer'> = {}) {
  const wss = new WebSocketServer({ noServer: true, ...options });
  env.defer(() => closeServer(wss));
  const sockets = new Set<Socket>();
  const thrown: unknown[] = [];
  const http = createHttpServer();
  http.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  http.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) => {
    const duplex = tunnel(socket);
    assert.equal('setTimeout' in duplex, false);
    try {
      wss.handleUpgrade(request, duplex, head, (ws, req) => wss.emit('connection', ws, req));
    } catch (error) {
      thrown.push(error);
      socket.destroy();
    }
  });
  env.defer(() => closeNetServer(http, sockets));
  http.listen(0, '127.0.0.1');
  await nextEmit(http, 'listening');
  const { port } = http.address() as AddressInfo;
  return { wss, url: `ws://127.0.0.1:${port}/`, thrown };
}

describe('handleUpgrade with a Duplex that is not a net.Socket', () => {
  it('opens, carries text and binary both ways, and closes cleanly', T, async (t) => {
    const env = new Scope(t);
    const { wss, url } = await tunnelled(env);
    const accepted = nextEmit<[WebSocket<'nodebuffer'>]>(wss, 'connection');
    const client = await env.open(url, [], { binaryType: 'arraybuffer' });
    const [peer] = await accepted;
    assert.equal(wss.clients.size, 1);

    const atServer = nextEvent(peer, 'message');
    client.send('over the tunnel');
    assert.equal((await atServer).data, 'over the tunnel');
    const atClient = nextEvent(client, 'message');
    peer.send(new Uint8Array([1, 2, 3]));
    assert.deepEqual(
      new Uint8Array((await atClient).data as ArrayBuffer),
      new Uint8Array([1, 2, 3]),
    );

    const serverClosed = nextEvent(peer, 'close');
    const clientClosed = nextEvent(client, 'close');
    client.close(1000, 'done');
    const [atPeer, atSelf] = await Promise.all([serverClosed, clientClosed]);
    assert.deepEqual([atPeer.code, atPeer.reason, atPeer.wasClean], [1000, 'done', true]);
    assert.deepEqual([atSelf.code, atSelf.wasClean], [1000, true]);
    assert.equal(wss.clients.size, 0);
  });

  it('refuses idleTimeout, which needs a net.Socket, with a TypeError', T, async (t) => {
    const env = new Scope(t);
    const { url, thrown } = await tunnelled(env, { idleTimeout: 1000 });
    const client = env.client(url);
    const closed = await nextEvent(client, 'close');
    assert.equal(closed.code, 1006);
    assert.equal(thrown.length, 1);
    assert.ok(thrown[0] instanceof TypeError);
    assert.match((thrown[0] as TypeError).message, /idleTimeout needs a net\.Socket/);
  });
});
