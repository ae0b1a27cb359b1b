/**
 * The Overte dialect (`wskit/overte`) against local servers on 127.0.0.1: every member of the
 * Overte `WebSocket` documentation (shared/seeds/003) with its documented behaviour, the enums
 * table-driven from the seed's text, the `WebSocketServer`, and the seed's example rewritten.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import {
  type BinaryType,
  type CloseEvent,
  type WebSocket as CoreWebSocket,
  type WebSocketServer as CoreWebSocketServer,
  type MessageEvent,
  socketErrorOf,
} from '../../../src/index.js';
import {
  CloseCode,
  type CloseData,
  type MessageData,
  OverteWebSocketBase,
  ReadyState,
  SocketError,
  WebSocket,
  WebSocketServer,
} from '../../../src/overte.js';
import { closedPort } from '../../support/ports.js';
import { Scope, type ServerOptions } from '../../support/scope.js';
import { WAIT_MS } from '../../support/timeouts.js';
import { upgradeResponse } from '../../support/upgrade-response.js';

// -- helpers -------------------------------------------------------------------------------------

/** Resolves or rejects with `promise`, or rejects when `ms` pass first. */
function within<T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

interface Seen {
  open: number;
  message: MessageData;
  error: number;
  close: CloseData;
}
type Kind = keyof Seen;

/**
 * Installs the four handlers of an Overte socket and records what they receive, in order:
 * `order` lists the kinds, `next(kind)` waits (bounded) for the next unread one. For `open`, the
 * value recorded is the number of arguments the handler got.
 */
class Recorder {
  readonly order: Kind[] = [];
  readonly #seen: { [K in Kind]: Seen[K][] } = { open: [], message: [], error: [], close: [] };
  readonly #read: Record<Kind, number> = { open: 0, message: 0, error: 0, close: 0 };
  readonly #wakers = new Set<() => void>();

  constructor(readonly ws: WebSocket) {
    ws.onopen = (...args: unknown[]) => this.#push('open', args.length);
    ws.onmessage = (message) => this.#push('message', message);
    ws.onerror = (error) => this.#push('error', error);
    ws.onclose = (data) => this.#push('close', data);
  }

  #push<K extends Kind>(kind: K, value: Seen[K]): void {
    this.order.push(kind);
    this.#seen[kind].push(value);
    for (const wake of this.#wakers) wake();
  }

  async next<K extends Kind>(kind: K, ms = WAIT_MS): Promise<Seen[K]> {
    const deadline = Date.now() + ms;
    while (this.#seen[kind].length <= this.#read[kind]) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${ms} ms waiting for on${kind}`);
      await new Promise<void>((wake) => {
        const timer = setTimeout(done, left);
        const wakers = this.#wakers;
        function done() {
          clearTimeout(timer);
          wakers.delete(done);
          wake();
        }
        wakers.add(done);
      });
    }
    return this.#seen[kind][this.#read[kind]++]!;
  }
}

/** What a wskit server-side socket received and how it closed. */
interface PeerLog {
  socket: CoreWebSocket;
  messages: Array<string | Buffer>;
  nextMessage(): Promise<string | Buffer>;
  closed: Promise<{ code: number; reason: string }>;
}

function logPeer(peer: CoreWebSocket): PeerLog {
  const messages: Array<string | Buffer> = [];
  let read = 0;
  const wakers = new Set<() => void>();
  peer.addEventListener('message', (event: MessageEvent) => {
    messages.push(event.data as string | Buffer);
    for (const wake of wakers) wake();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    peer.addEventListener('close', (event: CloseEvent) =>
      resolve({ code: event.code, reason: event.reason }),
    );
  });
  return {
    socket: peer,
    messages,
    closed: within(closed, 'the server-side close'),
    async nextMessage() {
      if (messages.length <= read) {
        await within(
          new Promise<void>((wake) => {
            const done = () => {
              wakers.delete(done);
              wake();
            };
            wakers.add(done);
          }),
          'a message at the server',
        );
      }
      return messages[read++]!;
    },
  };
}

/** Test-scoped Overte resources on top of {@link Scope}: closed when the test ends. */
class OverteEnv extends Scope {
  /** An Overte client that is closed at the end of the test if still open. */
  overte(url: string, options?: ConstructorParameters<typeof WebSocket>[1]): WebSocket {
    const ws = new WebSocket(url, options);
    this.defer(() => {
      if (ws.readyState === ReadyState.CONNECTING || ws.readyState === ReadyState.OPEN) ws.close();
    });
    return ws;
  }

  /** An Overte client with a {@link Recorder}, resolved once `onopen` has been called. */
  async openOverte(
    url: string,
    options?: ConstructorParameters<typeof WebSocket>[1],
  ): Promise<Recorder> {
    const rec = new Recorder(this.overte(url, options));
    await rec.next('open');
    return rec;
  }

  /** An Overte `WebSocketServer` on 127.0.0.1, any free port, resolved once listening. */
  async overteServer(port?: number): Promise<WebSocketServer> {
    const server = new WebSocketServer({
      host: '127.0.0.1',
      ...(port !== undefined ? { port } : {}),
    });
    this.defer(() => within(server.close(), 'the Overte server to close'));
    await within(server.ready, 'the Overte server to listen');
    return server;
  }

  /**
   * A wskit server whose connections are logged; `peer()` resolves with the next one. The
   * server echoes when `echo` is set.
   */
  async loggedServer(
    options: ServerOptions = {},
    echo = false,
  ): Promise<{ url: string; wss: CoreWebSocketServer<BinaryType>; peer(): Promise<PeerLog> }> {
    const started = await this.server({ binaryType: 'nodebuffer', ...options });
    const peers: Array<Promise<PeerLog>> = [];
    const waiting: Array<(log: PeerLog) => void> = [];
    started.wss.on('connection', (socket) => {
      const log = logPeer(socket);
      if (echo)
        socket.addEventListener('message', (event: MessageEvent) =>
          socket.send(event.data as string),
        );
      const resolveNext = waiting.shift();
      if (resolveNext) resolveNext(log);
      else peers.push(Promise.resolve(log));
    });
    return {
      url: started.url,
      wss: started.wss,
      peer() {
        const ready = peers.shift();
        if (ready) return ready;
        return within(new Promise<PeerLog>((r) => waiting.push(r)), 'a connection at the server');
      },
    };
  }
}

function env(t: TestContext): OverteEnv {
  return new OverteEnv(t);
}

async function bytesOf(data: unknown): Promise<number[]> {
  if (data instanceof Blob) return [...new Uint8Array(await data.arrayBuffer())];
  if (data instanceof ArrayBuffer) return [...new Uint8Array(data)];
  if (ArrayBuffer.isView(data))
    return [...new Uint8Array(data.buffer, data.byteOffset, data.byteLength)];
  throw new TypeError(`not binary data: ${typeof data}`);
}

// -- the enums, from the seed's tables -----------------------------------------------------------

/**
 * The seed's three tables, split into columns: value, name, description. Each row joined is the
 * seed's line verbatim ("1000NormalNormal closure."); the first test checks that against the seed.
 */
const SEED_TABLES = {
  CloseCode: [
    [1000, 'Normal', 'Normal closure.'],
    [1001, 'GoingAway', 'Going away.'],
    [1002, 'ProtocolError', 'Protocol error.'],
    [1003, 'DatatypeNotSupported', 'Unsupported data.'],
    [1004, 'Reserved1004', 'Reserved.'],
    [1005, 'MissingStatusCode', 'No status received.'],
    [1006, 'AbnormalDisconnection', 'abnormal closure.'],
    [1007, 'WrongDatatype', 'Invalid frame payload data.'],
    [1008, 'PolicyViolated', 'Policy violation.'],
    [1009, 'TooMuchData', 'Message too big.'],
    [1010, 'MissingExtension', 'Mandatory extension missing.'],
    [1011, 'BadOperation', 'Internal server error.'],
    [1015, 'TlsHandshakeFailed', 'TLS handshake failed.'],
  ],
  ReadyState: [
    [0, 'CONNECTING', 'The connection is opening.'],
    [1, 'OPEN', 'The connection is open.'],
    [2, 'CLOSING', 'The connection is closing.'],
    [3, 'CLOSED', 'The connection is closed.'],
  ],
  SocketError: [
    [0, 'ConnectionRefusedError', 'The connection was refused or timed out.'],
    [1, 'RemoteHostClosedError', 'The remote host closed the connection.'],
    [2, 'HostNotFoundError', 'The host address was not found.'],
    [
      3,
      'SocketAccessError',
      "The socket operation failed because the application doesn't have the necessary privileges.",
    ],
    [4, 'SocketResourceError', 'The local system ran out of resources (e.g., too many sockets).'],
    [5, 'SocketTimeoutError', 'The socket operation timed out.'],
    [6, 'DatagramTooLargeError', "The datagram was larger than the OS's limit."],
    [7, 'NetworkError', 'An error occurred with the network.'],
    [8, 'AddressInUseError', 'The is already in use and cannot be reused.'],
    [9, 'SocketAddressNotAvailableError', 'The address specified does not belong to the host.'],
    [
      10,
      'UnsupportedSocketOperationError',
      'The requested socket operation is not supported by the local OS.',
    ],
    [
      11,
      'ProxyAuthenticationRequiredError',
      'The socket is using a proxy and requires authentication.',
    ],
    [12, 'SslHandshakeFailedError', 'The SSL/TLS handshake failed.'],
    [13, 'UnfinishedSocketOperationError', 'The last operation has not finished yet.'],
    [
      14,
      'ProxyConnectionRefusedError',
      'Could not contact the proxy server because connection was denied.',
    ],
    [
      15,
      'ProxyConnectionClosedError',
      'The connection to the proxy server was unexpectedly closed.',
    ],
    [16, 'ProxyConnectionTimeoutError', 'The connection to the proxy server timed out.'],
    [17, 'ProxyNotFoundError', 'The proxy address was not found.'],
    [
      18,
      'ProxyProtocolError',
      'Connection to the proxy server failed because the server response could not be understood.',
    ],
    [19, 'OperationError', 'An operation failed because the socket state did not permit it.'],
    [20, 'SslInternalError', 'Internal error in the SSL library being used.'],
    [21, 'SslInvalidUserDataError', 'Error in the SSL library because of invalid data.'],
    [22, 'TemporaryError', 'A temporary error occurred.'],
    [-1, 'UnknownSocketError', 'An unknown error occurred.'],
  ],
} as const satisfies Record<string, ReadonlyArray<readonly [number, string, string]>>;

const SEED_PATH = resolve(
  import.meta.dirname ?? new URL('.', import.meta.url).pathname,
  '../../../../shared/seeds/003_97181631c66446bb.txt',
);
const seedMissing = existsSync(SEED_PATH) ? undefined : `the seed document is not at ${SEED_PATH}`;

/** The rows of the seed's "ValueNameDescription" table that follows "<name>\nType: number". */
function seedRows(seed: string, name: string): string[] {
  const section = seed.indexOf(`\n${name}\nType: number`);
  assert.ok(section >= 0, `the seed defines ${name}`);
  const table = seed.indexOf('ValueNameDescription\n', section);
  const rows: string[] = [];
  for (const line of seed.slice(table).split('\n').slice(1)) {
    if (!/^-?\d+[A-Za-z]/.test(line)) break;
    rows.push(line);
  }
  return rows;
}

const ENUMS = { CloseCode, ReadyState, SocketError } as const;

describe('Overte enums: names and values exactly as the seed lists them', () => {
  it("the tables here are the seed document's rows, verbatim and complete", {
    skip: seedMissing,
  }, () => {
    const seed = readFileSync(SEED_PATH, 'utf8');
    for (const [name, table] of Object.entries(SEED_TABLES)) {
      assert.deepEqual(
        table.map(([value, key, description]) => `${value}${key}${description}`),
        seedRows(seed, name),
        name,
      );
    }
  });

  for (const [name, table] of Object.entries(SEED_TABLES) as Array<
    [keyof typeof ENUMS, ReadonlyArray<readonly [number, string, string]>]
  >) {
    it(`${name} has exactly the seed's ${table.length} names and values, frozen`, () => {
      const actual = ENUMS[name];
      assert.deepEqual(
        Object.entries(actual),
        table.map(([value, key]) => [key, value]),
      );
      assert.ok(Object.isFrozen(actual));
      assert.equal(WebSocket[name], actual, `WebSocket.${name} is the same object`);
    });
  }

  it('SocketError has all 24 values, from -1 UnknownSocketError to 22 TemporaryError', () => {
    assert.equal(Object.keys(SocketError).length, 24);
    assert.equal(SocketError.UnknownSocketError, -1);
    assert.equal(SocketError.ConnectionRefusedError, 0);
    assert.equal(SocketError.TemporaryError, 22);
  });
});

// -- WebSocket -----------------------------------------------------------------------------------

describe("Overte WebSocket: the seed's members", { timeout: 60_000 }, () => {
  it('CONNECTING, OPEN, CLOSING and CLOSED are 0-3 on the class and on instances', async (t) => {
    const e = env(t);
    const { url } = await e.loggedServer();
    const ws = e.overte(url);
    for (const [name, value] of Object.entries(ReadyState)) {
      assert.equal(WebSocket[name as keyof typeof ReadyState], value, `WebSocket.${name}`);
      assert.equal(ws[name as keyof typeof ReadyState], value, `instance ${name}`);
    }
  });

  it('walks readyState 0 -> 1 -> 2 -> 3 through onopen, onmessage {data}, close() and onclose', async (t) => {
    const e = env(t);
    const { url } = await e.loggedServer({}, true);
    const ws = e.overte(url);
    assert.equal(ws.readyState, ReadyState.CONNECTING);
    assert.equal(ws.url, `${url}/`);
    const rec = new Recorder(ws);
    let stateInOnopen = -1;
    const onopen = ws.onopen!;
    ws.onopen = () => {
      stateInOnopen = ws.readyState;
      onopen();
    };
    assert.equal(await rec.next('open'), 0, 'onopen is called without arguments');
    assert.equal(stateInOnopen, ReadyState.OPEN);

    ws.send('Test message');
    const message = await rec.next('message');
    assert.deepEqual(message, { data: 'Test message' });
    assert.deepEqual(Object.keys(message), ['data']);

    ws.close();
    assert.equal(ws.readyState, ReadyState.CLOSING);
    const closed = await rec.next('close');
    assert.deepEqual(closed, { code: CloseCode.Normal, reason: '', wasClean: true });
    assert.deepEqual(Object.keys(closed).sort(), ['code', 'reason', 'wasClean']);
    assert.equal(ws.readyState, ReadyState.CLOSED);
    assert.deepEqual(rec.order, ['open', 'message', 'close']);
  });

  it('has these defaults: binaryType "arraybuffer" (what Overte delivers), bufferedAmount 0, extensions "", protocol "", no handlers', async (t) => {
    const e = env(t);
    const { url } = await e.loggedServer();
    const ws = e.overte(url);
    assert.equal(ws.binaryType, 'arraybuffer');
    assert.equal(ws.bufferedAmount, 0);
    assert.equal(ws.extensions, '');
    assert.equal(ws.protocol, '');
    assert.equal(ws.onopen, null);
    assert.equal(ws.onmessage, null);
    assert.equal(ws.onerror, null);
    assert.equal(ws.onclose, null);
    const rec = new Recorder(ws);
    await rec.next('open');
    assert.equal(ws.extensions, '', 'the server accepted no extension');
    assert.equal(ws.protocol, '', 'no subprotocol was offered');
  });

  it('stores handlers, and null for anything that is not a function', async (t) => {
    const e = env(t);
    const { url } = await e.loggedServer();
    const ws = e.overte(url);
    const fn = () => {};
    for (const name of ['onopen', 'onmessage', 'onerror', 'onclose'] as const) {
      ws[name] = fn;
      assert.equal(ws[name], fn);
      (ws as unknown as Record<string, unknown>)[name] = 'not a function';
      assert.equal(ws[name], null);
    }
  });

  it('close() closes with 1000 and an empty reason, seen by the server', async (t) => {
    const e = env(t);
    const server = await e.loggedServer();
    const rec = await e.openOverte(server.url);
    const peer = await server.peer();
    rec.ws.close();
    assert.deepEqual(await peer.closed, { code: 1000, reason: '' });
    assert.deepEqual(await rec.next('close'), { code: 1000, reason: '', wasClean: true });
  });

  it('close(code, reason) sends that code and reason to the server', async (t) => {
    const e = env(t);
    const server = await e.loggedServer();
    const rec = await e.openOverte(server.url);
    const peer = await server.peer();
    rec.ws.close(4001, 'done for today');
    assert.deepEqual(await peer.closed, { code: 4001, reason: 'done for today' });
    assert.deepEqual(await rec.next('close'), {
      code: 4001,
      // onclose reports the server's close frame: wskit echoes the code, not the reason.
      reason: '',
      wasClean: true,
    });
  });

  it('close(CloseCode.Normal, reason) and the server closing with a CloseCode reach onclose', async (t) => {
    const e = env(t);
    const server = await e.loggedServer();
    const rec = await e.openOverte(server.url);
    const peer = await server.peer();
    rec.ws.close(CloseCode.Normal, 'bye');
    assert.deepEqual(await peer.closed, { code: CloseCode.Normal, reason: 'bye' });

    const rec2 = await e.openOverte(server.url);
    (await server.peer()).socket.close(CloseCode.PolicyViolated, 'no');
    assert.deepEqual(await rec2.next('close'), {
      code: CloseCode.PolicyViolated,
      reason: 'no',
      wasClean: true,
    });
  });

  it('close(code) sends every CloseCode that can go on the wire as given, as Qt does', async (t) => {
    const e = env(t);
    const server = await e.loggedServer();
    const wire = [
      CloseCode.GoingAway,
      CloseCode.ProtocolError,
      CloseCode.DatatypeNotSupported,
      CloseCode.WrongDatatype,
      CloseCode.PolicyViolated,
      CloseCode.TooMuchData,
      CloseCode.MissingExtension,
      CloseCode.BadOperation,
    ];
    for (const code of wire) {
      const rec = await e.openOverte(server.url);
      const peer = await server.peer();
      rec.ws.close(code, `closing with ${code}`);
      assert.deepEqual(await peer.closed, { code, reason: `closing with ${code}` });
      assert.equal((await rec.next('close')).code, code);
    }
  });

  it('close() with a code forbidden on the wire (1004, 1005, 1006, 1015, 2000) closes without a status: the peer sees 1005', async (t) => {
    const e = env(t);
    const server = await e.loggedServer();
    for (const code of [
      CloseCode.Reserved1004,
      CloseCode.MissingStatusCode,
      CloseCode.AbnormalDisconnection,
      CloseCode.TlsHandshakeFailed,
      2000,
    ]) {
      const rec = await e.openOverte(server.url);
      const peer = await server.peer();
      assert.doesNotThrow(() => rec.ws.close(code, 'why'));
      assert.deepEqual(await peer.closed, { code: 1005, reason: '' });
      assert.equal((await rec.next('close')).wasClean, true);
    }
  });

  it('close() cuts a reason over 123 bytes at a UTF-8 boundary instead of throwing', async (t) => {
    const e = env(t);
    const server = await e.loggedServer();
    const rec = await e.openOverte(server.url);
    const peer = await server.peer();
    // 'é' is 2 bytes: 61 of them are 122 bytes, and the 62nd would straddle byte 123.
    const reason = 'é'.repeat(70);
    assert.doesNotThrow(() => rec.ws.close(CloseCode.Normal, reason));
    const closed = await peer.closed;
    assert.equal(closed.reason, 'é'.repeat(61));
    assert.equal(Buffer.byteLength(closed.reason), 122);
  });

  it('send(string) sends a text message', async (t) => {
    const e = env(t);
    const server = await e.loggedServer();
    const rec = await e.openOverte(server.url);
    const peer = await server.peer();
    rec.ws.send('héllo ✓');
    assert.equal(await peer.nextMessage(), 'héllo ✓');
  });

  it("send(object) sends the object's JSON text as a text message", async (t) => {
    const e = env(t);
    const server = await e.loggedServer();
    const rec = await e.openOverte(server.url);
    const peer = await server.peer();
    const object = { type: 'position', x: 1.5, tags: ['a', 'b'], nested: { ok: true, none: null } };
    rec.ws.send(object);
    rec.ws.send([1, 'two', { three: 3 }]);
    const first = await peer.nextMessage();
    assert.equal(typeof first, 'string');
    assert.equal(first, JSON.stringify(object));
    assert.deepEqual(JSON.parse(first as string), object);
    assert.equal(await peer.nextMessage(), '[1,"two",{"three":3}]');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assert.throws(() => rec.ws.send(cyclic), TypeError);
  });

  it('send() before the connection opens or after it closed sends nothing and does not throw, as Qt', async (t) => {
    const e = env(t);
    const server = await e.loggedServer();
    const rec = new Recorder(e.overte(server.url));
    assert.doesNotThrow(() => rec.ws.send('too early'));
    assert.doesNotThrow(() => rec.ws.send({ too: 'early' }));
    await rec.next('open');
    const peer = await server.peer();
    rec.ws.send('first');
    assert.equal(await peer.nextMessage(), 'first');
    rec.ws.close();
    await rec.next('close');
    assert.doesNotThrow(() => rec.ws.send('too late'));
    assert.deepEqual(peer.messages, ['first']);
  });

  it("send() of a number, boolean, null or undefined sends the script engine's string of it", async (t) => {
    const e = env(t);
    const server = await e.loggedServer();
    const rec = await e.openOverte(server.url);
    const peer = await server.peer();
    for (const value of [42, 1.5, true, null, undefined]) rec.ws.send(value);
    const got: unknown[] = [];
    for (let i = 0; i < 5; i++) got.push(await peer.nextMessage());
    assert.deepEqual(got, ['42', '1.5', 'true', 'null', 'undefined']);
  });

  it('sends ArrayBuffer, typed arrays, DataView and Blob as binary messages', async (t) => {
    const e = env(t);
    const server = await e.loggedServer();
    const rec = await e.openOverte(server.url);
    const peer = await server.peer();
    const bytes = [0, 1, 2, 250, 255];
    rec.ws.send(new Uint8Array(bytes).buffer);
    rec.ws.send(new Uint8Array([9, ...bytes, 9]).subarray(1, 6));
    rec.ws.send(new DataView(new Uint8Array(bytes).buffer));
    rec.ws.send(new Blob([new Uint8Array(bytes)]));
    for (let i = 0; i < 4; i++) {
      const data = await peer.nextMessage();
      assert.ok(Buffer.isBuffer(data), `message ${i} is binary`);
      assert.deepEqual([...data], bytes);
    }
  });

  it('receives binary messages as ArrayBuffer (default, as Overte) or Blob ("blob"); other binaryTypes are ignored', async (t) => {
    const e = env(t);
    const server = await e.loggedServer();
    const rec = await e.openOverte(server.url);
    const peer = (await server.peer()).socket;
    peer.send(Buffer.from([4, 5]));
    const asBuffer = (await rec.next('message')).data;
    assert.ok(asBuffer instanceof ArrayBuffer);
    assert.deepEqual(await bytesOf(asBuffer), [4, 5]);

    rec.ws.binaryType = 'blob';
    assert.equal(rec.ws.binaryType, 'blob');
    peer.send(Buffer.from([1, 2, 3]));
    const asBlob = (await rec.next('message')).data;
    assert.ok(asBlob instanceof Blob);
    assert.deepEqual(await bytesOf(asBlob), [1, 2, 3]);

    (rec.ws as unknown as { binaryType: string }).binaryType = 'nodebuffer';
    assert.equal(rec.ws.binaryType, 'blob');
    peer.send('text stays a string');
    assert.deepEqual(await rec.next('message'), { data: 'text stays a string' });
  });

  it('bufferedAmount counts bytes not yet handed to the network, and returns to 0', async (t) => {
    const e = env(t);
    const server = await e.loggedServer();
    const rec = await e.openOverte(server.url);
    const peer = await server.peer();
    assert.equal(rec.ws.bufferedAmount, 0);
    const big = new Uint8Array(8 * 1024 * 1024);
    rec.ws.send(big);
    assert.ok(
      rec.ws.bufferedAmount > 0,
      `bufferedAmount right after send: ${rec.ws.bufferedAmount}`,
    );
    assert.equal(((await peer.nextMessage()) as Buffer).length, big.length);
    assert.equal(rec.ws.bufferedAmount, 0);
  });

  it('extensions shows what the server accepted (permessage-deflate)', async (t) => {
    const e = env(t);
    const server = await e.loggedServer({ perMessageDeflate: true }, true);
    const rec = await e.openOverte(server.url);
    assert.match(rec.ws.extensions, /^permessage-deflate/);
    rec.ws.send({ compressed: 'yes'.repeat(100) });
    assert.deepEqual(await rec.next('message'), {
      data: JSON.stringify({ compressed: 'yes'.repeat(100) }),
    });
  });

  it('protocol shows the subprotocol the server picked from options.protocols; socketOptions reach wskit', async (t) => {
    const e = env(t);
    let header: string | undefined;
    const server = await e.loggedServer({
      handleProtocols: (offered) => (offered.has('overte.v2') ? 'overte.v2' : false),
      authenticate: (request) => {
        header = request.headers['x-overte-script'] as string | undefined;
        return true;
      },
    });
    const rec = await e.openOverte(server.url, {
      protocols: ['overte.v1', 'overte.v2'],
      socketOptions: { headers: { 'X-Overte-Script': 'avatar.js' } },
    });
    assert.equal(rec.ws.protocol, 'overte.v2');
    assert.equal(header, 'avatar.js');
  });

  it('onerror receives 0 (ConnectionRefusedError) when the connection is refused, then onclose 1006', async (t) => {
    const e = env(t);
    const port = await closedPort();
    const rec = new Recorder(e.overte(`ws://127.0.0.1:${port}`));
    assert.equal(await rec.next('error'), SocketError.ConnectionRefusedError);
    const closed = await rec.next('close');
    assert.equal(closed.code, CloseCode.AbnormalDisconnection);
    assert.equal(closed.wasClean, false);
    assert.deepEqual(rec.order, ['error', 'close']);
    assert.equal(rec.ws.readyState, ReadyState.CLOSED);
  });

  it('onerror receives 2 (HostNotFoundError) for a host that does not exist', async (t) => {
    const e = env(t);
    const rec = new Recorder(e.overte('ws://no-such-host.invalid/'));
    assert.equal(await rec.next('error', 15_000), SocketError.HostNotFoundError);
    assert.equal((await rec.next('close')).code, 1006);
  });

  it('onerror receives 0 (ConnectionRefusedError, as Qt) when the server refuses the handshake', async (t) => {
    const e = env(t);
    const server = await e.loggedServer({ authenticate: () => ({ status: 403, body: 'no' }) });
    const rec = new Recorder(e.overte(server.url));
    assert.equal(await rec.next('error'), SocketError.ConnectionRefusedError);
    assert.equal((await rec.next('close')).code, 1006);
    assert.deepEqual(rec.order, ['error', 'close']);
  });

  it("a bad or unsupported URL does not throw: onerror gets Qt's number (10 scheme, 0 invalid), then onclose 1006", async () => {
    for (const [url, number] of [
      ['ftp://example.org/', SocketError.UnsupportedSocketOperationError],
      ['not a url', SocketError.UnsupportedSocketOperationError],
      ['ws://example.org/#fragment', SocketError.ConnectionRefusedError],
      ['ws://exa mple.org/', SocketError.ConnectionRefusedError],
    ] as const) {
      const rec = new Recorder(new WebSocket(url));
      assert.equal(rec.ws.readyState, ReadyState.CLOSED);
      assert.equal(rec.ws.url, url);
      assert.equal(await rec.next('error'), number, url);
      assert.deepEqual(await rec.next('close'), { code: 1006, reason: '', wasClean: false });
      assert.deepEqual(rec.order, ['error', 'close']);
      assert.doesNotThrow(() => rec.ws.send('x'));
      assert.doesNotThrow(() => rec.ws.close());
    }
  });

  it('the constructor throws TypeError for a non-socket object, a base class, and unknown options naming the right one', () => {
    assert.throws(() => new WebSocket({} as unknown as string), TypeError);
    assert.throws(() => new OverteWebSocketBase('ws://127.0.0.1:1/'), TypeError);
    assert.throws(
      () => new WebSocket('ws://127.0.0.1:1/', { protocol: 'chat' } as never),
      (error: Error) =>
        error instanceof TypeError && /"protocol".*did you mean "protocols"/.test(error.message),
    );
    assert.throws(
      () => new WebSocket('ws://127.0.0.1:1/', { headers: {} } as never),
      (error: Error) =>
        error instanceof TypeError && /"headers".*did you mean "socketOptions"/.test(error.message),
    );
  });
});

describe('Overte WebSocket: new WebSocket(existingSocket)', { timeout: 30_000 }, () => {
  it('wrapping an Overte WebSocket reuses its connection: both see its messages and its close', async (t) => {
    const e = env(t);
    const server = await e.loggedServer({}, true);
    const first = await e.openOverte(server.url);
    const peer = await server.peer();
    const second = new Recorder(new WebSocket(first.ws));
    assert.equal(second.ws.url, first.ws.url);
    assert.equal(second.ws.readyState, ReadyState.OPEN);
    assert.notEqual(second.ws.onmessage, null);
    second.ws.send({ from: 'second' });
    assert.equal(await peer.nextMessage(), '{"from":"second"}');
    assert.deepEqual(await first.next('message'), { data: '{"from":"second"}' });
    assert.deepEqual(await second.next('message'), { data: '{"from":"second"}' });
    second.ws.close(4000, 'via the wrapper');
    assert.deepEqual(await peer.closed, { code: 4000, reason: 'via the wrapper' });
    // onclose reports the server's answering close frame: the code echoed, no reason.
    const expected = { code: 4000, reason: '', wasClean: true };
    assert.deepEqual(await first.next('close'), expected);
    assert.deepEqual(await second.next('close'), expected);
    assert.equal(first.ws.readyState, ReadyState.CLOSED);
    assert.deepEqual(second.order, ['message', 'close'], 'no onopen for an already open socket');
  });

  it('wraps a wskit client socket that is still connecting: onopen fires, binary is delivered', async (t) => {
    const e = env(t);
    const server = await e.loggedServer({}, true);
    const core = e.client(server.url);
    const rec = new Recorder(new WebSocket(core));
    assert.equal(core.binaryType, 'arraybuffer', 'wrapping sets the binaryType of the socket');
    assert.equal(rec.ws.readyState, ReadyState.CONNECTING);
    assert.equal(await rec.next('open'), 0);
    rec.ws.binaryType = 'arraybuffer';
    rec.ws.send(new Uint8Array([7, 8, 9]));
    const echoed = (await rec.next('message')).data;
    assert.ok(echoed instanceof ArrayBuffer);
    assert.deepEqual(await bytesOf(echoed), [7, 8, 9]);
  });

  it('wraps a socket a wskit server accepted: an Overte echo on the server side', async (t) => {
    const e = env(t);
    const server = await e.loggedServer();
    const wrapped: WebSocket[] = [];
    server.wss.on('connection', (socket) => {
      const ws = new WebSocket(socket);
      wrapped.push(ws);
      ws.onmessage = (message) => ws.send(message.data);
    });
    const client = await e.openOverte(server.url);
    client.ws.send('ping');
    assert.deepEqual(await client.next('message'), { data: 'ping' });
    client.ws.send(new Uint8Array([1, 2]));
    assert.deepEqual(await bytesOf((await client.next('message')).data), [1, 2]);
    assert.equal(wrapped.length, 1);
    assert.equal(wrapped[0]!.readyState, ReadyState.OPEN);
    wrapped[0]!.close(CloseCode.GoingAway, 'server-side sockets may send 1001');
    assert.deepEqual(await client.next('close'), {
      code: 1001,
      reason: 'server-side sockets may send 1001',
      wasClean: true,
    });
  });
});

// -- WebSocketServer -----------------------------------------------------------------------------

describe('Overte WebSocketServer', { timeout: 30_000 }, () => {
  // These construct servers as Overte scripts do, so they listen on every interface (Overte's
  // default, issue 10 item 1); nothing connects to them except from 127.0.0.1.
  it('new WebSocketServer() is listening when it returns: url, port and listening are right at once', async (t) => {
    const e = env(t);
    const server = new WebSocketServer();
    e.defer(() => within(server.close(), 'close()'));
    assert.equal(server.listening, true);
    assert.ok(server.port > 0 && server.port < 65536);
    assert.equal(server.url, `ws://127.0.0.1:${server.port}`);
    // The next line of a script: connect to the URL just printed.
    const rec = await e.openOverte(server.url);
    assert.equal(rec.ws.url, `${server.url}/`);
    await within(server.ready, 'ready');

    const port = server.port;
    const changes: boolean[] = [];
    server.listeningChanged.connect((value) => changes.push(value));
    const closing = server.close();
    assert.equal(server.listening, false);
    assert.equal(server.url, '', 'no URL once closed, as Qt serverUrl()');
    assert.equal(server.port, 0, 'port 0 once closed, as Qt serverPort()');
    assert.equal(server.close(), closing, 'close() twice gives the same promise');
    await within(closing, 'close()');
    assert.deepEqual(changes, [false]);
    const refused = new Recorder(e.overte(`ws://127.0.0.1:${port}`));
    assert.equal(await refused.next('error'), SocketError.ConnectionRefusedError);
  });

  it("new WebSocketServer(port) and Overte's new WebSocketServer({ port, serverName }) listen on that port at once", async (t) => {
    const e = env(t);
    const port = await closedPort();
    const server = new WebSocketServer(port);
    e.defer(() => server.close());
    assert.equal(server.port, port);
    assert.equal(server.url, `ws://127.0.0.1:${port}`);
    assert.equal(server.serverName, 'HighFidelity - Scripted WebSocket Listener');
    await e.openOverte(`ws://127.0.0.1:${port}`);
    await within(server.close(), 'close()');

    const port2 = await closedPort();
    const named = new WebSocketServer({ port: port2, serverName: 'My Server' });
    e.defer(() => named.close());
    assert.equal(named.listening, true);
    assert.equal(named.port, port2);
    assert.equal(named.serverName, 'My Server');
    await e.openOverte(named.url);

    const any = new WebSocketServer({ serverName: 'any port' });
    e.defer(() => any.close());
    assert.ok(any.port > 0);
    await e.openOverte(any.url);
  });

  it('sends serverName as the Server header of the 101 and of the 426 to plain HTTP, as Qt does', async (t) => {
    const e = env(t);
    const server = new WebSocketServer({ host: '127.0.0.1', serverName: 'My Server' });
    e.defer(() => server.close());
    await within(server.ready, 'ready');
    const upgrade = await upgradeResponse(server.url);
    assert.equal(upgrade.status, 101);
    assert.equal(upgrade.headers.server, 'My Server');
    const plain = await upgradeResponse(server.url, { upgrade: false });
    assert.equal(plain.status, 426);
    assert.equal(plain.headers.server, 'My Server');

    const unnamed = new WebSocketServer({ host: '127.0.0.1' });
    e.defer(() => unnamed.close());
    await within(unnamed.ready, 'ready');
    const fallback = await upgradeResponse(unnamed.url);
    assert.equal(fallback.headers.server, 'HighFidelity - Scripted WebSocket Listener');

    assert.throws(
      () => new WebSocketServer({ port: 0, serverName: 'a\r\nX-Injected: 1' }),
      /invalid value for header "Server"/,
    );
  });

  it('a wskit host binds that address; port and url are right once ready resolves', async (t) => {
    const e = env(t);
    const server = new WebSocketServer({ host: '127.0.0.1' });
    e.defer(() => server.close());
    await within(server.ready, 'ready');
    assert.equal(server.listening, true);
    assert.equal(server.url, `ws://127.0.0.1:${server.port}`);
    await e.openOverte(server.url);
  });

  it('a taken port is reported as Overte reports it: not listening, port 0, url "" at once, nothing thrown later', async (t) => {
    const e = env(t);
    const first = new WebSocketServer();
    e.defer(() => first.close());
    const second = new WebSocketServer(first.port);
    e.defer(() => second.close());
    assert.equal(second.listening, false);
    assert.equal(second.port, 0);
    assert.equal(second.url, '');
    const error = await within(
      second.ready.then(
        () => assert.fail('the second server should not listen'),
        (reason: unknown) => reason,
      ),
      'ready to reject',
    );
    assert.equal((error as { code?: string }).code, 'ERR_WS_ADDRESS_IN_USE');
    assert.equal(socketErrorOf(error), SocketError.AddressInUseError);
    // A later tick passes without an uncaught error (the test runner would report one).
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
    assert.equal(second.listening, false);
    await within(second.close(), 'close() of a server that never listened');
  });

  it('close() right after construction settles and stops listening', async () => {
    const server = new WebSocketServer({ host: '127.0.0.1' });
    const changes: boolean[] = [];
    server.listeningChanged.connect((value) => changes.push(value));
    await within(server.close(), 'close()');
    assert.equal(server.listening, false);
    assert.deepEqual(changes, []);
  });

  it('rejects ports outside 0-65535 and unknown options, naming the right one', () => {
    assert.throws(() => new WebSocketServer(70_000), RangeError);
    assert.throws(() => new WebSocketServer(-1), RangeError);
    assert.throws(() => new WebSocketServer({ port: 1.5 }), RangeError);
    assert.throws(
      () => new WebSocketServer({ hostname: '127.0.0.1' } as never),
      (error: Error) =>
        error instanceof TypeError && /"hostname".*did you mean "host"/.test(error.message),
    );
    assert.throws(
      () => new WebSocketServer({ servername: 'x' } as never),
      (error: Error) =>
        error instanceof TypeError && /"servername".*did you mean "serverName"/.test(error.message),
    );
  });

  it('newConnection.connect(fn) gets an open Overte WebSocket for each connection', async (t) => {
    const e = env(t);
    const server = await e.overteServer();
    const accepted: WebSocket[] = [];
    const received: MessageData[] = [];
    server.newConnection.connect((webSocket) => {
      accepted.push(webSocket);
      webSocket.onmessage = (message) => {
        received.push(message);
        webSocket.send({ got: message.data });
      };
    });
    const rec = await e.openOverte(server.url);
    rec.ws.send('hello server');
    assert.deepEqual(await rec.next('message'), { data: '{"got":"hello server"}' });
    assert.equal(accepted.length, 1);
    const [socket] = accepted;
    assert.ok(socket instanceof WebSocket);
    assert.equal(socket!.readyState, ReadyState.OPEN);
    assert.equal(socket!.url, `${server.url}/`);
    assert.equal(socket!.binaryType, 'arraybuffer');
    assert.deepEqual(received, [{ data: 'hello server' }]);
    rec.ws.send(new Uint8Array([3, 1, 4]));
    await rec.next('message');
    const binary = (received as MessageData[])[1]!.data;
    assert.ok(binary instanceof ArrayBuffer);
    assert.deepEqual(await bytesOf(binary), [3, 1, 4]);
  });

  it('close() closes every connection with 1001 and the server', async (t) => {
    const e = env(t);
    const server = await e.overteServer();
    const serverSide: CloseData[] = [];
    server.newConnection.connect((webSocket) => {
      webSocket.onclose = (data) => serverSide.push(data);
    });
    const a = await e.openOverte(server.url);
    const b = await e.openOverte(server.url);
    await within(server.close(), 'close()');
    for (const rec of [a, b]) {
      const closed = await rec.next('close');
      assert.equal(closed.code, CloseCode.GoingAway);
      assert.equal(closed.wasClean, true);
      assert.equal(rec.ws.readyState, ReadyState.CLOSED);
    }
    assert.equal(serverSide.length, 2);
    assert.ok(serverSide.every((data) => data.code === CloseCode.GoingAway));
    assert.equal(server.listening, false);
  });
});

// -- the seed's example, and an Overte echo server -----------------------------------------------

describe('Overte examples', { timeout: 30_000 }, () => {
  it("the seed's echo example, in TypeScript, against a local echo server", async (t) => {
    const e = env(t);
    const echo = await e.loggedServer({}, true);
    const lines: string[] = [];
    const print = (...args: unknown[]) => lines.push(args.join(' '));
    let done!: () => void;
    const finished = new Promise<void>((r) => {
      done = r;
    });

    // --- the example (WEBSOCKET_PING_URL is the local echo server instead of websocket.org) ---
    print('Create WebSocket');
    const WEBSOCKET_PING_URL = echo.url;
    const webSocket = new WebSocket(WEBSOCKET_PING_URL);

    webSocket.onclose = (_data: CloseData) => {
      print('WebSocket closed');
      print('Ready state =', webSocket.readyState); // 3
      done();
    };

    webSocket.onmessage = (data: MessageData) => {
      print('Message received:', data.data);

      print('Close WebSocket');
      webSocket.close();
    };

    webSocket.onopen = () => {
      print('WebSocket opened');
      print('Ready state =', webSocket.readyState); // 1

      print('Send a test message');
      webSocket.send('Test message');
    };
    // --- end of the example ---

    e.defer(() => webSocket.readyState === ReadyState.OPEN && webSocket.close());
    await within(finished, 'the example to finish');
    assert.deepEqual(lines, [
      'Create WebSocket',
      'WebSocket opened',
      'Ready state = 1',
      'Send a test message',
      'Message received: Test message',
      'Close WebSocket',
      'WebSocket closed',
      'Ready state = 3',
    ]);
  });

  it('an Overte-style echo server script, used by an Overte client', async (t) => {
    const e = env(t);
    const log: string[] = [];
    let serverSideClosed!: () => void;
    const serverSideClose = new Promise<void>((r) => {
      serverSideClosed = r;
    });

    // --- server script ---
    const server = new WebSocketServer({ host: '127.0.0.1' });
    server.newConnection.connect((webSocket) => {
      log.push('new connection');
      webSocket.onmessage = (message) => webSocket.send(message.data);
      webSocket.onclose = (data) => {
        log.push(`closed ${data.code}`);
        serverSideClosed();
      };
    });
    // --- end of the server script ---
    e.defer(() => within(server.close(), 'the echo server to close'));
    await within(server.ready, 'the echo server to listen');

    const client = await e.openOverte(server.url);
    client.ws.send('Test message');
    assert.deepEqual(await client.next('message'), { data: 'Test message' });
    client.ws.send({ avatar: 'Ada', position: [1, 2, 3] });
    const json = await client.next('message');
    assert.deepEqual(JSON.parse(json.data as string), { avatar: 'Ada', position: [1, 2, 3] });
    client.ws.binaryType = 'arraybuffer';
    client.ws.send(new Uint8Array([42, 0, 255]));
    assert.deepEqual(await bytesOf((await client.next('message')).data), [42, 0, 255]);
    client.ws.close();
    assert.deepEqual(await client.next('close'), { code: 1000, reason: '', wasClean: true });
    await within(serverSideClose, 'the server-side onclose');
    assert.deepEqual(log, ['new connection', 'closed 1000']);
  });
});
