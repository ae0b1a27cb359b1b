/**
 * `wss:` interoperability: wskit and `ws` clients and servers over TLS, with a self-signed
 * certificate for localhost and 127.0.0.1 that the suite generates with the openssl CLI.
 */
import assert from 'node:assert/strict';
import type { Buffer } from 'node:buffer';
import { once } from 'node:events';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterEach, before, describe, it } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { ConnectionError, WebSocketServer } from '../../src/index.js';
import { opensslMissing, selfSignedCertificate } from '../support/tls.js';
import {
  type Accepted,
  AsyncQueue,
  binaryPayload,
  Cleanup,
  connectWs,
  connectWskit,
  failingWskit,
  startWskitServer,
  startWsServer,
  T,
  UNICODE_TEXT,
  WskitPeer,
} from './helpers/peers.js';

const skip = opensslMissing ?? false;

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

let cert = '';
let key = '';

before(() => {
  if (skip) return;
  ({ cert, key } = selfSignedCertificate());
});

async function wssServer(options: Parameters<typeof startWskitServer>[0] = {}) {
  const handle = await startWskitServer({ ...options, tls: { cert, key } });
  cleanup.add(() => handle.close());
  return handle;
}

/** An HTTPS server on 127.0.0.1 (port 0), closed by the cleanup after its WebSocket users. */
async function httpsServer(options: Parameters<typeof createHttpsServer>[0] = {}) {
  const server = createHttpsServer({ cert, key, ...options });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanup.add(() => closeHttps(server));
  return { server, port: (server.address() as AddressInfo).port };
}

function closeHttps(server: HttpsServer): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

async function wskitClient(...args: Parameters<typeof connectWskit>): Promise<WskitPeer> {
  const peer = await connectWskit(...args);
  cleanup.terminate(peer.ws);
  return peer;
}

describe('wss: interop', { skip }, () => {
  it('wskit client -> wskit server with the CA: echo and a clean close', T, async () => {
    const srv = await wssServer({ echo: true });
    assert.match(srv.url, /^wss:/);
    const client = await wskitClient(srv.url, ['secure.v1'], {
      tls: { ca: cert },
      binaryType: 'nodebuffer',
    });
    const { peer, req } = await srv.accepted.next();
    assert.equal((req.socket as TLSSocket).encrypted, true);
    assert.equal(client.ws.protocol, 'secure.v1');
    assert.equal(client.ws.url, `${srv.url}/`);
    const big = binaryPayload(1024 * 1024);
    client.ws.send(UNICODE_TEXT);
    client.ws.send(big);
    assert.equal(await client.nextText(), UNICODE_TEXT);
    assert.ok((await client.nextBinary()).equals(big));
    client.ws.ping('tls ping');
    assert.equal((await client.pongs.next()).toString(), 'tls ping');
    client.ws.close(4000, 'tls bye');
    const [atClient, atServer] = await Promise.all([client.closed, peer.closed]);
    assert.deepEqual(atServer, { code: 4000, reason: 'tls bye', wasClean: true });
    assert.equal(atClient.code, 4000); // the server's echo: the code, the reason is optional
    assert.equal(atClient.wasClean, true);
  });

  it('a socket accepted by a wss server reports a wss: url', T, async () => {
    const srv = await wssServer();
    await wskitClient(`${srv.url}/room?id=7`, [], { tls: { ca: cert } });
    const { peer } = await srv.accepted.next();
    assert.equal(peer.ws.url, `wss://127.0.0.1:${srv.port}/room?id=7`);
  });

  it('the servername option checks the certificate against that name', T, async () => {
    const srv = await wssServer({ echo: true });
    const client = await wskitClient(srv.url, [], { tls: { ca: cert, servername: 'localhost' } });
    client.ws.send('sni');
    assert.equal(await client.nextText(), 'sni');
    const { close, peer, opened } = await failingWskit(srv.url, [], {
      tls: { ca: cert, servername: 'wrong.example' },
    });
    assert.equal(opened, false);
    const error = peer.errors[0];
    assert.ok(error instanceof ConnectionError, String(error));
    assert.equal(error.code, 'ERR_WS_TLS_CERTIFICATE');
    assert.deepEqual(close, { code: 1006, reason: '', wasClean: false });
  });

  it('wskit client -> ws server on an https server', T, async () => {
    const { server, port } = await httpsServer();
    const srv = await startWsServer({ server, echo: true });
    cleanup.add(() => srv.close());
    const url = `wss://127.0.0.1:${port}/secure`;
    const client = await wskitClient(url, [], {
      tls: { ca: cert },
      headers: { 'X-Over-Tls': 'yes' },
      binaryType: 'nodebuffer',
    });
    const { peer, req } = await srv.accepted.next();
    assert.equal(req.headers['x-over-tls'], 'yes');
    assert.equal(req.url, '/secure');
    const data = binaryPayload(200_000);
    client.ws.send(data);
    client.ws.send('text over tls');
    assert.ok((await client.nextBinary()).equals(data));
    assert.equal(await client.nextText(), 'text over tls');
    peer.sock.close(1001, 'ws going away');
    assert.deepEqual(await client.closed, { code: 1001, reason: 'ws going away', wasClean: true });
    assert.equal((await peer.closed).wasClean, true);
  });

  it('ws client -> wskit wss server', T, async () => {
    const srv = await wssServer({ echo: true });
    const client = await connectWs(srv.url, ['chat'], { ca: cert });
    cleanup.terminate(client.sock);
    assert.equal(client.sock.protocol, 'chat');
    const data = binaryPayload(1024 * 1024);
    client.sock.send(data);
    client.sock.send('über tls');
    assert.ok((await client.nextBinary()).equals(data));
    assert.equal(await client.nextText(), 'über tls');
    const { peer } = await srv.accepted.next();
    client.sock.close(4321, 'ws client bye');
    const [atClient, atServer] = await Promise.all([client.closed, peer.closed]);
    assert.deepEqual(atServer, { code: 4321, reason: 'ws client bye', wasClean: true });
    assert.equal(atClient.code, 4321);
    assert.equal(atClient.wasClean, true);
  });

  it('ws and wskit clients -> wskit server attached to an https server', T, async () => {
    const { server, port } = await httpsServer();
    const wss = new WebSocketServer({ server, path: '/attached' });
    const accepted = new AsyncQueue<Accepted<WskitPeer>>();
    wss.on('connection', (ws, req) => {
      ws.addEventListener('message', (event) => ws.send(event.data as string | Buffer));
      accepted.push({ peer: new WskitPeer(ws), req });
    });
    cleanup.add(
      () =>
        new Promise<void>((resolve) => {
          for (const c of wss.clients) c.terminate();
          wss.close(() => resolve());
        }),
    );
    const url = `wss://127.0.0.1:${port}/attached`;
    const viaWs = await connectWs(url, [], { ca: cert });
    cleanup.terminate(viaWs.sock);
    const viaWskit = await wskitClient(url, [], { tls: { ca: cert } });
    await accepted.take(2);
    viaWs.sock.send('from ws');
    viaWskit.ws.send('from wskit');
    assert.equal(await viaWs.nextText(), 'from ws');
    assert.equal(await viaWskit.nextText(), 'from wskit');
    assert.equal(wss.broadcast('to both'), 2);
    assert.equal(await viaWs.nextText(), 'to both');
    assert.equal(await viaWskit.nextText(), 'to both');
  });

  it('without the CA the client fails with ERR_WS_TLS_CERTIFICATE and 1006', T, async () => {
    const srv = await wssServer();
    const { peer, close, opened } = await failingWskit(srv.url);
    assert.equal(opened, false);
    assert.equal(peer.errors.length, 1);
    const error = peer.errors[0];
    assert.ok(error instanceof ConnectionError, String(error));
    assert.equal(error.code, 'ERR_WS_TLS_CERTIFICATE');
    assert.match(error.message, /tls\.ca/);
    assert.deepEqual(close, { code: 1006, reason: '', wasClean: false });
    assert.deepEqual(peer.order, ['error', 'close']);
    assert.equal(peer.ws.readyState, 3);
    assert.equal(srv.accepted.length, 0);
  });

  it('rejectUnauthorized: false connects to the self-signed server', T, async () => {
    const srv = await wssServer({ echo: true });
    const client = await wskitClient(srv.url, [], { tls: { rejectUnauthorized: false } });
    client.ws.send('insecure but encrypted');
    assert.equal(await client.nextText(), 'insecure but encrypted');
    client.ws.close();
    assert.equal((await client.closed).wasClean, true);
  });

  it('mutual TLS: the client certificate reaches a ws server that requires one', T, async () => {
    const { server, port } = await httpsServer({
      requestCert: true,
      rejectUnauthorized: true,
      ca: cert,
    });
    const srv = await startWsServer({ server, echo: true });
    cleanup.add(() => srv.close());
    const url = `wss://127.0.0.1:${port}`;
    const client = await wskitClient(url, [], { tls: { ca: cert, cert, key } });
    const { req } = await srv.accepted.next();
    const socket = req.socket as TLSSocket;
    assert.equal(socket.authorized, true);
    assert.equal(socket.getPeerCertificate().subject.CN, 'localhost');
    client.ws.send('mtls');
    assert.equal(await client.nextText(), 'mtls');

    const refused = await failingWskit(url, [], { tls: { ca: cert } });
    assert.equal(refused.opened, false);
    assert.deepEqual(refused.close, { code: 1006, reason: '', wasClean: false });
    const error = refused.peer.errors[0];
    assert.ok(error instanceof ConnectionError, String(error));
    assert.match(error.code, /^ERR_WS_(TLS|CONNECTION_RESET|CONNECTION_CLOSED)$/);
  });
});
