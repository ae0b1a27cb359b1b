/**
 * Redirects of the opening handshake (`followRedirects`, `maxRedirects`): each redirect status,
 * chains and their limit, no wss: to ws: downgrade, and credentials (Authorization and Cookie
 * headers, user:pass in the URL) kept for the same host but never carried to another one.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { createServer as createHttpServer, type IncomingHttpHeaders } from 'node:http';
import { createServer as createNetServer, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { createServer as createTlsServer } from 'node:tls';
import {
  HandshakeError,
  type MessageEvent,
  WebSocket,
  type WebSocketOptions,
  WebSocketServer,
} from '../../src/index.js';
import { closeNetServer } from '../support/raw-peers.js';
import { listenNet, Scope } from '../support/scope.js';
import { nextEvent } from '../support/waits.js';
import {
  assertWsError,
  finalClose,
  parseHead,
  readHead,
  rejection,
  tlsMaterial,
} from './helpers.js';

const T = { timeout: 15_000 };

const REASONS: Record<number, string> = {
  301: 'Moved Permanently',
  302: 'Found',
  303: 'See Other',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
};

interface Seen {
  path: string;
  headers: Record<string, string>;
}

type Route = (path: string) => { status: number; location?: string } | null;

function redirectResponse(status: number, location: string | undefined): string {
  return (
    `HTTP/1.1 ${status} ${REASONS[status] ?? 'Redirect'}\r\n` +
    (location === undefined ? '' : `Location: ${location}\r\n`) +
    'Content-Length: 0\r\nConnection: close\r\n\r\n'
  );
}

/**
 * A raw HTTP server (TCP or TLS) answering every request with the redirect `route` gives for its
 * path (404 when none); `seen` lists the requests.
 */
async function redirector(
  scope: Scope,
  route: Route,
  tls = false,
): Promise<{ port: number; seen: Seen[] }> {
  const seen: Seen[] = [];
  const sockets = new Set<Socket>();
  const handle = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    readHead(socket).then(
      ({ head }) => {
        const headers = parseHead(head);
        const path = (headers[':line'] ?? '').split(' ')[1] ?? '';
        seen.push({ path, headers });
        const answer = route(path);
        socket.end(
          answer
            ? redirectResponse(answer.status, answer.location)
            : 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n',
        );
      },
      () => socket.destroy(),
    );
  };
  const server = tls ? createTlsServer(tlsMaterial(), handle) : createNetServer(handle);
  scope.defer(() => closeNetServer(server, sockets));
  return { port: await listenNet(server), seen };
}

/** A wskit server recording the path and headers of each accepted connection. */
async function finalServer(scope: Scope, tls = false) {
  const started = await scope.server(tls ? { tls: tlsMaterial() } : {});
  const seen: Seen[] = [];
  started.wss.on('connection', (peer, request) => {
    seen.push({ path: request.url ?? '', headers: flatten(request.headers) });
    peer.addEventListener('message', (event: MessageEvent) => peer.send(String(event.data)));
  });
  return { ...started, seen };
}

function flatten(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/**
 * One HTTP server on 127.0.0.1 for both roles: upgrades for /final* are accepted by a wskit
 * server, others get the redirect of `route`. Every upgrade request is recorded in `seen`.
 */
async function sameHostServer(scope: Scope, route: Route) {
  const wss = new WebSocketServer({ noServer: true });
  const http = createHttpServer((_req, res) => res.writeHead(404).end());
  const sockets = new Set<Socket>();
  http.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const seen: Seen[] = [];
  http.on('upgrade', (request, socket: Socket, head: Buffer) => {
    const path = request.url ?? '';
    seen.push({ path, headers: flatten(request.headers) });
    if (path.startsWith('/final')) {
      wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
      return;
    }
    const answer = route(path);
    socket.end(
      answer
        ? redirectResponse(answer.status, answer.location)
        : 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n',
    );
  });
  scope.defer(async () => {
    for (const client of wss.clients) client.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => http.close(() => resolve()));
  });
  http.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => http.once('listening', () => resolve()));
  const address = http.address();
  assert.ok(address !== null && typeof address === 'object');
  return { port: address.port, seen, wss };
}

/** Opens `url`, checks an echo round trip when the server echoes, and closes. */
async function open(scope: Scope, url: string, options: WebSocketOptions): Promise<WebSocket> {
  const ws = scope.track(await WebSocket.connect(url, options));
  assert.equal(ws.readyState, WebSocket.OPEN);
  return ws;
}

async function closeClient(ws: WebSocket): Promise<void> {
  ws.close();
  await finalClose(ws);
}

function basic(credentials: string): string {
  return `Basic ${Buffer.from(credentials).toString('base64')}`;
}

describe('redirects: following', () => {
  for (const status of [301, 302, 303, 307, 308]) {
    it(`follows ${status} to another port and path`, T, async (t) => {
      const scope = new Scope(t);
      const final = await finalServer(scope);
      const hop = await redirector(scope, (path) =>
        path === '/start' ? { status, location: `${final.url}/final?from=${status}` } : null,
      );
      const ws = await open(scope, `ws://127.0.0.1:${hop.port}/start`, { followRedirects: true });
      ws.send('echo me');
      assert.equal((await nextEvent(ws, 'message')).data, 'echo me');
      assert.deepEqual(
        hop.seen.map((s) => s.path),
        ['/start'],
      );
      assert.deepEqual(
        final.seen.map((s) => s.path),
        [`/final?from=${status}`],
      );
      assert.equal(final.seen[0]!.headers.host, `127.0.0.1:${final.port}`);
      await closeClient(ws);
    });
  }

  it('does not follow by default: HandshakeError with status 302', T, async (t) => {
    const scope = new Scope(t);
    const final = await finalServer(scope);
    const hop = await redirector(scope, () => ({ status: 302, location: `${final.url}/final` }));
    for (const options of [{}, { followRedirects: false }]) {
      const error = assertWsError(
        await rejection(WebSocket.connect(`ws://127.0.0.1:${hop.port}/start`, options)),
        HandshakeError,
        'ERR_WS_HANDSHAKE',
      );
      assert.equal(error.status, 302);
      assert.equal(error.headers?.location, `${final.url}/final`);
    }
    assert.equal(final.seen.length, 0);
  });

  it('follows a chain of 3 redirects', T, async (t) => {
    const scope = new Scope(t);
    const final = await finalServer(scope);
    const hop = await redirector(scope, (path) => {
      if (path === '/r1') return { status: 301, location: '/r2' };
      if (path === '/r2') return { status: 307, location: '/r3?q=1' };
      if (path === '/r3?q=1') return { status: 302, location: `${final.url}/final` };
      return null;
    });
    const ws = await open(scope, `ws://127.0.0.1:${hop.port}/r1`, { followRedirects: true });
    assert.deepEqual(
      hop.seen.map((s) => s.path),
      ['/r1', '/r2', '/r3?q=1'],
    );
    assert.deepEqual(
      final.seen.map((s) => s.path),
      ['/final'],
    );
    await closeClient(ws);
  });

  it('more redirects than maxRedirects: HandshakeError', T, async (t) => {
    const scope = new Scope(t);
    const final = await finalServer(scope);
    const chain: Route = (path) => {
      if (path === '/r1') return { status: 302, location: '/r2' };
      if (path === '/r2') return { status: 302, location: '/r3' };
      if (path === '/r3') return { status: 302, location: `${final.url}/final` };
      return null;
    };
    const hop = await redirector(scope, chain);
    const url = `ws://127.0.0.1:${hop.port}/r1`;
    const error = assertWsError(
      await rejection(WebSocket.connect(url, { followRedirects: true, maxRedirects: 2 })),
      HandshakeError,
      'ERR_WS_HANDSHAKE',
    );
    assert.match(error.message, /maxRedirects/);
    assert.equal(error.status, 302);
    assert.equal(hop.seen.length, 3);
    assert.equal(final.seen.length, 0);

    // Exactly maxRedirects is fine.
    const ws = await open(scope, url, { followRedirects: true, maxRedirects: 3 });
    assert.equal(final.seen.length, 1);
    await closeClient(ws);
  });

  it('maxRedirects 0 refuses the first redirect', T, async (t) => {
    const scope = new Scope(t);
    const hop = await redirector(scope, () => ({ status: 307, location: '/elsewhere' }));
    const error = await rejection(
      WebSocket.connect(`ws://127.0.0.1:${hop.port}/`, { followRedirects: true, maxRedirects: 0 }),
    );
    assert.equal(assertWsError(error, HandshakeError, 'ERR_WS_HANDSHAKE').status, 307);
    assert.equal(hop.seen.length, 1);
  });

  it('a redirect loop ends after maxRedirects (default 10)', T, async (t) => {
    const scope = new Scope(t);
    const hop = await redirector(scope, () => ({ status: 302, location: '/loop' }));
    const error = await rejection(
      WebSocket.connect(`ws://127.0.0.1:${hop.port}/loop`, { followRedirects: true }),
    );
    assert.match(assertWsError(error, HandshakeError, 'ERR_WS_HANDSHAKE').message, /10 redirects/);
    assert.equal(hop.seen.length, 11);
  });

  it('a redirect without Location, or to another scheme, is a HandshakeError', T, async (t) => {
    const scope = new Scope(t);
    const hop = await redirector(scope, (path) =>
      path === '/none' ? { status: 302 } : { status: 302, location: 'ftp://127.0.0.1/file' },
    );
    for (const path of ['/none', '/ftp']) {
      const error = await rejection(
        WebSocket.connect(`ws://127.0.0.1:${hop.port}${path}`, { followRedirects: true }),
      );
      assert.equal(assertWsError(error, HandshakeError, 'ERR_WS_HANDSHAKE').status, 302);
    }
  });
});

describe('redirects: TLS', () => {
  it('refuses a redirect from wss: to ws:', T, async (t) => {
    const scope = new Scope(t);
    const plain = await finalServer(scope);
    const hop = await redirector(
      scope,
      () => ({ status: 302, location: `${plain.url}/final` }),
      true,
    );
    const error = await rejection(
      WebSocket.connect(`wss://127.0.0.1:${hop.port}/start`, {
        followRedirects: true,
        tls: { ca: tlsMaterial().cert },
      }),
    );
    const refused = assertWsError(error, HandshakeError, 'ERR_WS_HANDSHAKE');
    assert.match(refused.message, /wss: to ws:/);
    assert.equal(refused.status, 302);
    assert.equal(hop.seen.length, 1, 'the TLS redirector was reached');
    assert.equal(plain.seen.length, 0, 'the ws: server was never contacted');
  });

  it('follows a redirect from wss: to wss:', T, async (t) => {
    const scope = new Scope(t);
    const secure = await finalServer(scope, true);
    const hop = await redirector(
      scope,
      () => ({ status: 308, location: `${secure.url}/final` }),
      true,
    );
    const ws = await open(scope, `wss://127.0.0.1:${hop.port}/start`, {
      followRedirects: true,
      tls: { ca: tlsMaterial().cert },
    });
    assert.deepEqual(
      secure.seen.map((s) => s.path),
      ['/final'],
    );
    await closeClient(ws);
  });

  it('follows a redirect from ws: to wss:', T, async (t) => {
    const scope = new Scope(t);
    const secure = await finalServer(scope, true);
    const hop = await redirector(scope, () => ({ status: 301, location: `${secure.url}/final` }));
    const ws = await open(scope, `ws://127.0.0.1:${hop.port}/start`, {
      followRedirects: true,
      tls: { ca: tlsMaterial().cert },
    });
    assert.equal(secure.seen.length, 1);
    await closeClient(ws);
  });
});

describe('redirects: credentials', () => {
  const credentialHeaders = {
    Authorization: 'Bearer token-1',
    Cookie: 'session=abc',
    'X-Trace': 'kept',
  };

  it('Authorization and Cookie headers follow a redirect to the same host', T, async (t) => {
    const scope = new Scope(t);
    const server = await sameHostServer(scope, () => ({ status: 302, location: '/final' }));
    const ws = await open(scope, `ws://127.0.0.1:${server.port}/start`, {
      followRedirects: true,
      headers: credentialHeaders,
    });
    assert.deepEqual(
      server.seen.map((s) => s.path),
      ['/start', '/final'],
    );
    const last = server.seen[1]!.headers;
    assert.equal(last.authorization, 'Bearer token-1');
    assert.equal(last.cookie, 'session=abc');
    assert.equal(last['x-trace'], 'kept');
    await closeClient(ws);
  });

  it('Authorization and Cookie headers are dropped on a redirect to another host', T, async (t) => {
    const scope = new Scope(t);
    // Same server and port, another host name: 127.0.0.1 redirects to localhost.
    let port = 0;
    const server = await sameHostServer(scope, () => ({
      status: 302,
      location: `ws://localhost:${port}/final`,
    }));
    port = server.port;
    const ws = await open(scope, `ws://127.0.0.1:${port}/start`, {
      followRedirects: true,
      // Header names in any case count.
      headers: { authorization: 'Bearer token-1', COOKIE: 'session=abc', 'X-Trace': 'kept' },
    });
    assert.deepEqual(
      server.seen.map((s) => s.path),
      ['/start', '/final'],
    );
    const [first, last] = [server.seen[0]!.headers, server.seen[1]!.headers];
    assert.equal(first.authorization, 'Bearer token-1', 'the first host got them');
    assert.equal(first.cookie, 'session=abc');
    assert.equal(last.host, `localhost:${port}`);
    assert.equal(last.authorization, undefined);
    assert.equal(last.cookie, undefined);
    assert.equal(last['x-trace'], 'kept', 'other headers are kept');
    await closeClient(ws);
  });

  it('a different port counts as another host: credentials are dropped', T, async (t) => {
    const scope = new Scope(t);
    const final = await finalServer(scope);
    const hop = await redirector(scope, () => ({ status: 307, location: `${final.url}/final` }));
    const ws = await open(scope, `ws://127.0.0.1:${hop.port}/start`, {
      followRedirects: true,
      headers: credentialHeaders,
    });
    assert.equal(hop.seen[0]!.headers.authorization, 'Bearer token-1');
    assert.equal(final.seen[0]!.headers.authorization, undefined);
    assert.equal(final.seen[0]!.headers.cookie, undefined);
    assert.equal(final.seen[0]!.headers['x-trace'], 'kept');
    await closeClient(ws);
  });

  it('URL credentials follow a relative redirect on the same host', T, async (t) => {
    const scope = new Scope(t);
    const server = await sameHostServer(scope, () => ({ status: 302, location: '/final' }));
    const ws = await open(scope, `ws://alice:s%3Acret@127.0.0.1:${server.port}/start`, {
      followRedirects: true,
    });
    assert.equal(server.seen[0]!.headers.authorization, basic('alice:s:cret'));
    assert.equal(server.seen[1]!.path, '/final');
    assert.equal(server.seen[1]!.headers.authorization, basic('alice:s:cret'));
    await closeClient(ws);
  });

  it('URL credentials are not sent after a redirect to another host', T, async (t) => {
    const scope = new Scope(t);
    let port = 0;
    const server = await sameHostServer(scope, () => ({
      status: 301,
      location: `ws://localhost:${port}/final`,
    }));
    port = server.port;
    const ws = await open(scope, `ws://alice:secret@127.0.0.1:${port}/start`, {
      followRedirects: true,
    });
    assert.equal(server.seen[0]!.headers.authorization, basic('alice:secret'));
    assert.equal(server.seen[1]!.headers.host, `localhost:${port}`);
    assert.equal(server.seen[1]!.headers.authorization, undefined);
    await closeClient(ws);
  });

  it('credentials dropped for another host do not come back on a redirect home', T, async (t) => {
    const scope = new Scope(t);
    let port = 0;
    const server = await sameHostServer(scope, (path) => {
      if (path === '/start') return { status: 302, location: `ws://localhost:${port}/bounce` };
      if (path === '/bounce') return { status: 302, location: `ws://127.0.0.1:${port}/final` };
      return null;
    });
    port = server.port;
    const ws = await open(scope, `ws://127.0.0.1:${port}/start`, {
      followRedirects: true,
      headers: credentialHeaders,
    });
    assert.deepEqual(
      server.seen.map((s) => [s.path, s.headers.authorization ?? null]),
      [
        ['/start', 'Bearer token-1'],
        ['/bounce', null],
        ['/final', null],
      ],
    );
    await closeClient(ws);
  });
});
