/**
 * The InCore dialect (`wskit/incore`) against its contract: every member the InCore WebSocket
 * page lists (shared/seeds/000 and 001), including what it inherits from IoDevice and Object.
 * Every test talks to local servers on 127.0.0.1 (port 0, always closed) and waits for signals
 * with a deadline; only "nothing happens" checks wait a fixed, short time.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { before, describe, it, type TestContext } from 'node:test';
import {
  INCORE_SIGNALS,
  Error as InCoreError,
  type InCoreInit,
  type InCoreProperties,
  Signal,
  State,
  WebSocket,
} from '../../../src/incore.js';
import {
  type BinaryType,
  WebSocketServer,
  type WebSocketServerOptions,
  type WebSocket as WskitSocket,
} from '../../../src/index.js';
import { closedPort } from '../../support/ports.js';
import { QUIET_MS, WAIT_MS } from '../../support/timeouts.js';
import { selfSignedCertificate } from '../../support/tls.js';

const decoder = new TextDecoder();
const encoder = new TextEncoder();

function textOf(data: ArrayBuffer | Uint8Array): string {
  return decoder.decode(data);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// -- waiting for signals -------------------------------------------------------------------------

/** Resolves with the arguments of the next emission of `signal` that satisfies `accept`. */
function waitFor<A extends unknown[]>(
  signal: Signal<A>,
  what: string,
  accept: (...args: A) => boolean = () => true,
  ms = WAIT_MS,
): Promise<A> {
  return new Promise((resolve, reject) => {
    const handler = (...args: A) => {
      if (!accept(...args)) return;
      clearTimeout(timer);
      signal.disconnect(handler);
      resolve(args);
    };
    const timer = setTimeout(() => {
      signal.disconnect(handler);
      reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
    }, ms);
    signal.connect(handler);
  });
}

/** Resolves once `ws.state` is `state` (at once when it already is). */
function waitState(ws: WebSocket, state: State, ms = WAIT_MS): Promise<void> {
  if (ws.state === state) return Promise.resolve();
  return waitFor(ws.stateChanged, `state ${state}`, () => ws.state === state, ms).then(() => {});
}

/** Records every emission of a signal. */
function record<A extends unknown[]>(signal: Signal<A>): A[] {
  const calls: A[] = [];
  signal.connect((...args: A) => {
    calls.push(args);
  });
  return calls;
}

/** Resolves after objects created so far have completed (they complete after the current task). */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

// -- objects and servers that are always cleaned up ----------------------------------------------

/** Creates an InCore WebSocket that is closed (and stops reconnecting) when the test ends. */
function create(t: TestContext, init: InCoreInit = {}): WebSocket {
  const ws = new WebSocket(init);
  t.after(() => shutdown(ws));
  return ws;
}

async function shutdown(ws: WebSocket): Promise<void> {
  ws.autoConnect = false;
  ws.autoOpen = false;
  ws.close();
  await waitState(ws, State.Closed, 2000).catch(() => {});
}

/** A queue of things that happen, read in order with a deadline. */
class Inbox<T> {
  readonly items: T[] = [];
  #read = 0;
  #waiters: Array<(item: T) => void> = [];

  push(item: T): void {
    this.items.push(item);
    const waiter = this.#waiters.shift();
    if (waiter) {
      this.#read++;
      waiter(item);
    }
  }

  next(what: string, ms = WAIT_MS): Promise<T> {
    if (this.#read < this.items.length) return Promise.resolve(this.items[this.#read++]!);
    return new Promise((resolve, reject) => {
      const waiter = (item: T) => {
        clearTimeout(timer);
        resolve(item);
      };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
      }, ms);
      this.#waiters.push(waiter);
    });
  }
}

interface TestServer {
  wss: WebSocketServer<BinaryType>;
  port: number;
  url: string;
  /** Server-side sockets, in order of connection. */
  connections: Inbox<WskitSocket>;
  /** Upgrade requests, in order. */
  requests: IncomingMessage[];
  /** Messages received from clients: strings for text, Buffers for binary. */
  messages: Inbox<string | Buffer>;
  close(): Promise<void>;
}

/** Starts a wskit server on 127.0.0.1 (port 0 unless given), echoing every message by default. */
async function startServer(
  options: Partial<WebSocketServerOptions> = {},
  { echo = true }: { echo?: boolean } = {},
): Promise<TestServer> {
  const wss = new WebSocketServer({
    port: 0,
    host: '127.0.0.1',
    closeTimeout: 1000,
    ...options,
  } as WebSocketServerOptions);
  const connections = new Inbox<WskitSocket>();
  const messages = new Inbox<string | Buffer>();
  const requests: IncomingMessage[] = [];
  wss.on('connection', (socket, request) => {
    requests.push(request);
    socket.onmessage = (event) => {
      const data = event.data as string | Buffer;
      messages.push(data);
      if (echo) socket.send(data);
    };
    connections.push(socket);
  });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  const { port } = wss.address() as AddressInfo;
  const scheme = options.tls ? 'wss' : 'ws';
  const host = options.tls ? 'localhost' : '127.0.0.1';
  return {
    wss,
    port,
    url: `${scheme}://${host}:${port}/`,
    connections,
    requests,
    messages,
    close: () =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 3000);
        wss.close(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}

/** A server closed when the test ends. */
async function serverFor(
  t: TestContext,
  options: Partial<WebSocketServerOptions> = {},
  flags: { echo?: boolean } = {},
): Promise<TestServer> {
  const server = await startServer(options, flags);
  t.after(() => server.close());
  return server;
}

/** Resolves when a server-side socket has closed. */
function socketClosed(socket: WskitSocket, ms = WAIT_MS): Promise<void> {
  if (socket.readyState === 3) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server-side socket did not close')), ms);
    socket.addEventListener('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

// ================================================================================================

describe('InCore enums', () => {
  it('Error is {NoError 0, IpSocketError 1, NotOpenError 2, SslError 3}', () => {
    assert.deepEqual(
      { ...InCoreError },
      { NoError: 0, IpSocketError: 1, NotOpenError: 2, SslError: 3 },
    );
  });

  it('State is {Connecting 0, Open 1, Closing 2, Closed 3}', () => {
    assert.deepEqual({ ...State }, { Connecting: 0, Open: 1, Closing: 2, Closed: 3 });
  });

  it('both enums are also static constants of WebSocket, as WebSocket.NoError in QML', () => {
    assert.equal(WebSocket.NoError, 0);
    assert.equal(WebSocket.IpSocketError, 1);
    assert.equal(WebSocket.NotOpenError, 2);
    assert.equal(WebSocket.SslError, 3);
    assert.equal(WebSocket.Connecting, 0);
    assert.equal(WebSocket.Open, 1);
    assert.equal(WebSocket.Closing, 2);
    assert.equal(WebSocket.Closed, 3);
  });
});

describe('InCore construction, autoConnect and reconnection', { timeout: 30_000 }, () => {
  it('runs the seed example: onConnected sends, onTextMessageReceived logs the echo', async (t) => {
    const server = await serverFor(t);
    const log: string[] = [];
    const ws = create(t, {
      url: server.url,
      onConnected: () => {
        log.push(`Connected to ${ws.url}`);
        ws.sendTextMessage('Hello world, this is a message from InCore!');
      },
      onTextMessageReceived: (message: string) => {
        log.push(`Received message: ${message}`);
      },
    });
    await waitFor(ws.textMessageReceived, 'the echo');
    assert.deepEqual(log, [
      `Connected to ${server.url}`,
      'Received message: Hello world, this is a message from InCore!',
    ]);
    assert.equal(
      await server.messages.next('the message'),
      'Hello world, this is a message from InCore!',
    );
  });

  it('stores the property bag and its handlers; handler properties read back', async (t) => {
    const onConnected = () => {};
    const onTextMessageReceived = (_message: string) => {};
    const parent = {};
    const ws = create(t, {
      url: 'ws://127.0.0.1:9/x',
      autoConnect: false,
      subProtocol: 'chat',
      objectId: 'socket1',
      parent,
      onConnected,
      onTextMessageReceived,
    });
    assert.equal(ws.url, 'ws://127.0.0.1:9/x');
    assert.equal(ws.autoConnect, false);
    assert.equal(ws.subProtocol, 'chat');
    assert.equal(ws.objectId, 'socket1');
    assert.equal(ws.parent, parent);
    assert.equal(ws.onConnected, onConnected);
    assert.equal(ws.onTextMessageReceived, onTextMessageReceived);
    assert.equal(ws.connected.connections, 1);
    assert.equal(ws.onDisconnected, null);
  });

  it('has the documented defaults', async (t) => {
    const ws = create(t);
    assert.equal(ws.url, '');
    assert.equal(ws.autoConnect, true);
    assert.equal(ws.subProtocol, '');
    assert.equal(ws.state, State.Closed);
    assert.equal(ws.error, InCoreError.NoError);
    assert.equal(ws.errorString, '');
    assert.equal(ws.objectId, '');
    assert.equal(ws.parent, null);
    assert.equal(ws.autoOpen, false);
    assert.equal(ws.append, false);
    assert.equal(ws.truncate, false);
    assert.equal(ws.readOnly, false);
    assert.equal(ws.unbuffered, false);
    assert.equal(ws.nameArgument, '');
    assert.equal(ws.deviceErrorString, '');
    assert.equal(ws.isOpen, false);
    assert.equal(ws.isWritable, false);
    assert.equal(ws.bytesAvailable, 0);
    assert.equal(ws.canReadLine, false);
    assert.equal(ws.atEnd, true);
    assert.equal(ws.pos, 0);
    assert.equal(ws.size, 0);
  });

  it('throws a TypeError for a handler that names no signal', () => {
    assert.throws(() => new WebSocket({ onFoo: () => {} }), TypeError);
    // A property is not a signal: its handler is onUrlChanged.
    assert.throws(() => new WebSocket({ onUrl: () => {} }), TypeError);
    assert.throws(() => new WebSocket({ onTextMessage: () => {} }), TypeError);
  });

  it('has an onX handler property for every signal', () => {
    const ws = new WebSocket({ autoConnect: false });
    for (const name of INCORE_SIGNALS) {
      const key = `on${name[0]!.toUpperCase()}${name.slice(1)}` as keyof WebSocket;
      assert.ok(ws[name] instanceof Signal, `${name} is a Signal`);
      assert.equal(ws[key], null, `${key} starts as null`);
    }
  });

  it('emits completed once, after construction, with the bag applied', async (t) => {
    const seen: Array<{ url: string; state: State }> = [];
    const ws = create(t, {
      url: 'ws://127.0.0.1:9/',
      autoConnect: false,
      onCompleted: () => seen.push({ url: ws.url, state: ws.state }),
    });
    const late = record(ws.completed);
    assert.deepEqual(seen, [], 'not during the constructor');
    await settle();
    await delay(20);
    assert.deepEqual(seen, [{ url: 'ws://127.0.0.1:9/', state: State.Closed }]);
    assert.equal(late.length, 1, 'a handler connected right after construction also runs, once');
  });

  it('autoConnect (default true) connects once the object is complete', async (t) => {
    const server = await serverFor(t);
    const ws = create(t, { url: server.url });
    assert.equal(ws.state, State.Closed, 'nothing happens inside the constructor');
    await waitFor(ws.connected, 'connected');
    assert.equal(ws.state, State.Open);
    await server.connections.next('the connection');
  });

  it('autoConnect false does not connect', async (t) => {
    const server = await serverFor(t);
    const ws = create(t, { url: server.url, autoConnect: false });
    const connected = record(ws.connected);
    await settle();
    assert.equal(ws.state, State.Closed);
    await delay(QUIET_MS);
    assert.equal(connected.length, 0);
    assert.equal(server.connections.items.length, 0);
  });

  it('setting autoConnect true later connects', async (t) => {
    const server = await serverFor(t);
    const ws = create(t, { url: server.url, autoConnect: false });
    await settle();
    const changed = record(ws.autoConnectChanged);
    ws.autoConnect = true;
    assert.equal(changed.length, 1);
    await waitFor(ws.connected, 'connected');
    await server.connections.next('the connection');
  });

  it('with autoConnect, setting the url of an idle object connects to it', {}, async (t) => {
    const server = await serverFor(t);
    const ws = create(t);
    await settle();
    ws.url = server.url;
    await waitFor(ws.connected, 'connected', undefined, 2000);
  });

  it('reconnects after a connection error once the server is up (reconnectDelay 50)', async (t) => {
    const port = await closedPort();
    const ws = create(t, { url: `ws://127.0.0.1:${port}/`, reconnectDelay: 50 });
    await waitFor(ws.errorOccurred, 'the connection error');
    assert.equal(ws.error, InCoreError.IpSocketError);
    const connected = waitFor(ws.connected, 'the reconnection');
    const server = await serverFor(t, { port });
    await connected;
    assert.equal(ws.state, State.Open);
    await server.connections.next('the connection');
    // The error property keeps the most recent error; it is not reset by connecting.
    assert.equal(ws.error, InCoreError.IpSocketError);
  });

  it('reconnects after the server drops an established connection', async (t) => {
    const server = await serverFor(t);
    const ws = create(t, { url: server.url, reconnectDelay: 50 });
    await waitFor(ws.connected, 'connected');
    const first = await server.connections.next('the first connection');
    const disconnected = waitFor(ws.disconnected, 'disconnected');
    const reconnected = waitFor(ws.connected, 'the reconnection');
    first.terminate();
    await disconnected;
    assert.equal(ws.error, InCoreError.IpSocketError);
    await reconnected;
    await server.connections.next('the second connection');
  });

  it('setting autoConnect false stops reconnection', async (t) => {
    const port = await closedPort();
    const ws = create(t, { url: `ws://127.0.0.1:${port}/`, reconnectDelay: 50 });
    await waitFor(ws.errorOccurred, 'the connection error');
    ws.autoConnect = false;
    const server = await serverFor(t, { port });
    const connected = record(ws.connected);
    await delay(QUIET_MS);
    assert.equal(connected.length, 0);
    assert.equal(server.connections.items.length, 0);
    assert.equal(ws.state, State.Closed);
  });
});

describe('InCore Qt-style signals', () => {
  it('connect(fn) calls fn on every emission, disconnect(fn) stops it', async (t) => {
    const ws = create(t, { autoConnect: false });
    const calls: string[] = [];
    const a = () => calls.push('a');
    const b = () => calls.push('b');
    ws.objectIdChanged.connect(a);
    ws.objectIdChanged.connect(b);
    ws.objectId = 'one';
    assert.deepEqual(calls, ['a', 'b']);
    assert.equal(ws.objectIdChanged.disconnect(a), true);
    assert.equal(ws.objectIdChanged.disconnect(a), false, 'already disconnected');
    ws.objectId = 'two';
    assert.deepEqual(calls, ['a', 'b', 'b']);
    ws.objectIdChanged.disconnect();
    ws.objectId = 'three';
    assert.deepEqual(calls, ['a', 'b', 'b']);
    assert.throws(() => ws.objectIdChanged.connect(42 as unknown as () => void), TypeError);
  });

  it('onX handler properties: assigning replaces, null removes, connect()ed handlers stay', async (t) => {
    const ws = create(t, { autoConnect: false });
    const calls: string[] = [];
    const kept = () => calls.push('kept');
    const first = () => calls.push('first');
    const second = () => calls.push('second');
    ws.objectIdChanged.connect(kept);
    ws.onObjectIdChanged = first;
    ws.objectId = 'one';
    ws.onObjectIdChanged = second;
    assert.equal(ws.onObjectIdChanged, second);
    ws.objectId = 'two';
    ws.onObjectIdChanged = null;
    assert.equal(ws.onObjectIdChanged, null);
    ws.objectId = 'three';
    assert.deepEqual(calls, ['kept', 'first', 'kept', 'second', 'kept']);
  });

  it('a handler from the property bag can be replaced through its property', async (t) => {
    const calls: string[] = [];
    const ws = create(t, { autoConnect: false, onObjectIdChanged: () => calls.push('bag') });
    ws.onObjectIdChanged = () => calls.push('new');
    ws.objectId = 'x';
    assert.deepEqual(calls, ['new']);
  });

  // Every writable property: the change signal fires once per real change.
  const writable = <K extends keyof InCoreProperties | 'parent'>(
    name: K,
    initial: WebSocket[K],
    value: WebSocket[K],
    other: WebSocket[K],
  ) => ({ name, initial, value, other });
  const parentA = { name: 'a' };
  const parentB = { name: 'b' };
  const cases = [
    writable('url', '', 'ws://127.0.0.1:9/a', 'ws://127.0.0.1:9/b'),
    writable('autoConnect', true, false, true),
    writable('subProtocol', '', 'chat', 'mqtt'),
    writable('objectId', '', 'one', 'two'),
    writable('parent', null, parentA, parentB),
    writable('autoOpen', false, true, false),
    writable('append', false, true, false),
    writable('truncate', false, true, false),
    writable('readOnly', false, true, false),
    writable('unbuffered', false, true, false),
    writable('nameArgument', '', 'one', 'two'),
  ];
  for (const c of cases) {
    it(`${c.name}Changed fires only on a real change`, async (t) => {
      // No url and no autoConnect (unless under test): nothing connects.
      const ws = create(t, c.name === 'autoConnect' ? {} : { autoConnect: false });
      await settle();
      const self = ws as unknown as Record<string, unknown>;
      const changes = record(ws[`${c.name}Changed`]);
      assert.equal(self[c.name], c.initial);
      self[c.name] = c.initial;
      assert.equal(changes.length, 0, 'setting the current value is no change');
      self[c.name] = c.value;
      self[c.name] = c.value;
      assert.equal(changes.length, 1);
      assert.equal(self[c.name], c.value);
      self[c.name] = c.other;
      assert.equal(changes.length, 2);
      assert.equal(self[c.name], c.other);
      const handled: number[] = [];
      self[`on${c.name[0]!.toUpperCase()}${c.name.slice(1)}Changed`] = () => handled.push(1);
      self[c.name] = c.value;
      assert.equal(handled.length, 1, 'the onXChanged handler runs too');
    });
  }
});

describe('InCore state', { timeout: 30_000 }, () => {
  it('goes Closed -> Connecting -> Open -> Closing -> Closed, one stateChanged each', async (t) => {
    const server = await serverFor(t);
    const ws = create(t, { url: server.url, autoConnect: false });
    const states: State[] = [];
    ws.stateChanged.connect(() => states.push(ws.state));
    assert.equal(ws.state, State.Closed);
    ws.connectToHost();
    assert.equal(ws.state, State.Connecting);
    await waitFor(ws.connected, 'connected');
    assert.equal(ws.state, State.Open);
    ws.disconnectFromHost();
    assert.equal(ws.state, State.Closing);
    await waitFor(ws.disconnected, 'disconnected');
    assert.equal(ws.state, State.Closed);
    assert.deepEqual(states, [State.Connecting, State.Open, State.Closing, State.Closed]);
    assert.deepEqual(states, [0, 1, 2, 3]);
  });

  it('is writable: State.Open connects, State.Closed disconnects', async (t) => {
    const server = await serverFor(t);
    const ws = create(t, { url: server.url, autoConnect: false });
    await settle();
    ws.state = State.Open;
    await waitFor(ws.connected, 'connected');
    const serverSide = await server.connections.next('the connection');
    ws.state = State.Closed;
    await waitFor(ws.disconnected, 'disconnected');
    assert.equal(ws.state, State.Closed);
    await socketClosed(serverSide);
  });
});

describe('InCore errors', { timeout: 30_000 }, () => {
  it('sendTextMessage/sendBinaryMessage when not open return -1 with NotOpenError', async (t) => {
    const ws = create(t, { autoConnect: false });
    const occurred = record(ws.errorOccurred);
    const errorChanged = record(ws.errorChanged);
    const stringChanged = record(ws.errorStringChanged);
    assert.equal(ws.sendTextMessage('hello'), -1);
    assert.equal(ws.error, InCoreError.NotOpenError);
    assert.equal(ws.error, 2);
    assert.notEqual(ws.errorString, '');
    assert.equal(occurred.length, 1);
    assert.equal(errorChanged.length, 1);
    assert.equal(stringChanged.length, 1);
    assert.equal(ws.sendBinaryMessage(new Uint8Array([1, 2]).buffer), -1);
    assert.equal(ws.error, InCoreError.NotOpenError);
  });

  it('the same error twice: errorChanged once, errorOccurred twice', async (t) => {
    const ws = create(t, { autoConnect: false });
    const occurred = record(ws.errorOccurred);
    const errorChanged = record(ws.errorChanged);
    const stringChanged = record(ws.errorStringChanged);
    ws.sendTextMessage('a');
    ws.sendTextMessage('b');
    assert.equal(occurred.length, 2);
    assert.equal(errorChanged.length, 1);
    assert.equal(stringChanged.length, 1);
  });

  it('connection refused: IpSocketError and ipSocketErrorOccurred(ConnectionRefusedError 0)', async (t) => {
    const port = await closedPort();
    const ws = create(t, { url: `ws://127.0.0.1:${port}/`, autoConnect: false });
    const socketErrors = record(ws.ipSocketErrorOccurred);
    const sslErrors = record(ws.sslErrorOccurred);
    const connected = record(ws.connected);
    const disconnected = record(ws.disconnected);
    const errorChanged = record(ws.errorChanged);
    ws.connectToHost();
    await waitFor(ws.errorOccurred, 'the error');
    assert.equal(ws.error, InCoreError.IpSocketError);
    assert.notEqual(ws.errorString, '');
    assert.deepEqual(socketErrors, [[0]]);
    assert.deepEqual(sslErrors, []);
    assert.equal(errorChanged.length, 1);
    assert.equal(connected.length, 0, 'never connected');
    // Issue 10 item 8: Connecting back to Unconnected emits disconnected(), as in Qt.
    assert.equal(disconnected.length, 1);
    assert.equal(ws.state, State.Closed);
  });

  it('repeated connection errors while reconnecting: errorOccurred each time, errorChanged once', async (t) => {
    const port = await closedPort();
    const ws = create(t, { url: `ws://127.0.0.1:${port}/`, reconnectDelay: 20 });
    const errorChanged = record(ws.errorChanged);
    const socketErrors = record(ws.ipSocketErrorOccurred);
    await waitFor(ws.errorOccurred, 'the first error');
    await waitFor(ws.errorOccurred, 'the second error');
    assert.equal(errorChanged.length, 1);
    assert.deepEqual(socketErrors.slice(0, 2), [[0], [0]]);
  });

  it('a handshake the server refuses is an IpSocketError', async (t) => {
    const server = await serverFor(t, { authenticate: () => false });
    const ws = create(t, { url: server.url, autoConnect: false });
    const socketErrors = record(ws.ipSocketErrorOccurred);
    ws.connectToHost();
    await waitFor(ws.errorOccurred, 'the error');
    assert.equal(ws.error, InCoreError.IpSocketError);
    assert.match(ws.errorString, /401/);
    assert.equal(socketErrors.length, 1);
    assert.equal(typeof socketErrors[0]![0], 'number');
  });

  it('an invalid url is an IpSocketError, reported when connecting', async (t) => {
    const ws = create(t, { url: 'ftp://127.0.0.1/', autoConnect: false });
    await settle();
    ws.connectToHost();
    assert.equal(ws.error, InCoreError.IpSocketError);
    assert.match(ws.errorString, /ftp:/);
    assert.equal(ws.state, State.Closed);
  });

  describe('TLS', () => {
    let cert: string;
    let key: string;

    before(() => {
      ({ cert, key } = selfSignedCertificate());
    });

    it('a self-signed certificate without its CA: SslError and sslErrorOccurred(text)', async (t) => {
      const server = await serverFor(t, { tls: { cert, key } });
      const ws = create(t, { url: server.url, autoConnect: false });
      const sslErrors = record(ws.sslErrorOccurred);
      const socketErrors = record(ws.ipSocketErrorOccurred);
      ws.connectToHost();
      await waitFor(ws.errorOccurred, 'the TLS error');
      assert.equal(ws.error, InCoreError.SslError);
      assert.equal(ws.error, 3);
      assert.equal(sslErrors.length, 1);
      const [text] = sslErrors[0]!;
      assert.equal(typeof text, 'string');
      assert.notEqual(text, '');
      assert.equal(ws.errorString, text);
      assert.deepEqual(socketErrors, [], 'a TLS error is not an IpSocket error');
      assert.equal(ws.state, State.Closed);
    });

    it('with socketOptions { tls: { ca } } it connects and exchanges messages', async (t) => {
      const server = await serverFor(t, { tls: { cert, key } });
      const ws = create(t, { url: server.url, socketOptions: { tls: { ca: cert } } });
      await waitFor(ws.connected, 'connected over TLS');
      assert.equal(ws.sendTextMessage('secure'), 6);
      const [echo] = await waitFor(ws.textMessageReceived, 'the echo');
      assert.equal(echo, 'secure');
      assert.equal(ws.error, InCoreError.NoError);
    });
  });
});

describe('InCore subProtocol', { timeout: 30_000 }, () => {
  it('is requested from the server', async (t) => {
    const offered: string[][] = [];
    const server = await serverFor(t, {
      handleProtocols: (protocols) => {
        offered.push([...protocols]);
        return protocols.has('chat.v1') ? 'chat.v1' : false;
      },
    });
    const ws = create(t, { url: server.url, subProtocol: 'chat.v1' });
    await waitFor(ws.connected, 'connected');
    assert.deepEqual(offered, [['chat.v1']]);
    assert.equal(server.requests[0]!.headers['sec-websocket-protocol'], 'chat.v1');
  });

  it('is not sent when empty, and a change applies from the next connection', async (t) => {
    const server = await serverFor(t);
    const ws = create(t, { url: server.url, autoConnect: false });
    ws.connectToHost();
    await waitFor(ws.connected, 'connected');
    assert.equal(server.requests[0]!.headers['sec-websocket-protocol'], undefined);
    ws.subProtocol = 'mqtt';
    ws.disconnectFromHost();
    await waitState(ws, State.Closed);
    ws.connectToHost();
    await waitFor(ws.connected, 'connected again');
    assert.equal(server.requests[1]!.headers['sec-websocket-protocol'], 'mqtt');
  });
});

describe('InCore messages', { timeout: 30_000 }, () => {
  it('sendTextMessage returns the UTF-8 byte count; the echo arrives in textMessageReceived', async (t) => {
    const server = await serverFor(t);
    const ws = create(t, { url: server.url });
    await waitFor(ws.connected, 'connected');
    const message = 'héllo € 😀';
    const received = waitFor(ws.textMessageReceived, 'the echo');
    assert.equal(ws.sendTextMessage(message), encoder.encode(message).length);
    assert.equal(ws.sendTextMessage(message), 15);
    assert.deepEqual(await received, [message]);
    assert.equal(await server.messages.next('the text'), message);
    assert.equal(ws.sendTextMessage(''), 0);
  });

  it('sendBinaryMessage returns the byte count; the echo arrives as an ArrayBuffer', async (t) => {
    const server = await serverFor(t);
    const ws = create(t, { url: server.url });
    await waitFor(ws.connected, 'connected');
    const bytes = new Uint8Array([0, 1, 2, 250, 255]);
    const received = waitFor(ws.binaryMessageReceived, 'the echo');
    assert.equal(ws.sendBinaryMessage(bytes.buffer), 5);
    const [message] = await received;
    assert.ok(message instanceof ArrayBuffer);
    assert.deepEqual([...new Uint8Array(message)], [0, 1, 2, 250, 255]);
    const onServer = await server.messages.next('the bytes');
    assert.ok(Buffer.isBuffer(onServer), 'sent as a binary message');
    assert.deepEqual([...onServer], [0, 1, 2, 250, 255]);
    // A view sends exactly its bytes.
    const view = new Uint8Array([9, 8, 7, 6, 5]).subarray(1, 4);
    assert.equal(ws.sendBinaryMessage(view), 3);
    assert.deepEqual([...((await server.messages.next('the view')) as Buffer)], [8, 7, 6]);
  });

  it('server text and binary messages reach the right signals', async (t) => {
    const server = await serverFor(t, {}, { echo: false });
    const ws = create(t, { url: server.url });
    const texts = record(ws.textMessageReceived);
    const binaries = record(ws.binaryMessageReceived);
    await waitFor(ws.connected, 'connected');
    const serverSide = await server.connections.next('the connection');
    serverSide.send('text');
    serverSide.send(Buffer.from('bin'));
    serverSide.send('end');
    await waitFor(ws.textMessageReceived, '"end"', (m) => m === 'end');
    assert.deepEqual(texts, [['text'], ['end']]);
    assert.equal(binaries.length, 1);
    assert.equal(textOf(binaries[0]![0]), 'bin');
  });
});

describe('InCore connection signals and methods', { timeout: 30_000 }, () => {
  it('connected, then disconnected after disconnectFromHost, with no error', async (t) => {
    const server = await serverFor(t);
    const ws = create(t, { url: server.url, autoConnect: false });
    const connected = record(ws.connected);
    const disconnected = record(ws.disconnected);
    ws.connectToHost();
    await waitFor(ws.connected, 'connected');
    const serverSide = await server.connections.next('the connection');
    ws.connectToHost();
    assert.equal(ws.state, State.Open, 'connectToHost while connected does nothing');
    ws.disconnectFromHost();
    await waitFor(ws.disconnected, 'disconnected');
    await socketClosed(serverSide);
    assert.equal(connected.length, 1);
    assert.equal(disconnected.length, 1);
    assert.equal(ws.error, InCoreError.NoError);
    assert.equal(server.connections.items.length, 1);
  });

  it('disconnected when the server closes the connection', async (t) => {
    const server = await serverFor(t);
    const ws = create(t, { url: server.url, autoConnect: false });
    ws.connectToHost();
    await waitFor(ws.connected, 'connected');
    const serverSide = await server.connections.next('the connection');
    serverSide.close(1000, 'bye');
    await waitFor(ws.disconnected, 'disconnected');
    assert.equal(ws.state, State.Closed);
    assert.equal(ws.error, InCoreError.NoError, 'a clean close is no error');
  });

  it('disconnectFromHost while connecting stops the connection and does not reconnect', {}, async (t) => {
    const server = await serverFor(t);
    const ws = create(t, { url: server.url, reconnectDelay: 20 });
    await settle();
    assert.equal(ws.state, State.Connecting);
    const errors = record(ws.errorOccurred);
    const connected = record(ws.connected);
    ws.disconnectFromHost();
    await waitState(ws, State.Closed);
    await delay(QUIET_MS);
    assert.equal(ws.state, State.Closed);
    assert.equal(connected.length, 0, 'no reconnection');
    assert.equal(errors.length, 0, 'a requested disconnect is no error');
  });

  it('changing url while connected reconnects to the new url', {}, async (t) => {
    const first = await serverFor(t);
    const second = await serverFor(t);
    const ws = create(t, { url: first.url });
    await waitFor(ws.connected, 'connected');
    const old = await first.connections.next('the first connection');
    ws.url = second.url;
    const reconnected = waitFor(ws.connected, 'connected to the new url', undefined, 2000);
    await second.connections.next('the connection to the new url', 2000);
    await reconnected;
    await socketClosed(old);
    assert.equal(ws.state, State.Open);
    ws.sendTextMessage('where');
    assert.equal(await second.messages.next('the message at the new url'), 'where');
  });
});

describe('InCore as an IoDevice', { timeout: 30_000 }, () => {
  it('open() connects; binary messages fill the read buffer; text messages do not', async (t) => {
    const server = await serverFor(t, {}, { echo: false });
    const ws = create(t, { url: server.url, autoConnect: false });
    await settle();
    const readyRead = record(ws.readyRead);
    const lines = record(ws.lineAvailableForRead);
    const binaries = record(ws.binaryMessageReceived);
    const isOpenChanged = record(ws.isOpenChanged);
    assert.equal(ws.open(), true);
    assert.equal(ws.isOpen, true);
    assert.equal(isOpenChanged.length, 1);
    assert.equal(ws.open(), true);
    assert.equal(isOpenChanged.length, 1, 'opening an open device changes nothing');
    await waitFor(ws.connected, 'connected');
    const serverSide = await server.connections.next('the connection');
    assert.equal(server.connections.items.length, 1, 'one connection for two open() calls');
    serverSide.send(Buffer.from('ab'));
    await waitFor(ws.readyRead, 'readyRead');
    assert.equal(lines.length, 0, 'no line yet');
    assert.equal(ws.bytesAvailable, 2);
    assert.equal(ws.canReadLine, false);
    serverSide.send('text is not device data');
    serverSide.send(Buffer.from('c\nde'));
    await waitFor(ws.lineAvailableForRead, 'lineAvailableForRead');
    assert.equal(readyRead.length, 2);
    assert.equal(binaries.length, 2, 'binaryMessageReceived is still emitted');
    assert.equal(ws.bytesAvailable, 6);
    assert.equal(ws.size, 6, 'size of a sequential device = bytesAvailable');
    assert.equal(ws.pos, 0, 'pos of a sequential device is always 0');
    assert.equal(ws.atEnd, false);
    assert.equal(ws.canReadLine, true);

    assert.equal(textOf(ws.peekAll()), 'abc\nde');
    assert.equal(ws.bytesAvailable, 6, 'peekAll does not consume');
    assert.equal(textOf(ws.readLine(2)), 'ab', 'readLine(max) stops at max');
    assert.equal(textOf(ws.readLine()), 'c\n');
    assert.equal(ws.canReadLine, false);
    assert.equal(textOf(ws.read(1)), 'd');
    assert.equal(ws.pos, 0);
    assert.equal(textOf(ws.read(100)), 'e', 'read(n) returns at most what is there');
    assert.equal(ws.atEnd, true);
    assert.equal(ws.bytesAvailable, 0);
    assert.equal(ws.size, 0);
    assert.equal(ws.readAll().byteLength, 0);
    assert.equal(lines.length, 1);

    serverSide.send(Buffer.from('xyz'));
    await waitFor(ws.readyRead, 'readyRead');
    assert.ok(ws.readAll() instanceof ArrayBuffer);
    serverSide.send(Buffer.from('no newline'));
    await waitFor(ws.readyRead, 'readyRead');
    assert.equal(textOf(ws.readLine()), 'no newline', 'readLine without a newline reads the rest');
  });

  it('the read-only IoDevice properties signal their changes', async (t) => {
    const server = await serverFor(t, {}, { echo: false });
    const ws = create(t, { url: server.url, autoConnect: false });
    ws.open();
    await waitFor(ws.connected, 'connected');
    const serverSide = await server.connections.next('the connection');
    const bytes = record(ws.bytesAvailableChanged);
    const size = record(ws.sizeChanged);
    const atEnd = record(ws.atEndChanged);
    const canReadLine = record(ws.canReadLineChanged);
    const pos = record(ws.posChanged);
    serverSide.send(Buffer.from('ab'));
    await waitFor(ws.readyRead, 'readyRead');
    assert.deepEqual([bytes.length, size.length, atEnd.length, canReadLine.length], [1, 1, 1, 0]);
    serverSide.send(Buffer.from('c\n'));
    await waitFor(ws.readyRead, 'readyRead');
    assert.deepEqual([bytes.length, size.length, atEnd.length, canReadLine.length], [2, 2, 1, 1]);
    ws.peekAll();
    assert.deepEqual([bytes.length, size.length, atEnd.length, canReadLine.length], [2, 2, 1, 1]);
    ws.read(1);
    assert.deepEqual([bytes.length, size.length, atEnd.length, canReadLine.length], [3, 3, 1, 1]);
    ws.readAll();
    assert.deepEqual([bytes.length, size.length, atEnd.length, canReadLine.length], [4, 4, 2, 2]);
    ws.readAll();
    assert.deepEqual([bytes.length, size.length, atEnd.length, canReadLine.length], [4, 4, 2, 2]);
    assert.equal(pos.length, 0, 'pos never changes');
  });

  it('write() sends a binary message and returns the byte count; the echo can be read', async (t) => {
    const server = await serverFor(t);
    const ws = create(t, { url: server.url, autoConnect: false });
    ws.open();
    await waitFor(ws.connected, 'connected');
    assert.equal(ws.isWritable, true);
    assert.equal(ws.write('hé\n'), 4, 'a string is written as UTF-8');
    const first = await server.messages.next('the write');
    assert.ok(Buffer.isBuffer(first), 'write() sends binary messages');
    assert.equal(first.toString(), 'hé\n');
    assert.equal(ws.write(new Uint8Array([1, 2, 3])), 3);
    assert.equal(ws.write(new Uint8Array([4, 5]).buffer), 2);
    await server.messages.next('the second write');
    await server.messages.next('the third write');
    await waitFor(ws.readyRead, 'the echoes', () => ws.bytesAvailable === 9);
    assert.equal(textOf(ws.readLine()), 'hé\n');
    assert.deepEqual([...new Uint8Array(ws.readAll())], [1, 2, 3, 4, 5]);
  });

  it('write() when not open returns -1 and sets deviceErrorString (changed once)', async (t) => {
    const ws = create(t, { autoConnect: false });
    const changed = record(ws.deviceErrorStringChanged);
    assert.equal(ws.isWritable, false);
    assert.equal(ws.write('x'), -1);
    assert.notEqual(ws.deviceErrorString, '');
    assert.equal(ws.write('y'), -1);
    assert.equal(changed.length, 1, 'the same device error does not change the property');
    assert.equal(ws.error, InCoreError.NoError, 'a device error is not a WebSocket error');
  });

  it('reading when not open returns nothing and sets deviceErrorString', async (t) => {
    const ws = create(t, { autoConnect: false });
    assert.equal(ws.read(10).byteLength, 0);
    assert.notEqual(ws.deviceErrorString, '');
    assert.equal(ws.readAll().byteLength, 0);
    assert.equal(ws.readLine().byteLength, 0);
    assert.equal(ws.peekAll().byteLength, 0);
  });

  it('readOnly: write() returns -1, isWritable false (isWritableChanged)', async (t) => {
    const server = await serverFor(t);
    const ws = create(t, { url: server.url, autoConnect: false });
    const writableChanged = record(ws.isWritableChanged);
    ws.open();
    await waitFor(ws.connected, 'connected');
    assert.equal(ws.isWritable, true);
    assert.equal(writableChanged.length, 1);
    ws.readOnly = true;
    assert.equal(ws.isWritable, false);
    assert.equal(writableChanged.length, 2);
    assert.equal(ws.write('x'), -1);
    assert.notEqual(ws.deviceErrorString, '');
    assert.equal(ws.flush(), false);
    assert.equal(ws.sync(), false);
    assert.equal(ws.sendTextMessage('messages still work'), 19, 'readOnly concerns the device');
  });

  it('flush() and sync(): true when open for writing and everything has been handed on', async (t) => {
    const server = await serverFor(t);
    const ws = create(t, { url: server.url, autoConnect: false });
    assert.equal(ws.flush(), false, 'not open');
    assert.equal(ws.sync(), false, 'not open');
    ws.open();
    await waitFor(ws.connected, 'connected');
    ws.write('data\n');
    assert.equal(ws.flush(), true);
    await waitFor(ws.readyRead, 'the echo');
    assert.equal(ws.sync(), true, 'the write has left the process: the echo came back');
    ws.close();
    assert.equal(ws.flush(), false);
    assert.equal(ws.sync(), false);
  });

  it('close() empties the buffer and disconnects', async (t) => {
    const server = await serverFor(t);
    const ws = create(t, { url: server.url, autoConnect: false });
    ws.open();
    await waitFor(ws.connected, 'connected');
    const serverSide = await server.connections.next('the connection');
    ws.write('kept\n');
    await waitFor(ws.readyRead, 'the echo');
    assert.equal(ws.bytesAvailable, 5);
    const isOpenChanged = record(ws.isOpenChanged);
    const bytesChanged = record(ws.bytesAvailableChanged);
    const disconnected = waitFor(ws.disconnected, 'disconnected');
    ws.close();
    assert.equal(ws.isOpen, false);
    assert.equal(ws.isWritable, false);
    assert.equal(ws.bytesAvailable, 0);
    assert.equal(ws.canReadLine, false);
    assert.equal(ws.atEnd, true);
    assert.equal(isOpenChanged.length, 1);
    assert.equal(bytesChanged.length, 1);
    await disconnected;
    await socketClosed(serverSide);
    assert.equal(ws.state, State.Closed);
    assert.equal(ws.read(1).byteLength, 0);
  });

  it('binary messages received before open() stay out of the buffer; open() keeps the connection', async (t) => {
    const server = await serverFor(t, {}, { echo: false });
    const ws = create(t, { url: server.url });
    await waitFor(ws.connected, 'connected');
    const serverSide = await server.connections.next('the connection');
    serverSide.send(Buffer.from('before'));
    await waitFor(ws.binaryMessageReceived, 'the message');
    assert.equal(ws.bytesAvailable, 0);
    ws.open();
    assert.equal(ws.state, State.Open);
    serverSide.send(Buffer.from('after'));
    await waitFor(ws.readyRead, 'readyRead');
    assert.equal(textOf(ws.readAll()), 'after');
    assert.equal(server.connections.items.length, 1);
  });

  it('autoOpen: true opens the device when the object completes', async (t) => {
    const server = await serverFor(t);
    const ws = create(t, { url: server.url, autoConnect: false, autoOpen: true });
    assert.equal(ws.isOpen, false, 'not during the constructor');
    await waitFor(ws.connected, 'connected');
    assert.equal(ws.isOpen, true);
    assert.equal(ws.write('auto\n'), 5);
    await waitFor(ws.lineAvailableForRead, 'the echoed line');
    assert.equal(textOf(ws.readLine()), 'auto\n');
  });

  it('append, truncate, unbuffered and nameArgument are kept and do not change socket I/O', async (t) => {
    const server = await serverFor(t);
    const ws = create(t, {
      url: server.url,
      autoConnect: false,
      append: true,
      truncate: true,
      unbuffered: true,
      nameArgument: 'device-name',
    });
    ws.open();
    await waitFor(ws.connected, 'connected');
    assert.equal(ws.write('one\n'), 4);
    await waitFor(ws.readyRead, 'the echo');
    assert.equal(ws.write('two\n'), 4);
    await waitFor(ws.readyRead, 'the echo', () => ws.bytesAvailable === 8);
    assert.equal(textOf(ws.readAll()), 'one\ntwo\n', 'truncate/append/unbuffered change nothing');
    assert.equal(ws.append, true);
    assert.equal(ws.truncate, true);
    assert.equal(ws.unbuffered, true);
    assert.equal(ws.nameArgument, 'device-name');
    assert.equal(ws.pos, 0);
  });
});

describe('InCore Object members', { timeout: 30_000 }, () => {
  const properties: Required<InCoreProperties> = {
    url: 'ws://127.0.0.1:9/path?q=1',
    autoConnect: false,
    subProtocol: 'chat',
    objectId: 'socket-1',
    autoOpen: false,
    append: true,
    truncate: true,
    readOnly: true,
    unbuffered: true,
    nameArgument: 'name',
  };

  it('serializeProperties() gives exactly the writable properties', async (t) => {
    const ws = create(t, properties);
    assert.deepEqual(ws.serializeProperties(), properties);
  });

  it('toJson() and fromJson() round-trip into a fresh object', async (t) => {
    const source = create(t, properties);
    const json = source.toJson();
    assert.deepEqual(JSON.parse(json), properties);
    const target = create(t, { autoConnect: false });
    await settle();
    const changed = record(target.objectIdChanged);
    target.fromJson(json);
    assert.deepEqual(target.serializeProperties(), properties);
    assert.equal(changed.length, 1, 'restoring emits change signals');
    assert.equal(target.state, State.Closed, 'autoConnect false: restoring does not connect');
  });

  it('serializeProperties() and deserializeProperties() round-trip into a fresh object', async (t) => {
    const source = create(t, properties);
    const target = create(t, { autoConnect: false });
    target.deserializeProperties(source.serializeProperties());
    assert.deepEqual(target.serializeProperties(), properties);
    target.deserializeProperties({ objectId: 'only-this' });
    assert.equal(target.objectId, 'only-this');
    assert.equal(target.subProtocol, 'chat', 'absent keys are left alone');
  });

  it('round-trips autoOpen: the restored object opens', async (t) => {
    const server = await serverFor(t);
    const source = create(t, { url: server.url, autoConnect: false, autoOpen: true });
    const json = source.toJson();
    assert.equal(JSON.parse(json).autoOpen, true);
    const target = create(t, { autoConnect: false });
    await settle();
    target.fromJson(json);
    assert.equal(target.autoOpen, true);
    assert.equal(target.isOpen, true);
    await waitFor(target.connected, 'connected');
  });

  it('fromJson() throws for invalid JSON and for JSON that is not an object', async (t) => {
    const ws = create(t, { autoConnect: false, objectId: 'kept' });
    assert.throws(() => ws.fromJson('{not json'), SyntaxError);
    assert.throws(() => ws.fromJson('42'), TypeError);
    assert.throws(() => ws.fromJson('null'), TypeError);
    assert.equal(ws.objectId, 'kept');
    ws.fromJson('{}');
    assert.equal(ws.objectId, 'kept');
  });

  it('objectId and parent are writable with change signals; parent is not serialized', async (t) => {
    const parent = { kind: 'Application' };
    const ws = create(t, { autoConnect: false, parent });
    assert.equal(ws.parent, parent);
    const parentChanged = record(ws.parentChanged);
    const idChanged = record(ws.objectIdChanged);
    ws.parent = null;
    ws.parent = null;
    ws.objectId = 'x';
    ws.objectId = 'x';
    assert.equal(parentChanged.length, 1);
    assert.equal(idChanged.length, 1);
    assert.equal('parent' in ws.serializeProperties(), false);
  });
});
