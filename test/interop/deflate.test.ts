/**
 * permessage-deflate interop: compressed echo between wskit and `ws` both ways across parameter
 * combinations, bytes on the wire to see that each side really compresses, and the same against
 * Python `websockets` (skipped when /usr/bin/python3 has no `websockets` module).
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  type PerMessageDeflateOptions,
  type RawData,
  WebSocket as WsClient,
  WebSocketServer as WsServer,
} from 'ws';
import {
  type CloseEvent,
  type ErrorEvent,
  type MessageEvent,
  WebSocket,
  WebSocketServer,
} from '../../src/index.js';
import { jsonLikeText } from '../support/deflate.js';
import { AsyncQueue } from './helpers/peers.js';

const T = { timeout: 30_000 } as const;
const PYTHON = '/usr/bin/python3';
const HERE = dirname(fileURLToPath(import.meta.url));

/** Settings that mean the same for wskit and `ws` (`perMessageDeflate` of both). */
interface DeflateSettings {
  threshold?: number;
  serverNoContextTakeover?: boolean;
  clientNoContextTakeover?: boolean;
  serverMaxWindowBits?: number;
  clientMaxWindowBits?: number;
}

type Data = string | Buffer;

// -- payloads ------------------------------------------------------------------------------------

const text16k = jsonLikeText(16 * 1024);
const text1m = jsonLikeText(1024 * 1024);
const binaryRandom = randomBytes(64 * 1024);
const binaryCompressible = Buffer.alloc(64 * 1024, 'wskit-deflate ');
const smallMessages: Data[] = Array.from({ length: 200 }, (_, i) =>
  i % 3 === 0 ? Buffer.alloc((i * 13) % 1500, i) : `small-${i}-${'é'.repeat((i * 7) % 700)}`,
);

function describeData(d: Data): string {
  return typeof d === 'string' ? `text(${Buffer.byteLength(d)})` : `binary(${d.length})`;
}

function assertSameData(actual: Data, expected: Data, what: string): void {
  assert.equal(typeof actual, typeof expected, `${what}: got ${describeData(actual)}`);
  if (typeof expected === 'string') assert.ok(actual === expected, `${what}: text differs`);
  else assert.ok(Buffer.isBuffer(actual) && actual.equals(expected), `${what}: bytes differ`);
}

// -- clients -------------------------------------------------------------------------------------

/** One connected client of either library, plus what both ends say about the extension. */
interface EchoClient {
  send(data: Data): void;
  next(): Promise<Data>;
  /** The client's `extensions` value. */
  clientExtensions: string;
  /** The server's `extensions` value. */
  serverExtensions: string;
  /** The `Sec-WebSocket-Extensions` response header as sent. */
  responseHeader: string;
  /** TCP sockets: the client's (when reachable) and the server's. */
  clientSocket: Socket | null;
  serverSocket: Socket | null;
  close(): Promise<void>;
}

function rawToData(data: RawData, isBinary: boolean): Data {
  const buffer = Buffer.isBuffer(data)
    ? data
    : Array.isArray(data)
      ? Buffer.concat(data)
      : Buffer.from(data);
  return isBinary ? buffer : buffer.toString('utf8');
}

/** A `ws` server that echoes and reports its side of each connection. */
class WsEchoServer {
  readonly server: WsServer;
  private readonly connections = new AsyncQueue<{
    ws: WsClient;
    req: IncomingMessage;
    header: string;
  }>();
  private lastHeader = '';

  constructor(settings: DeflateSettings | boolean) {
    this.server = new WsServer({ port: 0, host: '127.0.0.1', perMessageDeflate: settings });
    this.server.on('headers', (headers: string[]) => {
      const line = headers.find((h) => h.toLowerCase().startsWith('sec-websocket-extensions:'));
      this.lastHeader = line ? line.slice(line.indexOf(':') + 1).trim() : '';
    });
    this.server.on('connection', (ws, req) => {
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
      ws.on('error', () => {});
      this.connections.push({ ws, req, header: this.lastHeader });
    });
  }

  async listening(): Promise<number> {
    if (!this.server.address()) await once(this.server, 'listening');
    return (this.server.address() as AddressInfo).port;
  }

  nextConnection() {
    return this.connections.next();
  }

  close(): Promise<void> {
    for (const c of this.server.clients) c.terminate();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A wskit server that echoes and reports its side of each connection. */
class WskitEchoServer {
  readonly server: WebSocketServer;
  private readonly connections = new AsyncQueue<{ ws: WebSocket; req: IncomingMessage }>();

  constructor(settings: DeflateSettings | boolean) {
    this.server = new WebSocketServer({
      port: 0,
      host: '127.0.0.1',
      perMessageDeflate: settings,
      closeTimeout: 2000,
    });
    this.server.on('connection', (ws, req) => {
      ws.addEventListener('message', (e: MessageEvent) => ws.send(e.data as string | Buffer));
      this.connections.push({ ws, req });
    });
  }

  async listening(): Promise<number> {
    if (!this.server.address()) await once(this.server, 'listening');
    return (this.server.address() as AddressInfo).port;
  }

  nextConnection() {
    return this.connections.next();
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Opens a wskit client; rejects with the wskit error if the connection fails. */
function openWskit(
  url: string,
  settings: DeflateSettings | boolean,
): Promise<{ ws: WebSocket; messages: AsyncQueue<Data>; closed: Promise<CloseEvent> }> {
  const ws = new WebSocket(url, [], { perMessageDeflate: settings, closeTimeout: 2000 });
  ws.binaryType = 'nodebuffer';
  const messages = new AsyncQueue<Data>();
  const errors: unknown[] = [];
  ws.addEventListener('message', (e: MessageEvent) => messages.push(e.data as Data));
  ws.addEventListener('error', (e: ErrorEvent) => errors.push(e.error));
  const closed = new Promise<CloseEvent>((resolve) =>
    ws.addEventListener('close', (e: CloseEvent) => {
      messages.end(new Error(`closed with ${e.code}: ${String(errors[0] ?? '')}`));
      resolve(e);
    }),
  );
  return new Promise((resolve, reject) => {
    ws.addEventListener('open', () => resolve({ ws, messages, closed }));
    void closed.then((e) =>
      reject(errors[0] instanceof Error ? errors[0] : new Error(`closed with ${e.code}`)),
    );
  });
}

async function wskitToWs(server: WsEchoServer, settings: DeflateSettings): Promise<EchoClient> {
  const port = await server.listening();
  const serverSide = server.nextConnection();
  const { ws, messages, closed } = await openWskit(`ws://127.0.0.1:${port}/`, settings);
  const peer = await serverSide;
  return {
    send: (data) => ws.send(data),
    next: () => messages.next(),
    clientExtensions: ws.extensions,
    serverExtensions: peer.ws.extensions,
    responseHeader: peer.header,
    clientSocket: null,
    serverSocket: peer.req.socket,
    close: async () => {
      ws.close(1000);
      await closed;
    },
  };
}

async function wsToWskit(server: WskitEchoServer, settings: DeflateSettings): Promise<EchoClient> {
  const port = await server.listening();
  const serverSide = server.nextConnection();
  const ws = new WsClient(`ws://127.0.0.1:${port}/`, { perMessageDeflate: settings });
  const messages = new AsyncQueue<Data>();
  let header = '';
  let socket: Socket | null = null;
  ws.on('upgrade', (res: IncomingMessage) => {
    header = String(res.headers['sec-websocket-extensions'] ?? '');
    socket = res.socket;
  });
  ws.on('message', (data, isBinary) => messages.push(rawToData(data, isBinary)));
  const closed = once(ws, 'close');
  void closed.then(() => messages.end(new Error('the ws client closed')));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.on('error', () => {});
  const peer = await serverSide;
  return {
    send: (data) => ws.send(data, { binary: typeof data !== 'string' }),
    next: () => messages.next(),
    clientExtensions: ws.extensions,
    serverExtensions: peer.ws.extensions,
    responseHeader: header,
    clientSocket: socket,
    serverSocket: null,
    close: async () => {
      ws.close(1000);
      await closed;
    },
  };
}

/** Sorted parameters of a permessage-deflate header; fails if it is another extension. */
function paramsOf(header: string): string[] {
  const [name, ...params] = header.split(';').map((p) => p.trim());
  assert.equal(name, 'permessage-deflate', `"${header}"`);
  return params.sort();
}

// -- the echo suite ------------------------------------------------------------------------------

function echoSuite(
  connect: () => Promise<EchoClient>,
  expectedParams: readonly string[],
  wskitIsClient: boolean,
): void {
  let client: EchoClient;

  before(async () => {
    client = await connect();
  });

  after(async () => {
    await client?.close();
  });

  it('both ends agree on permessage-deflate with the expected parameters', () => {
    assert.match(client.clientExtensions, /permessage-deflate/);
    assert.match(client.serverExtensions, /permessage-deflate/);
    assert.deepEqual(paramsOf(client.responseHeader), [...expectedParams].sort());
    // wskit reports the agreed header itself; ws reports the extension names.
    const wskitSide = wskitIsClient ? client.clientExtensions : client.serverExtensions;
    const wsSide = wskitIsClient ? client.serverExtensions : client.clientExtensions;
    assert.equal(wskitSide, client.responseHeader);
    assert.equal(wsSide, 'permessage-deflate');
  });

  async function echo(data: Data, what: string): Promise<void> {
    client.send(data);
    assertSameData(await client.next(), data, what);
  }

  it('echoes JSON-like text (16 KiB)', T, () => echo(text16k, 'text 16 KiB'));
  it('echoes random binary (64 KiB)', T, () => echo(binaryRandom, 'random binary'));
  it('echoes compressible binary (64 KiB)', T, () => echo(binaryCompressible, 'compressible'));
  it('echoes 1 MiB of text', T, () => echo(text1m, 'text 1 MiB'));
  it('echoes empty text and empty binary', T, async () => {
    await echo('', 'empty text');
    await echo(Buffer.alloc(0), 'empty binary');
  });
  it('echoes 200 small messages in order', T, async () => {
    for (const m of smallMessages) client.send(m);
    for (const [i, m] of smallMessages.entries())
      assertSameData(await client.next(), m, `small message ${i}`);
  });
}

// -- wskit ↔ ws ----------------------------------------------------------------------------------

const combos: ReadonlyArray<readonly [string, DeflateSettings, readonly string[]]> = [
  ['defaults', {}, []],
  ['serverNoContextTakeover', { serverNoContextTakeover: true }, ['server_no_context_takeover']],
  ['clientNoContextTakeover', { clientNoContextTakeover: true }, ['client_no_context_takeover']],
  ['serverMaxWindowBits 10', { serverMaxWindowBits: 10 }, ['server_max_window_bits=10']],
  ['clientMaxWindowBits 11', { clientMaxWindowBits: 11 }, ['client_max_window_bits=11']],
  [
    'both no context takeover',
    { serverNoContextTakeover: true, clientNoContextTakeover: true },
    ['server_no_context_takeover', 'client_no_context_takeover'],
  ],
  [
    'everything at once',
    {
      serverNoContextTakeover: true,
      clientNoContextTakeover: true,
      serverMaxWindowBits: 9,
      clientMaxWindowBits: 9,
    },
    [
      'server_no_context_takeover',
      'client_no_context_takeover',
      'server_max_window_bits=9',
      'client_max_window_bits=9',
    ],
  ],
  ['threshold 0', { threshold: 0 }, []],
];

for (const [name, settings, expected] of combos) {
  describe(`wskit ↔ ws, ${name}`, () => {
    let wsServer: WsEchoServer;
    let wskitServer: WskitEchoServer;

    before(() => {
      wsServer = new WsEchoServer(settings);
      wskitServer = new WskitEchoServer(settings);
    });

    after(async () => {
      await wsServer.close();
      await wskitServer.close();
    });

    describe('wskit client → ws server', () => {
      echoSuite(() => wskitToWs(wsServer, settings), expected, true);
    });

    describe('ws client → wskit server', () => {
      echoSuite(() => wsToWskit(wskitServer, settings), expected, false);
    });
  });
}

describe('wskit ↔ ws: negotiation edge cases', () => {
  it('a wskit client with default options accepts a ws server that limits clientMaxWindowBits', {
    ...T,
  }, async () => {
    const server = new WsEchoServer({ clientMaxWindowBits: 11 });
    try {
      const client = await wskitToWs(server, {});
      try {
        assert.equal(client.clientExtensions, 'permessage-deflate; client_max_window_bits=11');
        client.send(text16k);
        assertSameData(await client.next(), text16k, 'echo');
      } finally {
        await client.close();
      }
    } finally {
      await server.close();
    }
  });

  it(
    'a wskit server limiting the client window declines an offer without client_max_window_bits',
    T,
    async () => {
      const server = new WskitEchoServer({ clientMaxWindowBits: 11 });
      try {
        // ws offers no client_max_window_bits when clientMaxWindowBits is false.
        const port = await server.listening();
        const serverSide = server.nextConnection();
        const ws = new WsClient(`ws://127.0.0.1:${port}/`, {
          perMessageDeflate: { clientMaxWindowBits: false } as unknown as PerMessageDeflateOptions,
        });
        await once(ws, 'open');
        const peer = await serverSide;
        assert.equal(ws.extensions, '');
        assert.equal(peer.ws.extensions, '');
        ws.send('no compression');
        const [data] = (await once(ws, 'message')) as [RawData, boolean];
        assert.equal(rawToData(data, false), 'no compression');
        ws.close();
        await once(ws, 'close');
      } finally {
        await server.close();
      }
    },
  );

  it(
    'a wskit server declines server_max_window_bits=8 (zlib cannot deflate with it)',
    T,
    async () => {
      const server = new WskitEchoServer(true);
      try {
        const port = await server.listening();
        const ws = new WsClient(`ws://127.0.0.1:${port}/`, {
          perMessageDeflate: { serverMaxWindowBits: 8 },
        });
        await once(ws, 'open');
        assert.equal(ws.extensions, '');
        ws.close();
        await once(ws, 'close');
      } finally {
        await server.close();
      }
    },
  );

  it('a wskit server without perMessageDeflate declines the offer', T, async () => {
    const server = new WskitEchoServer(false);
    try {
      const port = await server.listening();
      const ws = new WsClient(`ws://127.0.0.1:${port}/`);
      let header: string | undefined;
      ws.on('upgrade', (res: IncomingMessage) => {
        header = res.headers['sec-websocket-extensions'] as string | undefined;
      });
      await once(ws, 'open');
      assert.equal(header, undefined);
      assert.equal(ws.extensions, '');
      ws.close();
      await once(ws, 'close');
    } finally {
      await server.close();
    }
  });

  it('a wskit client with perMessageDeflate: false offers nothing', T, async () => {
    const server = new WsEchoServer(true);
    try {
      const port = await server.listening();
      const serverSide = server.nextConnection();
      const { ws, closed } = await openWskit(`ws://127.0.0.1:${port}/`, false);
      const peer = await serverSide;
      assert.equal(peer.req.headers['sec-websocket-extensions'], undefined);
      assert.equal(ws.extensions, '');
      assert.equal(peer.ws.extensions, '');
      ws.close();
      await closed;
    } finally {
      await server.close();
    }
  });
});

// -- bytes on the wire ---------------------------------------------------------------------------

describe('wskit ↔ ws: compression on the wire', () => {
  const big = jsonLikeText(1024 * 1024);
  const budget = 128 * 1024;
  let wsServer: WsEchoServer;
  let wskitServer: WskitEchoServer;

  before(() => {
    wsServer = new WsEchoServer(true);
    wskitServer = new WskitEchoServer(true);
  });

  after(async () => {
    await wsServer.close();
    await wskitServer.close();
  });

  // Which end sends the 1 MiB and where its bytes are counted: the ws end's socket in each case
  // (wskit's own socket is inside the library), written or read.
  const cases: ReadonlyArray<{
    title: string;
    connect: () => Promise<EchoClient>;
    bytes: (c: EchoClient) => number;
    sender: string;
  }> = [
    {
      title: 'ws compresses toward a wskit server, which inflates it',
      connect: () => wsToWskit(wskitServer, {}),
      bytes: (c) => c.clientSocket!.bytesWritten,
      sender: 'ws',
    },
    {
      title: 'a ws server compresses toward a wskit client, which inflates it',
      connect: () => wskitToWs(wsServer, {}),
      bytes: (c) => c.serverSocket!.bytesWritten,
      sender: 'ws',
    },
    {
      title: 'a wskit client compresses what it sends',
      connect: () => wskitToWs(wsServer, {}),
      bytes: (c) => c.serverSocket!.bytesRead,
      sender: 'wskit',
    },
    {
      title: 'a wskit server compresses what it sends',
      connect: () => wsToWskit(wskitServer, {}),
      bytes: (c) => c.clientSocket!.bytesRead,
      sender: 'wskit',
    },
  ];
  for (const { title, connect, bytes, sender } of cases) {
    it(title, T, async () => {
      const c = await connect();
      try {
        const before = bytes(c);
        c.send(big);
        assertSameData(await c.next(), big, 'echo');
        const sent = bytes(c) - before;
        assert.ok(sent < budget, `${sender} sent ${sent} bytes for 1 MiB`);
      } finally {
        await c.close();
      }
    });
  }
});

// -- Python websockets ---------------------------------------------------------------------------

const probe = spawnSync(PYTHON, ['-c', 'import websockets; print(websockets.__version__)'], {
  encoding: 'utf8',
  timeout: 10_000,
});
const pythonSkip =
  probe.status === 0 ? false : `${PYTHON} with the websockets module is not available`;

interface PythonServer {
  port: number;
  stop(): Promise<void>;
}

/** Starts echo_server.py; resolves with the port it printed. */
async function startPythonServer(args: string[]): Promise<PythonServer> {
  const child: ChildProcessWithoutNullStreams = spawn(PYTHON, [
    join(HERE, 'python', 'deflate_echo_server.py'),
    ...args,
  ]);
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const exited = once(child, 'exit');
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('echo_server.py printed no port')), 10_000);
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n')) {
        clearTimeout(timer);
        resolve(Number(line));
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`echo_server.py exited: ${stderr}`));
    });
  });
  return {
    port,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      // Closing stdin makes the server exit; kill it if it does not.
      child.stdin.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

interface PythonClientResult {
  ok: boolean;
  checked?: number;
  error?: string;
  response?: string;
  extensions?: Array<{ name: string; local_max_window_bits?: number }>;
}

/** Runs client.py against `url`; resolves with its JSON report. */
async function runPythonClient(url: string, args: string[] = []): Promise<PythonClientResult> {
  const child = spawn(PYTHON, [join(HERE, 'python', 'deflate_client.py'), url, ...args]);
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 25_000);
  await once(child, 'exit');
  clearTimeout(timer);
  const line = out.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(line) as PythonClientResult;
  } catch {
    throw new Error(`client.py printed no result: ${out} ${err}`);
  }
}

describe('Python websockets', { skip: pythonSkip }, () => {
  describe('python client → wskit server', () => {
    let server: WskitEchoServer;
    let port: number;

    before(async () => {
      server = new WskitEchoServer(true);
      port = await server.listening();
    });

    after(() => server.close());

    for (const [name, args, params] of [
      ['default options', [], []],
      [
        'no context takeover, client window 10, server window 11',
        [
          '--no-context-takeover',
          '--client-max-window-bits',
          '10',
          '--server-max-window-bits',
          '11',
        ],
        [
          'client_max_window_bits=10',
          'client_no_context_takeover',
          'server_max_window_bits=11',
          'server_no_context_takeover',
        ],
      ],
    ] as const) {
      it(`echoes everything compressed (${name})`, T, async () => {
        const serverSide = server.nextConnection();
        const result = await runPythonClient(`ws://127.0.0.1:${port}/`, [...args]);
        assert.equal(result.ok, true, result.error);
        assert.equal(result.checked, 206);
        const peer = await serverSide;
        assert.equal(peer.ws.extensions, result.response);
        assert.deepEqual(paramsOf(result.response ?? ''), [...params].sort());
        assert.equal(result.extensions?.[0]?.name, 'permessage-deflate');
      });
    }
  });

  /** Connects a wskit client to a python server, checks the agreement, then echoes. */
  async function wskitToPython(
    server: PythonServer,
    settings: DeflateSettings,
    expectedHeader: string,
  ): Promise<void> {
    const { ws, messages, closed } = await openWskit(`ws://127.0.0.1:${server.port}/`, settings);
    try {
      assert.equal(ws.extensions, expectedHeader);
      ws.send('__extensions__');
      const report = JSON.parse((await messages.next()) as string) as {
        extensions: Array<{ name: string }>;
        response: string;
      };
      assert.equal(report.extensions[0]?.name, 'permessage-deflate');
      assert.equal(report.response, expectedHeader);
      for (const [what, data] of [
        ['text 16 KiB', text16k],
        ['random binary', binaryRandom],
        ['compressible binary', binaryCompressible],
        ['text 1 MiB', text1m],
      ] as const) {
        ws.send(data);
        assertSameData(await messages.next(), data, what);
      }
      for (const m of smallMessages) ws.send(m);
      for (const [i, m] of smallMessages.entries())
        assertSameData(await messages.next(), m, `small message ${i}`);
    } finally {
      ws.close(1000);
      await closed;
    }
  }

  describe('wskit client → python server (defaults: window bits 12)', () => {
    let server: PythonServer;

    before(async () => {
      server = await startPythonServer([]);
    });

    after(() => server.stop());

    it('a wskit client with default options accepts the answer and echoes', { ...T }, () =>
      wskitToPython(
        server,
        {},
        'permessage-deflate; server_max_window_bits=12; client_max_window_bits=12',
      ),
    );

    it('a wskit client offering client_max_window_bits=15 echoes everything compressed', T, () =>
      wskitToPython(
        server,
        { clientMaxWindowBits: 15 },
        'permessage-deflate; server_max_window_bits=12; client_max_window_bits=12',
      ),
    );

    it('a wskit client asking for server_max_window_bits=10 gets it', T, () =>
      wskitToPython(
        server,
        { clientMaxWindowBits: 15, serverMaxWindowBits: 10 },
        'permessage-deflate; server_max_window_bits=10; client_max_window_bits=12',
      ),
    );
  });

  describe('wskit client → python server with no context takeover both ways', () => {
    let server: PythonServer;

    before(async () => {
      server = await startPythonServer([
        '--server-no-context-takeover',
        '--client-no-context-takeover',
      ]);
    });

    after(() => server.stop());

    it('echoes everything compressed', T, () =>
      wskitToPython(
        server,
        {},
        'permessage-deflate; server_no_context_takeover; client_no_context_takeover',
      ),
    );
  });
});
