/**
 * HTTP CONNECT proxies: a proxy written here (CONNECT parsing, optional Basic authentication,
 * refusals, hang-ups) used through the `proxy` option and the HTTP_PROXY / HTTPS_PROXY /
 * NO_PROXY variables; the typed error of each proxy failure; `wss:` through a tunnel; and unit
 * tests of isProxyExempt and resolveProxy.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { lookup } from 'node:dns/promises';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  ConnectionError,
  isProxyExempt,
  type MessageEvent,
  WebSocket,
  type WebSocketErrorCode,
} from '../../src/index.js';
import { resolveProxy } from '../../src/node/proxy.js';
import {
  assertWsError,
  clearEnv,
  finalClose,
  PROXY_VARIABLES,
  parseHead,
  readHead,
  rejection,
  tlsMaterial,
} from '../resilience/helpers.js';
import { closedPort } from '../support/ports.js';
import { Scope, type StartedServer } from '../support/scope.js';
import { WAIT_MS } from '../support/timeouts.js';
import { nextEvent } from '../support/waits.js';

const T = { timeout: 15_000 };

// The tests set proxy variables themselves; whatever the environment had is put back at the end.
let restoreEnvironment: () => void = () => {};
before(() => {
  restoreEnvironment = clearEnv(PROXY_VARIABLES);
});
after(() => restoreEnvironment());

type ProxyMode =
  | { kind: 'tunnel'; auth?: string; interim?: string[] }
  | { kind: 'refuse'; status: number; reason: string }
  | { kind: 'hang-up' }
  | { kind: 'destroy' }
  | { kind: 'silent' };

interface ProxyLog {
  /** TCP connections the proxy accepted. */
  connections: number;
  /** CONNECT requests: the request line and the headers (lower-cased names). */
  requests: Array<{ line: string; headers: Record<string, string> }>;
  /** Local ports of the proxy's upstream sockets: the server sees them as remote ports. */
  upstreamPorts: number[];
}

/** Starts an HTTP CONNECT proxy on 127.0.0.1 that behaves as `mode` says. */
async function startProxy(
  scope: Scope,
  mode: ProxyMode = { kind: 'tunnel' },
): Promise<{ port: number; url: string; log: ProxyLog }> {
  const log: ProxyLog = { connections: 0, requests: [], upstreamPorts: [] };
  const upstreams = new Set<Socket>();
  scope.defer(() => {
    for (const socket of upstreams) socket.destroy();
  });
  const { port } = await scope.net((socket) => {
    log.connections++;
    if (mode.kind === 'destroy') {
      socket.destroy();
      return;
    }
    readHead(socket).then(
      ({ head, rest }) => {
        const headers = parseHead(head);
        const line = headers[':line'] ?? '';
        log.requests.push({ line, headers });
        const match = /^CONNECT (\S+) HTTP\/1\.1$/.exec(line);
        if (!match) {
          socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
          return;
        }
        if (mode.kind === 'silent') return;
        if (mode.kind === 'hang-up') {
          socket.end();
          return;
        }
        if (mode.kind === 'refuse') {
          socket.end(`HTTP/1.1 ${mode.status} ${mode.reason}\r\nContent-Length: 0\r\n\r\n`);
          return;
        }
        if (mode.auth !== undefined) {
          const expected = `Basic ${Buffer.from(mode.auth).toString('base64')}`;
          if (headers['proxy-authorization'] !== expected) {
            socket.end(
              'HTTP/1.1 407 Proxy Authentication Required\r\n' +
                'Proxy-Authenticate: Basic realm="wskit-test"\r\nContent-Length: 0\r\n\r\n',
            );
            return;
          }
        }
        const authority = match[1]!;
        const colon = authority.lastIndexOf(':');
        const host = authority.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
        const targetPort = Number(authority.slice(colon + 1));
        const upstream = connect({ host, port: targetPort });
        upstreams.add(upstream);
        let tunnelled = false;
        upstream.on('error', () => {
          // Like a real proxy: a target it cannot reach is a 502 before the tunnel opens.
          if (!tunnelled) socket.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n');
          else socket.destroy();
        });
        upstream.on('close', () => {
          upstreams.delete(upstream);
          if (tunnelled) socket.destroy();
        });
        socket.on('close', () => upstream.destroy());
        upstream.once('connect', () => {
          tunnelled = true;
          log.upstreamPorts.push(upstream.localPort ?? -1);
          // Interim answers and the final one in one write: the client must find the 200 in
          // what follows each 1xx head.
          socket.write(
            `${(mode.interim ?? []).join('')}HTTP/1.1 200 Connection Established\r\n\r\n`,
          );
          if (rest.length > 0) upstream.write(rest);
          socket.pipe(upstream);
          upstream.pipe(socket);
        });
      },
      () => socket.destroy(),
    );
  });
  return { port, url: `http://127.0.0.1:${port}`, log };
}

interface SeenRequest {
  url: string;
  /** The client's port as the server saw it. */
  remotePort: number | undefined;
}

/** An echo server that records each connection's request (to check where it came from). */
async function echoServer(
  scope: Scope,
  tls = false,
): Promise<StartedServer & { requests: SeenRequest[] }> {
  const started = await scope.server(tls ? { tls: tlsMaterial() } : {});
  const requests: SeenRequest[] = [];
  started.wss.on('connection', (peer, request) => {
    requests.push({ url: request.url ?? '', remotePort: request.socket.remotePort });
    peer.addEventListener('message', (event: MessageEvent) => peer.send(String(event.data)));
  });
  return { ...started, requests };
}

/** Opens `url`, checks an echo round trip, and closes. */
async function roundTrip(
  scope: Scope,
  url: string,
  options: ConstructorParameters<typeof WebSocket>[2] = {},
) {
  const ws = scope.track(await WebSocket.connect(url, options));
  ws.send('over the tunnel?');
  const reply = await nextEvent(ws, 'message');
  assert.equal(reply.data, 'over the tunnel?');
  ws.close();
  await finalClose(ws);
}

/** The connection failure of `url` through `options`, checked to be a ConnectionError with `code`. */
async function failure(
  url: string,
  options: ConstructorParameters<typeof WebSocket>[2],
  code: WebSocketErrorCode,
) {
  const error = await rejection(WebSocket.connect(url, { handshakeTimeout: WAIT_MS, ...options }));
  return assertWsError(error, ConnectionError, code);
}

function assertTunnelled(
  proxy: { log: ProxyLog },
  server: StartedServer & { requests: SeenRequest[] },
): void {
  assert.equal(proxy.log.requests.length, 1);
  const request = proxy.log.requests[0]!;
  assert.equal(request.line, `CONNECT 127.0.0.1:${server.port} HTTP/1.1`);
  assert.equal(request.headers.host, `127.0.0.1:${server.port}`);
  assert.equal(server.requests.length, 1);
  assert.equal(
    server.requests[0]!.remotePort,
    proxy.log.upstreamPorts[0],
    "the server's peer is the proxy's upstream socket",
  );
}

describe('proxy: tunnelling', () => {
  it('uses the proxy option for ws:', T, async (t) => {
    const scope = new Scope(t);
    const server = await echoServer(scope);
    const proxy = await startProxy(scope);
    await roundTrip(scope, `${server.url}/via-option`, { proxy: proxy.url });
    assertTunnelled(proxy, server);
    assert.equal(server.requests[0]!.url, '/via-option');
  });

  it('accepts a proxy given as host:port without a scheme', T, async (t) => {
    const scope = new Scope(t);
    const server = await echoServer(scope);
    const proxy = await startProxy(scope);
    await roundTrip(scope, server.url, { proxy: `127.0.0.1:${proxy.port}` });
    assertTunnelled(proxy, server);
  });

  it('skips interim (1xx) answers before the 200 (RFC 9110 section 15.2)', T, async (t) => {
    const scope = new Scope(t);
    const server = await echoServer(scope);
    const interim = [
      'HTTP/1.1 100 Continue\r\n\r\n',
      'HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n',
    ];
    const proxy = await startProxy(scope, { kind: 'tunnel', interim });
    await roundTrip(scope, server.url, { proxy: proxy.url });
    assertTunnelled(proxy, server);
  });

  for (const name of ['HTTP_PROXY', 'http_proxy'] as const) {
    it(`uses ${name} for ws:`, T, async (t) => {
      const scope = new Scope(t);
      scope.defer(clearEnv(PROXY_VARIABLES));
      const server = await echoServer(scope);
      const proxy = await startProxy(scope);
      process.env[name] = proxy.url;
      await roundTrip(scope, server.url);
      assertTunnelled(proxy, server);
    });
  }

  for (const name of ['HTTPS_PROXY', 'https_proxy'] as const) {
    it(`uses ${name} for wss:`, T, async (t) => {
      const scope = new Scope(t);
      scope.defer(clearEnv(PROXY_VARIABLES));
      const server = await echoServer(scope, true);
      const proxy = await startProxy(scope);
      process.env[name] = proxy.url;
      await roundTrip(scope, server.url, { tls: { ca: tlsMaterial().cert } });
      assertTunnelled(proxy, server);
    });
  }

  it('does not use HTTPS_PROXY for ws:', T, async (t) => {
    const scope = new Scope(t);
    scope.defer(clearEnv(PROXY_VARIABLES));
    const server = await echoServer(scope);
    const proxy = await startProxy(scope);
    process.env.HTTPS_PROXY = proxy.url;
    await roundTrip(scope, server.url);
    assert.equal(proxy.log.connections, 0);
  });

  it('falls back to HTTP_PROXY for wss: when HTTPS_PROXY is unset', T, async (t) => {
    const scope = new Scope(t);
    scope.defer(clearEnv(PROXY_VARIABLES));
    const server = await echoServer(scope, true);
    const proxy = await startProxy(scope);
    process.env.HTTP_PROXY = proxy.url;
    await roundTrip(scope, server.url, { tls: { ca: tlsMaterial().cert } });
    assertTunnelled(proxy, server);
  });

  for (const name of ['NO_PROXY', 'no_proxy'] as const) {
    it(`${name}=127.0.0.1 connects directly`, T, async (t) => {
      const scope = new Scope(t);
      scope.defer(clearEnv(PROXY_VARIABLES));
      const server = await echoServer(scope);
      const proxy = await startProxy(scope);
      process.env.HTTP_PROXY = proxy.url;
      process.env[name] = 'example.org, 127.0.0.1';
      await roundTrip(scope, server.url);
      assert.equal(proxy.log.connections, 0, 'the proxy saw no connection');
      assert.equal(server.requests.length, 1);
    });
  }

  it('a NO_PROXY entry for another port does not exempt the host', T, async (t) => {
    const scope = new Scope(t);
    scope.defer(clearEnv(PROXY_VARIABLES));
    const server = await echoServer(scope);
    const proxy = await startProxy(scope);
    process.env.HTTP_PROXY = proxy.url;
    process.env.NO_PROXY = `127.0.0.1:${server.port === 1 ? 2 : 1}`;
    await roundTrip(scope, server.url);
    assertTunnelled(proxy, server);
  });

  it('proxy: false ignores HTTP_PROXY', T, async (t) => {
    const scope = new Scope(t);
    scope.defer(clearEnv(PROXY_VARIABLES));
    const server = await echoServer(scope);
    const proxy = await startProxy(scope);
    process.env.HTTP_PROXY = proxy.url;
    await roundTrip(scope, server.url, { proxy: false });
    assert.equal(proxy.log.connections, 0);
  });

  it('tunnels wss: to a wskit TLS server', T, async (t) => {
    const scope = new Scope(t);
    const server = await echoServer(scope, true);
    assert.match(server.url, /^wss:/);
    const proxy = await startProxy(scope);
    await roundTrip(scope, `${server.url}/secure`, {
      proxy: proxy.url,
      tls: { ca: tlsMaterial().cert },
    });
    assertTunnelled(proxy, server);
    assert.equal(server.requests[0]!.url, '/secure');
  });

  it('wss: through the proxy still verifies the certificate', T, async (t) => {
    const scope = new Scope(t);
    const server = await echoServer(scope, true);
    const proxy = await startProxy(scope);
    await failure(server.url, { proxy: proxy.url }, 'ERR_WS_TLS_CERTIFICATE');
    assert.equal(proxy.log.requests.length, 1, 'the tunnel was opened');
    assert.equal(server.requests.length, 0);
  });
});

describe('proxy: authentication', () => {
  it('sends Basic credentials from the proxy URL, percent-decoded', T, async (t) => {
    const scope = new Scope(t);
    const server = await echoServer(scope);
    const proxy = await startProxy(scope, { kind: 'tunnel', auth: 'alice:p@ss word' });
    await roundTrip(scope, server.url, {
      proxy: `http://alice:p%40ss%20word@127.0.0.1:${proxy.port}`,
    });
    assertTunnelled(proxy, server);
    assert.equal(
      proxy.log.requests[0]!.headers['proxy-authorization'],
      `Basic ${Buffer.from('alice:p@ss word').toString('base64')}`,
    );
  });

  it('credentials in HTTP_PROXY are used too', T, async (t) => {
    const scope = new Scope(t);
    scope.defer(clearEnv(PROXY_VARIABLES));
    const server = await echoServer(scope);
    const proxy = await startProxy(scope, { kind: 'tunnel', auth: 'bob:secret' });
    process.env.HTTP_PROXY = `http://bob:secret@127.0.0.1:${proxy.port}`;
    await roundTrip(scope, server.url);
    assertTunnelled(proxy, server);
  });

  it('no credentials: ERR_WS_PROXY_AUTH', T, async (t) => {
    const scope = new Scope(t);
    const server = await echoServer(scope);
    const proxy = await startProxy(scope, { kind: 'tunnel', auth: 'alice:secret' });
    const error = await failure(server.url, { proxy: proxy.url }, 'ERR_WS_PROXY_AUTH');
    assert.match(error.message, /407/);
    assert.equal(proxy.log.requests[0]!.headers['proxy-authorization'], undefined);
    assert.equal(server.requests.length, 0);
  });

  it('wrong credentials: ERR_WS_PROXY_AUTH', T, async (t) => {
    const scope = new Scope(t);
    const server = await echoServer(scope);
    const proxy = await startProxy(scope, { kind: 'tunnel', auth: 'alice:secret' });
    const error = await failure(
      server.url,
      { proxy: `http://alice:wrong@127.0.0.1:${proxy.port}` },
      'ERR_WS_PROXY_AUTH',
    );
    assert.match(error.message, /refused/);
    assert.equal(server.requests.length, 0);
  });
});

describe('proxy: failures', () => {
  it('a proxy refusing the CONNECT with 403: ERR_WS_PROXY', T, async (t) => {
    const scope = new Scope(t);
    const server = await echoServer(scope);
    const proxy = await startProxy(scope, { kind: 'refuse', status: 403, reason: 'Forbidden' });
    const error = await failure(server.url, { proxy: proxy.url }, 'ERR_WS_PROXY');
    assert.match(error.message, /403/);
    assert.equal(server.requests.length, 0);
  });

  it('nothing listening at the proxy port: ERR_WS_PROXY_REFUSED', T, async () => {
    const port = await closedPort();
    const error = await failure(
      'ws://127.0.0.1:9/',
      { proxy: `http://127.0.0.1:${port}` },
      'ERR_WS_PROXY_REFUSED',
    );
    assert.equal((error.cause as NodeJS.ErrnoException).code, 'ECONNREFUSED');
  });

  it('a proxy that hangs up after the CONNECT request: ERR_WS_PROXY_CLOSED', T, async (t) => {
    const scope = new Scope(t);
    const proxy = await startProxy(scope, { kind: 'hang-up' });
    await failure('ws://127.0.0.1:9/', { proxy: proxy.url }, 'ERR_WS_PROXY_CLOSED');
    assert.equal(proxy.log.requests.length, 1);
  });

  it('a proxy that closes the connection right away: ERR_WS_PROXY_CLOSED', T, async (t) => {
    const scope = new Scope(t);
    const proxy = await startProxy(scope, { kind: 'destroy' });
    // Repeated: whether the client sees FIN or RST first must not change the code.
    for (let i = 0; i < 5; i++) {
      await failure('ws://127.0.0.1:9/', { proxy: proxy.url }, 'ERR_WS_PROXY_CLOSED');
    }
    assert.equal(proxy.log.connections, 5);
  });

  it('a proxy that never answers: ERR_WS_PROXY_TIMEOUT after handshakeTimeout', T, async (t) => {
    const scope = new Scope(t);
    const proxy = await startProxy(scope, { kind: 'silent' });
    const started = Date.now();
    await failure(
      'ws://127.0.0.1:9/',
      { proxy: proxy.url, handshakeTimeout: 200 },
      'ERR_WS_PROXY_TIMEOUT',
    );
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 150 && elapsed < 2000, `timed out after ${elapsed} ms`);
    assert.equal(proxy.log.requests.length, 1);
  });

  it('a proxy host name that does not resolve: ERR_WS_PROXY_NOT_FOUND', T, async (t) => {
    const fast = await lookup('wskit-proxy.invalid').then(
      () => false,
      (error: NodeJS.ErrnoException) => error.code === 'ENOTFOUND',
    );
    if (!fast) {
      t.skip('.invalid names do not fail with ENOTFOUND here');
      return;
    }
    await failure(
      'ws://127.0.0.1:9/',
      { proxy: 'http://wskit-proxy.invalid:3128' },
      'ERR_WS_PROXY_NOT_FOUND',
    );
  });

  it('an unsupported proxy scheme: ERR_WS_PROXY, with the error and close events', T, async (t) => {
    const scope = new Scope(t);
    const ws = scope.track(
      new WebSocket('ws://127.0.0.1:9/', undefined, { proxy: 'socks5://127.0.0.1:1080' }),
    );
    const closed = nextEvent(ws, 'close');
    const error = await nextEvent(ws, 'error');
    assertWsError(error.error, ConnectionError, 'ERR_WS_PROXY');
    assert.equal((await closed).code, 1006);
  });

  it('endless interim (1xx) answers: ERR_WS_PROXY after eight', T, async (t) => {
    const scope = new Scope(t);
    const interim = Array.from({ length: 9 }, () => 'HTTP/1.1 100 Continue\r\n\r\n');
    const server = await echoServer(scope);
    const proxy = await startProxy(scope, { kind: 'tunnel', interim });
    const error = await failure(server.url, { proxy: proxy.url }, 'ERR_WS_PROXY');
    assert.match(error.message, /more than 8 interim \(1xx\) responses/);
  });

  it('101 to CONNECT is a refusal, not an interim answer', T, async (t) => {
    const scope = new Scope(t);
    const interim = ['HTTP/1.1 101 Switching Protocols\r\n\r\n'];
    const server = await echoServer(scope);
    const proxy = await startProxy(scope, { kind: 'tunnel', interim });
    const error = await failure(server.url, { proxy: proxy.url }, 'ERR_WS_PROXY');
    assert.match(error.message, /HTTP 101/);
  });

  it('a target the proxy cannot reach (502): ERR_WS_PROXY, not a refused target', T, async (t) => {
    const scope = new Scope(t);
    const proxy = await startProxy(scope);
    const port = await closedPort();
    const error = await failure(`ws://127.0.0.1:${port}/`, { proxy: proxy.url }, 'ERR_WS_PROXY');
    assert.match(error.message, /502/);
    assert.equal(proxy.log.requests[0]!.line, `CONNECT 127.0.0.1:${port} HTTP/1.1`);
  });
});

describe('isProxyExempt', () => {
  const cases: Array<[host: string, port: number, noProxy: string | undefined, exempt: boolean]> = [
    // exact host names and addresses
    ['example.org', 80, 'example.org', true],
    ['example.org', 80, 'EXAMPLE.ORG', true],
    ['Example.ORG', 80, 'example.org', true],
    ['example.net', 80, 'example.org', false],
    ['127.0.0.1', 8080, '127.0.0.1', true],
    ['127.0.0.2', 8080, '127.0.0.1', false],
    ['localhost', 1234, 'localhost', true],
    // domain suffixes, with and without a leading dot or *.
    ['api.example.org', 80, 'example.org', true],
    ['a.b.example.org', 80, 'example.org', true],
    ['badexample.org', 80, 'example.org', false],
    ['api.example.org', 80, '.example.org', true],
    ['example.org', 80, '.example.org', true],
    ['badexample.org', 80, '.example.org', false],
    ['api.example.org', 80, '*.example.org', true],
    ['badexample.org', 80, '*.example.org', false],
    // everything
    ['anything.at.all', 1, '*', true],
    ['10.1.2.3', 1, 'example.org, *', true],
    // lists: commas and spaces, empty entries
    ['b.com', 80, 'a.com,b.com', true],
    ['c.com', 80, 'a.com, b.com  c.com', true],
    ['d.com', 80, ' , a.com,,', false],
    // port-specific entries
    ['example.org', 8080, 'example.org:8080', true],
    ['example.org', 8081, 'example.org:8080', false],
    ['api.example.org', 8080, '.example.org:8080', true],
    ['127.0.0.1', 3000, '127.0.0.1:3000', true],
    ['127.0.0.1', 3001, '127.0.0.1:3000', false],
    // IPv6 (hosts come without brackets)
    ['::1', 80, '::1', true],
    ['::1', 80, '[::1]', true],
    ['::2', 80, '::1', false],
    ['2001:db8::1', 443, '2001:db8::1', true],
    // no list
    ['example.org', 80, undefined, false],
    ['example.org', 80, '', false],
  ];
  for (const [host, port, noProxy, exempt] of cases) {
    it(`${host}:${port} with NO_PROXY=${JSON.stringify(noProxy)} -> ${exempt}`, T, () => {
      assert.equal(isProxyExempt(host, port, noProxy), exempt);
    });
  }

  it('an IPv6 entry with a port ([::1]:8080) matches that port only', {
    ...T,
  }, () => {
    assert.equal(isProxyExempt('::1', 8080, '[::1]:8080'), true);
    assert.equal(isProxyExempt('::1', 8081, '[::1]:8080'), false);
  });

  it('an IP address entry is not a suffix (0.0.1 does not cover 127.0.0.1)', {
    ...T,
  }, () => {
    assert.equal(isProxyExempt('127.0.0.1', 80, '0.0.1'), false);
    assert.equal(isProxyExempt('10.1.1.1', 80, '1.1'), false);
  });
});

describe('resolveProxy', () => {
  type Target = Parameters<typeof resolveProxy>[0];
  const ws: Target = {
    href: 'ws://example.org/',
    secure: false,
    hostname: 'example.org',
    port: 80,
    hostHeader: 'example.org',
    path: '/',
  };
  const wss: Target = { ...ws, href: 'wss://example.org/', secure: true, port: 443 };

  function withEnv(
    t: { after: (fn: () => void) => void },
    values: Partial<Record<(typeof PROXY_VARIABLES)[number], string>>,
  ) {
    t.after(clearEnv(PROXY_VARIABLES));
    Object.assign(process.env, values);
  }

  it('picks HTTP_PROXY for ws: and HTTPS_PROXY for wss:', T, (t) => {
    withEnv(t, { HTTP_PROXY: 'http://plain:3128', HTTPS_PROXY: 'http://secure:3129' });
    assert.equal(resolveProxy(ws, undefined)?.hostname, 'plain');
    assert.equal(resolveProxy(wss, undefined)?.hostname, 'secure');
  });

  it('prefers the upper-case variable over the lower-case one', T, (t) => {
    withEnv(t, { HTTP_PROXY: 'http://upper:1', http_proxy: 'http://lower:2' });
    assert.equal(resolveProxy(ws, undefined)?.hostname, 'upper');
  });

  it('reads lower-case variables', T, (t) => {
    withEnv(t, { https_proxy: 'http://lower:2', no_proxy: 'other.org' });
    assert.equal(resolveProxy(wss, undefined)?.hostname, 'lower');
    assert.equal(resolveProxy(ws, undefined), null, 'https_proxy is not for ws:');
  });

  it('ignores empty variables and honours NO_PROXY', T, (t) => {
    withEnv(t, { HTTP_PROXY: '', HTTPS_PROXY: 'http://p:1', NO_PROXY: '.example.org' });
    assert.equal(resolveProxy(ws, undefined), null);
    assert.equal(resolveProxy(wss, undefined), null);
  });

  it('an explicit option wins over the environment, false means none', T, (t) => {
    withEnv(t, { HTTP_PROXY: 'http://env:1', NO_PROXY: '*' });
    assert.equal(resolveProxy(ws, false), null);
    const explicit = resolveProxy(ws, 'http://explicit:8080');
    assert.equal(explicit?.hostname, 'explicit');
    assert.equal(explicit?.port, 8080);
  });

  it('default ports, https proxies, IPv6 and credentials', T, () => {
    const plain = resolveProxy(ws, 'http://proxy');
    assert.equal(plain?.port, 80);
    assert.equal(plain?.secure, false);
    assert.equal(plain?.authorization, undefined);
    const secure = resolveProxy(ws, 'https://proxy');
    assert.equal(secure?.port, 443);
    assert.equal(secure?.secure, true);
    assert.equal(resolveProxy(ws, 'http://[::1]:3128')?.hostname, '::1');
    assert.equal(
      resolveProxy(ws, 'http://u%3Aser:p%40ss@proxy:1')?.authorization,
      `Basic ${Buffer.from('u:ser:p@ss').toString('base64')}`,
    );
    assert.equal(resolveProxy(ws, 'proxy.local:3128')?.hostname, 'proxy.local');
  });

  it('unix-socket targets never use a proxy', T, (t) => {
    withEnv(t, { HTTP_PROXY: 'http://env:1' });
    assert.equal(resolveProxy({ ...ws, socketPath: '/tmp/x.sock' }, 'http://p:1'), null);
  });

  it('refuses unsupported schemes and invalid URLs with ERR_WS_PROXY', T, () => {
    assert.throws(
      () => resolveProxy(ws, 'socks5://proxy:1080'),
      (error: unknown) => error instanceof ConnectionError && error.code === 'ERR_WS_PROXY',
    );
    assert.throws(
      () => resolveProxy(ws, 'http://[bad'),
      (error: unknown) => error instanceof ConnectionError && error.code === 'ERR_WS_PROXY',
    );
  });
});
