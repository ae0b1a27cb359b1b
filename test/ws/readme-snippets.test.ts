/**
 * The examples of ws's README (test/ws/snippets/, copied with only the import changed to
 * 'wskit/ws') run in a child process against a counterpart built with the `ws` package itself.
 * Before running, the test points the examples' addresses at this machine: port 8080 becomes a
 * free port, remote URLs become a local server, certificate paths become generated files, and
 * the heartbeat's 30-second interval becomes 200 ms. `authenticate`, which the README leaves to
 * the reader on purpose, is defined in front of that example.
 */
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { type AddressInfo, connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import {
  type ClientOptions,
  type RawData,
  WebSocket as WsClient,
  WebSocketServer as WsServer,
} from 'ws';
import { opensslMissing, writeCertificateFiles } from '../support/tls.js';

const root = resolve(import.meta.dirname, '../..');
const T = { timeout: 20_000 } as const;
const WAIT_MS = 10_000;

/** A port nobody listens on now (bound on 0 and released). */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/** Resolves once something accepts TCP connections on `port`, trying again every 25 ms. */
async function listening(port: number): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const socket = connect(port, '127.0.0.1');
    const ok = await new Promise<boolean>((res) => {
      socket.once('connect', () => res(true));
      socket.once('error', () => res(false));
    });
    socket.destroy();
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on port ${port}`);
    await new Promise((res) => setTimeout(res, 25));
  }
}

/** A running example: its output so far, and a wait for a line in it. */
class Snippet {
  readonly child: ChildProcessWithoutNullStreams;
  #out = '';
  #err = '';
  #waiters: Array<() => void> = [];

  constructor(name: string, replacements: Array<[string, string]>, prelude = '') {
    let code = readFileSync(join(import.meta.dirname, 'snippets', name), 'utf8');
    for (const [from, to] of replacements) {
      assert.ok(code.includes(from), `${name} has no "${from}" to point elsewhere`);
      code = code.split(from).join(to);
    }
    // `node -e` resolves 'wskit/ws' from the package root, as an installed package would.
    this.child = spawn(process.execPath, ['--input-type=module', '-e', prelude + code], {
      cwd: root,
    });
    const seen = (chunk: Buffer) => {
      this.#out += chunk.toString();
      for (const w of this.#waiters.splice(0)) w();
    };
    this.child.stdout.on('data', seen);
    this.child.stderr.on('data', (chunk: Buffer) => {
      this.#err += chunk.toString();
    });
  }

  /** Resolves once the output contains `text`. */
  async output(text: string): Promise<void> {
    const deadline = Date.now() + WAIT_MS;
    while (!this.#out.includes(text)) {
      if (this.child.exitCode !== null) {
        throw new Error(`example exited (${this.child.exitCode}): ${this.#out}${this.#err}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no "${text}" in the output: ${this.#out}${this.#err}`);
      await new Promise<void>((res) => {
        const timer = setTimeout(res, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          res();
        });
      });
    }
  }

  get stderr(): string {
    return this.#err;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.kill();
    await exited;
  }
}

/** The next event `name` of `emitter`, failing after WAIT_MS. */
async function next<T extends unknown[]>(emitter: NodeJS.EventEmitter, name: string): Promise<T> {
  return (await once(emitter, name, { signal: AbortSignal.timeout(WAIT_MS) })) as T;
}

/** A `ws` client that has opened. */
async function wsClient(url: string, options: ClientOptions = {}) {
  const client = new WsClient(url, options);
  await next(client, 'open');
  return client;
}

/** A `ws` server on 127.0.0.1, port 0. */
async function wsServer(): Promise<{ server: WsServer; url: string }> {
  const server = new WsServer({ host: '127.0.0.1', port: 0 });
  await next(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { server, url: `ws://127.0.0.1:${port}` };
}

async function closeServer(server: WsServer): Promise<void> {
  for (const client of server.clients) client.terminate();
  await new Promise<void>((res) => server.close(() => res()));
}

test('echo server: sends "something", logs what it receives', T, async () => {
  const port = await freePort();
  const snippet = new Snippet('echo-server.mjs', [['8080', String(port)]]);
  try {
    await listening(port);
    const client = new WsClient(`ws://127.0.0.1:${port}`);
    const [data] = await next<[RawData]>(client, 'message');
    assert.equal(String(data), 'something');
    client.send('hello');
    await snippet.output('received: hello');
    client.close();
  } finally {
    await snippet.stop();
  }
});

test('broadcast: a message reaches every other client, binary kept binary', T, async () => {
  const port = await freePort();
  const snippet = new Snippet('broadcast.mjs', [['8080', String(port)]]);
  try {
    await listening(port);
    const a = await wsClient(`ws://127.0.0.1:${port}`);
    const b = await wsClient(`ws://127.0.0.1:${port}`);
    const c = await wsClient(`ws://127.0.0.1:${port}`);
    const toB = next<[RawData, boolean]>(b, 'message');
    const toC = next<[RawData, boolean]>(c, 'message');
    a.send('hi all');
    for (const [data, isBinary] of [await toB, await toC]) {
      assert.equal(String(data), 'hi all');
      assert.equal(isBinary, false);
    }
    const binary = next<[RawData, boolean]>(a, 'message');
    c.send(Buffer.from([1, 2, 3]));
    const [data, isBinary] = await binary;
    assert.deepEqual(data, Buffer.from([1, 2, 3]));
    assert.equal(isBinary, true);
    for (const s of [a, b, c]) s.close();
  } finally {
    await snippet.stop();
  }
});

test('client authentication during the upgrade with noServer and handleUpgrade', T, async () => {
  const port = await freePort();
  const authenticate = `function authenticate(request, next) {
  if (request.headers.authorization === 'Bearer alice-token') next(null, 'alice');
  else next(new Error('unknown user'));
}
`;
  const snippet = new Snippet('client-authentication.mjs', [['8080', String(port)]], authenticate);
  try {
    await listening(port);
    const refused = new WsClient(`ws://127.0.0.1:${port}`);
    const [error] = await next<[Error]>(refused, 'error');
    assert.match(error.message, /401/);
    const client = await wsClient(`ws://127.0.0.1:${port}`, {
      headers: { Authorization: 'Bearer alice-token' },
    });
    client.send('hello');
    await snippet.output('Received message hello from user alice');
    client.close();
  } finally {
    await snippet.stop();
  }
});

test(
  'heartbeat: a client that answers pings stays, one that does not is terminated',
  T,
  async () => {
    const port = await freePort();
    const snippet = new Snippet('heartbeat-server.mjs', [
      ['8080', String(port)],
      ['30000', '200'],
    ]);
    try {
      await listening(port);
      const alive = await wsClient(`ws://127.0.0.1:${port}`);
      let pings = 0;
      alive.on('ping', () => pings++);
      const silent = await wsClient(`ws://127.0.0.1:${port}`, { autoPong: false });
      const [code] = await next<[number]>(silent, 'close');
      assert.equal(code, 1006, 'terminated without a closing handshake');
      assert.ok(pings >= 1, 'the live client was pinged');
      assert.equal(alive.readyState, WsClient.OPEN);
      alive.close();
    } finally {
      await snippet.stop();
    }
  },
);

test('binary: a Float32Array arrives as its bytes in a binary message', T, async () => {
  const { server, url } = await wsServer();
  const snippet = new Snippet('binary-client.mjs', [['ws://www.host.com', url]]);
  try {
    const [ws, request] = await next<[WsClient, IncomingMessage]>(server, 'connection');
    assert.equal(request.url, '/path');
    const [data, isBinary] = await next<[RawData, boolean]>(ws, 'message');
    const expected = new Float32Array([0, 0.5, 1, 1.5, 2]);
    assert.deepEqual(data, Buffer.from(expected.buffer));
    assert.equal(isBinary, true);
  } finally {
    await snippet.stop();
    await closeServer(server);
  }
});

test('client headers: the handshake carries the headers option', T, async () => {
  const { server, url } = await wsServer();
  const snippet = new Snippet('client-headers.mjs', [['ws://www.host.com', url]]);
  try {
    const [ws, request] = await next<[WsClient, IncomingMessage]>(server, 'connection');
    assert.equal(request.headers.authorization, 'Bearer some-token');
    const [data] = await next<[RawData]>(ws, 'message');
    assert.equal(String(data), 'something');
    ws.send('welcome');
    await snippet.output('received: welcome');
  } finally {
    await snippet.stop();
    await closeServer(server);
  }
});

test('wss on an https server', { ...T, skip: opensslMissing ?? false }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wskit-ws-readme-'));
  const files = writeCertificateFiles(dir);
  const port = await freePort();
  const snippet = new Snippet('https-server.mjs', [
    ['8080', String(port)],
    ['/path/to/cert.pem', files.cert],
    ['/path/to/key.pem', files.key],
  ]);
  try {
    await listening(port);
    const client = new WsClient(`wss://localhost:${port}`, { ca: readFileSync(files.cert) });
    const [data] = await next<[RawData]>(client, 'message');
    assert.equal(String(data), 'something');
    client.send('over tls');
    await snippet.output('received: over tls');
    client.close();
  } finally {
    await snippet.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('createWebSocketStream: stdin to the socket, the socket to stdout', T, async () => {
  const { server, url } = await wsServer();
  server.on('connection', (ws) =>
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })),
  );
  const snippet = new Snippet('websocket-stream.mjs', [['wss://websocket-echo.com', url]]);
  try {
    snippet.child.stdin.write('echo through a stream\n');
    await snippet.output('echo through a stream\n');
  } finally {
    await snippet.stop();
    await closeServer(server);
  }
});
