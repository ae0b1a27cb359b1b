/**
 * The 4D dialect (`wskit/4d`) in Node against a wskit echo server on 127.0.0.1: every member of
 * 4D's `WebSocket` class (shared/seeds/002) with the behaviour its documentation gives it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createServer, type Server, type Socket } from 'node:net';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  FourD,
  type FourDConnectionHandler,
  type FourDDataType,
  FourDErrorCode,
  type FourDErrorEvent,
  type FourDMessageEvent,
  type FourDTerminateEvent,
  type FourDWebSocketBase,
  WebSocket,
} from '../../../src/4d.js';
import { WebSocketServer, type WebSocket as WskitSocket } from '../../../src/index.js';
import { closedPort } from '../../support/ports.js';
import { WAIT_MS } from '../../support/timeouts.js';

const ROOT = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../../..');

type CallbackName = 'onOpen' | 'onMessage' | 'onError' | 'onTerminate';

interface Call {
  name: CallbackName;
  ws: FourDWebSocketBase;
  event: unknown;
  /** `this` of the call. */
  self: unknown;
  /** Whether `WebSocket.new()` had returned when the callback ran. */
  afterNew: boolean;
}

/**
 * A connectionHandler written as a 4D class would be (methods using `this`) that records every
 * call, checks that none is nested in another, and lets a test wait for the n-th call of a kind.
 */
class Recorder implements FourDConnectionHandler {
  readonly calls: Call[] = [];
  /** Deepest nesting of callbacks seen: 1 when none ran inside another. */
  maxDepth = 0;
  /** Set by the test right after `new()` returns. */
  returned = false;
  /** Code run inside a callback, after it is recorded. */
  readonly react: Partial<Record<CallbackName, (ws: FourDWebSocketBase, event: unknown) => void>> =
    {};
  dataType?: FourDDataType;
  #depth = 0;
  readonly #cursor: Record<CallbackName, number> = {
    onOpen: 0,
    onMessage: 0,
    onError: 0,
    onTerminate: 0,
  };
  #waiters: Array<() => void> = [];

  constructor(dataType?: FourDDataType) {
    if (dataType !== undefined) this.dataType = dataType;
  }

  onOpen(ws: FourDWebSocketBase, event: unknown): void {
    this.#record('onOpen', ws, event, this);
  }
  onMessage(ws: FourDWebSocketBase, event: unknown): void {
    this.#record('onMessage', ws, event, this);
  }
  onError(ws: FourDWebSocketBase, event: unknown): void {
    this.#record('onError', ws, event, this);
  }
  onTerminate(ws: FourDWebSocketBase, event: unknown): void {
    this.#record('onTerminate', ws, event, this);
  }

  /** Names of the calls so far, in order. */
  get names(): CallbackName[] {
    return this.calls.map((c) => c.name);
  }

  /** The next call of `name` not returned yet (waits for it, at most `ms`). */
  next(name: CallbackName, ms = WAIT_MS): Promise<Call> {
    const n = this.#cursor[name]++;
    return new Promise<Call>((done, fail) => {
      const check = (): boolean => {
        const found = this.calls.filter((c) => c.name === name)[n];
        if (!found) return false;
        clearTimeout(timer);
        done(found);
        return true;
      };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        fail(new Error(`no ${name} call #${n + 1} within ${ms} ms; calls: ${this.names}`));
      }, ms);
      const waiter = (): void => {
        if (check()) this.#waiters = this.#waiters.filter((w) => w !== waiter);
      };
      if (!check()) this.#waiters.push(waiter);
    });
  }

  async nextMessage(): Promise<unknown> {
    return ((await this.next('onMessage')).event as FourDMessageEvent).data;
  }

  #record(name: CallbackName, ws: FourDWebSocketBase, event: unknown, self: unknown): void {
    this.#depth++;
    this.maxDepth = Math.max(this.maxDepth, this.#depth);
    try {
      this.calls.push({ name, ws, event, self, afterNew: this.returned });
      this.react[name]?.(ws, event);
      for (const waiter of this.#waiters.slice()) waiter();
    } finally {
      this.#depth--;
    }
  }
}

/** Opens `WebSocket.new(url, recorder)` and marks when new() returned. */
function open(url: string, recorder: Recorder): WebSocket {
  const ws = WebSocket.new(url, recorder);
  recorder.returned = true;
  assert.ok(ws, `WebSocket.new(${url}) returned null`);
  return ws;
}

/** Opens a connection and waits for onOpen. */
async function connected(url: string, dataType?: FourDDataType): Promise<[WebSocket, Recorder]> {
  const recorder = new Recorder(dataType);
  const ws = open(url, recorder);
  await recorder.next('onOpen');
  return [ws, recorder];
}

/** Closes `ws` and waits for its onTerminate. */
async function finish(ws: FourDWebSocketBase, recorder: Recorder): Promise<void> {
  if (ws.status === 'Connected') ws.terminate();
  if (!recorder.names.includes('onTerminate')) await recorder.next('onTerminate');
}

interface EchoServer {
  url: string;
  /** A URL of the echo server no other connection uses, so its close can be told apart. */
  uniqueUrl(): string;
  /** Waits for the close code and reason the server received on the connection to `url`. */
  closeOf(url: string): Promise<{ code: number; reason: string }>;
  close(): Promise<void>;
}

/**
 * A wskit echo server. Text commands: "cmd:close[:code[:reason]]" closes, "cmd:garbage" sends
 * text that is not JSON, "cmd:burst" sends three messages at once, "cmd:utf8-binary" sends
 * UTF-8 text as a binary message, "cmd:drop" drops the TCP connection. Anything else is echoed.
 */
async function startEchoServer(): Promise<EchoServer> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((done) => wss.once('listening', done));
  const closes = new Map<string, { code: number; reason: string }>();
  const waiters = new Map<string, () => void>();
  let unique = 0;
  wss.on('connection', (socket: WskitSocket, request) => {
    const path = request.url ?? '';
    socket.addEventListener('close', (event) => {
      closes.set(path, { code: event.code, reason: event.reason });
      waiters.get(path)?.();
    });
    socket.onmessage = (event) => {
      const data = event.data as string | Buffer;
      if (typeof data !== 'string' || !data.startsWith('cmd:')) {
        socket.send(data);
        return;
      }
      const [, command, code, reason] = data.split(':');
      if (command === 'close') {
        if (code === undefined) socket.close();
        else socket.close(Number(code), reason);
      } else if (command === 'garbage') {
        socket.send('{not json');
      } else if (command === 'burst') {
        socket.send('"one"');
        socket.send('"two"');
        socket.send('"three"');
      } else if (command === 'utf8-binary') {
        socket.send(Buffer.from('h\u00e9llo \u2713'));
      } else if (command === 'drop') {
        socket.terminate();
      }
    };
  });
  const { port } = wss.address() as AddressInfo;
  const url = `ws://127.0.0.1:${port}/echo`;
  return {
    url,
    uniqueUrl: () => `${url}?connection=${++unique}`,
    closeOf(target) {
      const { pathname, search } = new URL(target);
      const path = pathname + search;
      return new Promise((done, fail) => {
        const timer = setTimeout(
          () => fail(new Error(`the server saw no close on ${path}`)),
          WAIT_MS,
        );
        const check = (): void => {
          const found = closes.get(path);
          if (!found) return;
          clearTimeout(timer);
          waiters.delete(path);
          done(found);
        };
        waiters.set(path, check);
        check();
      });
    },
    close: () => new Promise<void>((done) => wss.close(() => done())),
  };
}

/** A raw TCP server that accepts the WebSocket handshake, then writes `bytes`. */
async function rawServer(bytes: Buffer): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let head = '';
    socket.on('data', (chunk) => {
      if (head.endsWith('\r\n\r\n')) return;
      head += chunk.toString('latin1');
      if (!head.endsWith('\r\n\r\n')) return;
      const key = /sec-websocket-key:\s*(\S+)/i.exec(head)?.[1] ?? '';
      const accept = createHash('sha1')
        .update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
        .digest('base64');
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
      );
      socket.write(bytes);
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((done) => {
        for (const s of sockets) s.destroy();
        server.close(() => done());
      }),
  };
}

function errorsOf(call: Call): FourDErrorEvent['errors'] {
  const event = call.event as FourDErrorEvent;
  assert.equal(event.type, 'error');
  return event.errors;
}

describe('4D WebSocket dialect (wskit/4d, Node)', { timeout: 60_000 }, () => {
  let server: EchoServer;

  before(async () => {
    server = await startEchoServer();
  });

  after(async () => {
    await server?.close();
  });

  describe('4D.WebSocket.new()', () => {
    it('returns a WebSocket object that is Connecting, then calls onOpen with { type: "open" }', async () => {
      const recorder = new Recorder();
      const ws = WebSocket.new(server.url, recorder);
      recorder.returned = true;
      assert.ok(ws instanceof WebSocket);
      assert.equal(ws.status, 'Connecting');
      assert.deepEqual(recorder.calls, []);
      const call = await recorder.next('onOpen');
      assert.deepEqual(call.event, { type: 'open' });
      assert.ok(Object.isFrozen(call.event));
      assert.equal(call.ws, ws);
      assert.equal(call.self, recorder, 'callbacks are called with the handler as this');
      assert.equal(call.afterNew, true);
      assert.equal(ws.status, 'Connected');
      await finish(ws, recorder);
    });

    it('is also reachable as FourD.WebSocket.new(), and works without a handler', async () => {
      assert.equal(FourD.WebSocket, WebSocket);
      const url = server.uniqueUrl();
      const ws = FourD.WebSocket.new(url);
      assert.ok(ws);
      assert.deepEqual(ws.handler, {});
      assert.equal(ws.dataType, 'text');
      await new Promise<void>((done, fail) => {
        const deadline = Date.now() + WAIT_MS;
        const poll = (): void => {
          if (ws.status === 'Connected') done();
          else if (Date.now() > deadline) fail(new Error(`still ${ws.status}`));
          else setTimeout(poll, 5);
        };
        poll();
      });
      ws.terminate(3001, 'no handler');
      assert.deepEqual(await server.closeOf(url), { code: 3001, reason: 'no handler' });
    });

    it('returns null when the URL cannot be connected to at all, and calls nothing', async () => {
      const recorder = new Recorder();
      for (const url of ['not a url', 'ftp://x', 'ws://127.0.0.1:1/#fragment', '']) {
        assert.equal(WebSocket.new(url, recorder), null, url);
      }
      await new Promise((done) => setTimeout(done, 20));
      assert.deepEqual(recorder.calls, []);
    });

    it('throws a TypeError for a handler that is not an object or an unknown dataType', () => {
      assert.throws(
        () => WebSocket.new(server.url, 'handler' as unknown as FourDConnectionHandler),
        TypeError,
      );
      assert.throws(
        () => WebSocket.new(server.url, { dataType: 'json' as FourDDataType }),
        /dataType must be "text", "blob" or "object"/,
      );
    });

    it('cannot be bypassed with new WebSocket()', () => {
      const Ctor = WebSocket as unknown as new (url: string) => unknown;
      assert.throws(() => new Ctor(server.url), /WebSocket\.new/);
    });
  });

  describe('connectionHandler callbacks', () => {
    it('onMessage gets { type: "message", data } and the WebSocket object', async () => {
      const [ws, recorder] = await connected(server.url);
      ws.send('hello');
      const call = await recorder.next('onMessage');
      assert.deepEqual(call.event, { type: 'message', data: 'hello' });
      assert.ok(Object.isFrozen(call.event));
      assert.equal(call.ws, ws);
      await finish(ws, recorder);
    });

    it('onTerminate gets exactly { code, reason, wasClean }, read-only', async () => {
      const [ws, recorder] = await connected(server.url);
      ws.send('cmd:close:4001:server says bye');
      const call = await recorder.next('onTerminate');
      assert.deepEqual(call.event, { code: 4001, reason: 'server says bye', wasClean: true });
      const event = call.event as FourDTerminateEvent;
      assert.ok(Object.isFrozen(event));
      assert.throws(() => {
        (event as { code: number }).code = 1;
      }, TypeError);
      assert.equal(ws.status, 'Closed');
      assert.deepEqual(recorder.names, ['onOpen', 'onTerminate']);
    });

    it('onTerminate gets 1005 when the server closes without a code', async () => {
      const [ws, recorder] = await connected(server.url);
      ws.send('cmd:close');
      const call = await recorder.next('onTerminate');
      assert.deepEqual(call.event, { code: 1005, reason: '', wasClean: true });
      assert.equal(ws.status, 'Closed');
    });

    it('onTerminate gets 1006, wasClean false, when the server drops the connection', async () => {
      const [ws, recorder] = await connected(server.url);
      ws.send('cmd:drop');
      const call = await recorder.next('onTerminate');
      assert.deepEqual(call.event, { code: 1006, reason: '', wasClean: false });
    });

    it('connection refused: onError with an errors entry, then onTerminate 1006 not clean', async () => {
      const port = await closedPort();
      const recorder = new Recorder();
      const ws = open(`ws://127.0.0.1:${port}/`, recorder);
      const error = await recorder.next('onError');
      const terminate = await recorder.next('onTerminate');
      assert.deepEqual(recorder.names, ['onError', 'onTerminate']);
      const errors = errorsOf(error);
      assert.equal(errors.length, 1);
      assert.match(errors[0]!.message, /ERR_WS_CONNECTION_REFUSED/);
      assert.match(errors[0]!.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
      assert.deepEqual(error.event, {
        type: 'error',
        errors: [
          {
            errCode: FourDErrorCode.CONNECTION_FAILED,
            message: errors[0]!.message,
            componentSignature: 'wskit',
          },
        ],
      });
      assert.ok(Object.isFrozen(error.event));
      assert.ok(Object.isFrozen(errors));
      assert.ok(Object.isFrozen(errors[0]));
      assert.deepEqual(terminate.event, { code: 1006, reason: '', wasClean: false });
      assert.equal(ws.status, 'Closed');
    });

    it('a protocol violation by the server: onError errCode 4 with the wskit code, then onTerminate', async () => {
      // A frame with the reserved opcode 3.
      const raw = await rawServer(Buffer.from([0x83, 0x00]));
      try {
        const recorder = new Recorder();
        open(raw.url, recorder);
        await recorder.next('onOpen');
        const error = await recorder.next('onError');
        const terminate = await recorder.next('onTerminate');
        const [entry] = errorsOf(error);
        assert.equal(entry!.errCode, FourDErrorCode.CONNECTION_ERROR);
        assert.equal(entry!.componentSignature, 'wskit');
        assert.match(entry!.message, /\(ERR_WS_PROTOCOL\)$/);
        const { code, wasClean } = terminate.event as FourDTerminateEvent;
        assert.equal(wasClean, false);
        assert.equal(code, 1006);
        assert.deepEqual(recorder.names, ['onOpen', 'onError', 'onTerminate']);
      } finally {
        await raw.close();
      }
    });

    it('no callback runs before new() returns, even for errors raised synchronously', async () => {
      const recorder = new Recorder();
      const ws = open(server.url, recorder);
      ws.send('too early');
      assert.equal(
        recorder.calls.length,
        0,
        'send() while connecting must not call onError inline',
      );
      const error = await recorder.next('onError');
      assert.equal(error.afterNew, true);
      assert.equal(errorsOf(error)[0]!.errCode, FourDErrorCode.NOT_OPEN);
      assert.match(errorsOf(error)[0]!.message, /Connecting/);
      await recorder.next('onOpen');
      assert.deepEqual(recorder.names, ['onError', 'onOpen']);
      assert.ok(recorder.calls.every((c) => c.afterNew));
      await finish(ws, recorder);
    });

    it('callbacks are never re-entrant: send() and errors inside onMessage queue after it', async () => {
      const [ws, recorder] = await connected(server.url);
      const circular: Record<string, unknown> = {};
      circular.self = circular;
      let rounds = 0;
      recorder.react.onMessage = (socket) => {
        rounds++;
        const before = recorder.calls.length;
        if (rounds < 5) socket.send(`round ${rounds + 1}`);
        // An error raised inside the callback is delivered after it returns, not nested in it.
        socket.send(circular);
        assert.equal(recorder.calls.length, before);
      };
      ws.send('round 1');
      for (let i = 1; i <= 5; i++) {
        assert.equal(await recorder.nextMessage(), `round ${i}`);
        const error = await recorder.next('onError');
        assert.equal(errorsOf(error)[0]!.errCode, FourDErrorCode.SEND_FAILED);
      }
      assert.equal(recorder.maxDepth, 1);
      assert.deepEqual(
        recorder.names.slice(1, 11),
        Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? 'onMessage' : 'onError')),
      );
      await finish(ws, recorder);
    });

    it('delivers messages that arrive together one at a time, in order', async () => {
      const [ws, recorder] = await connected(server.url, 'object');
      ws.send('cmd:burst');
      assert.equal(await recorder.nextMessage(), 'one');
      assert.equal(await recorder.nextMessage(), 'two');
      assert.equal(await recorder.nextMessage(), 'three');
      assert.equal(recorder.maxDepth, 1);
      await finish(ws, recorder);
    });

    it('a callback that throws is reported as a process warning and does not stop the next callbacks', async () => {
      // In a child process, to see every report and prove nothing reaches uncaughtException.
      const script = `
        const { WebSocketServer } = await import(${JSON.stringify(`${ROOT}/src/index.ts`)});
        const { WebSocket } = await import(${JSON.stringify(`${ROOT}/src/4d.ts`)});
        const reported = [];
        const uncaught = [];
        process.on('uncaughtException', (e) => uncaught.push(e.message));
        process.on('warning', (w) => { if (w.code === 'WSKIT_CALLBACK_THREW') reported.push(w.cause.message); });
        const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
        await new Promise((r) => wss.once('listening', r));
        wss.on('connection', (s) => { s.onmessage = (e) => s.send(e.data); });
        const got = [];
        await new Promise((resolve) => {
          WebSocket.new('ws://127.0.0.1:' + wss.address().port + '/', {
            onOpen(ws) { ws.send('a'); ws.send('b'); throw new Error('boom in onOpen'); },
            onMessage(ws, e) {
              got.push(e.data);
              if (e.data === 'a') throw new Error('boom in onMessage');
              ws.terminate();
            },
            onTerminate(ws, e) { got.push(e.code); resolve(); },
          });
        });
        await new Promise((r) => wss.close(r));
        await new Promise((r) => setImmediate(r));
        console.log(JSON.stringify({ got, reported, uncaught }));
      `;
      const output = await new Promise<string>((done, fail) => {
        execFile(
          process.execPath,
          ['--import', 'tsx', '--input-type=module', '-e', script],
          { cwd: ROOT, timeout: 20_000 },
          (error, stdout, stderr) =>
            error ? fail(new Error(`${error.message}\n${stderr}`)) : done(stdout),
        );
      });
      assert.deepEqual(JSON.parse(output), {
        got: ['a', 'b', 1000],
        reported: ['boom in onOpen', 'boom in onMessage'],
        uncaught: [],
      });
    });
  });

  describe('.dataType', () => {
    it('"text" (default): text as strings, binary messages decoded as UTF-8', async () => {
      const [ws, recorder] = await connected(server.url);
      assert.equal(ws.dataType, 'text');
      ws.send('caf\u00e9 \u{1f600}');
      assert.equal(await recorder.nextMessage(), 'caf\u00e9 \u{1f600}');
      ws.send(new TextEncoder().encode('bytes \u00e9'));
      assert.equal(await recorder.nextMessage(), 'bytes \u00e9');
      ws.send('cmd:utf8-binary');
      assert.equal(await recorder.nextMessage(), 'h\u00e9llo \u2713');
      await finish(ws, recorder);
    });

    it('"blob": messages as Blob, Blob sent as binary, text received as its UTF-8 bytes', async () => {
      const [ws, recorder] = await connected(server.url, 'blob');
      assert.equal(ws.dataType, 'blob');
      const bytes = new Uint8Array([0, 1, 2, 250, 255]);
      ws.send(new Blob([bytes]));
      const blob = await recorder.nextMessage();
      assert.ok(blob instanceof Blob);
      assert.deepEqual(new Uint8Array(await blob.arrayBuffer()), bytes);
      ws.send('t\u00e9xt');
      const text = await recorder.nextMessage();
      assert.ok(text instanceof Blob);
      assert.equal(text.size, 5);
      assert.equal(await text.text(), 't\u00e9xt');
      ws.send(bytes.buffer);
      const fromBuffer = (await recorder.nextMessage()) as Blob;
      assert.deepEqual(new Uint8Array(await fromBuffer.arrayBuffer()), bytes);
      await finish(ws, recorder);
    });

    it('"object": objects sent as JSON and received parsed', async () => {
      const [ws, recorder] = await connected(server.url, 'object');
      assert.equal(ws.dataType, 'object');
      const value = { price: 12.5, symbol: 'ABC', tags: ['a', 'b'], nested: { ok: true, n: null } };
      ws.send(value);
      assert.deepEqual(await recorder.nextMessage(), value);
      ws.send([1, 'two', 3]);
      assert.deepEqual(await recorder.nextMessage(), [1, 'two', 3]);
      // A string is sent as it is: already-serialized JSON passes through.
      ws.send('{"a":1}');
      assert.deepEqual(await recorder.nextMessage(), { a: 1 });
      ws.send(42);
      assert.equal(await recorder.nextMessage(), 42);
      // Binary messages are parsed from their UTF-8 text too.
      ws.send(new TextEncoder().encode('{"bin":true}'));
      assert.deepEqual(await recorder.nextMessage(), { bin: true });
      await finish(ws, recorder);
    });

    it('"object": a message that is not JSON goes to onError, and the connection stays up', async () => {
      const [ws, recorder] = await connected(server.url, 'object');
      ws.send('cmd:garbage');
      const error = await recorder.next('onError');
      const [entry] = errorsOf(error);
      assert.equal(entry!.errCode, FourDErrorCode.INVALID_JSON);
      assert.equal(entry!.componentSignature, 'wskit');
      assert.match(entry!.message, /not valid JSON/);
      assert.match(entry!.message, /\{not json/);
      assert.equal(ws.status, 'Connected');
      ws.send({ still: 'alive' });
      assert.deepEqual(await recorder.nextMessage(), { still: 'alive' });
      assert.deepEqual(recorder.names, ['onOpen', 'onError', 'onMessage']);
      await finish(ws, recorder);
    });

    it('is read-only', async () => {
      const [ws, recorder] = await connected(server.url, 'object');
      assert.throws(() => {
        (ws as unknown as { dataType: string }).dataType = 'text';
      }, TypeError);
      assert.equal(ws.dataType, 'object');
      await finish(ws, recorder);
    });
  });

  describe('.handler, .id, .url, .status', () => {
    it('.handler is the connectionHandler object given to new(), read-only', async () => {
      const recorder = new Recorder();
      const ws = open(server.url, recorder);
      assert.equal(ws.handler, recorder);
      assert.throws(() => {
        (ws as unknown as { handler: unknown }).handler = {};
      }, TypeError);
      await recorder.next('onOpen');
      await finish(ws, recorder);
    });

    it('.id is a unique, increasing integer, read-only', async () => {
      const pairs = await Promise.all([1, 2, 3].map(() => connected(server.url)));
      const ids = pairs.map(([ws]) => ws.id);
      for (const id of ids) assert.ok(Number.isInteger(id) && id > 0);
      assert.ok(ids[0]! < ids[1]! && ids[1]! < ids[2]!, `ids ${ids}`);
      const [first] = pairs[0]!;
      assert.throws(() => {
        (first as unknown as { id: number }).id = 0;
      }, TypeError);
      for (const [ws, recorder] of pairs) await finish(ws, recorder);
      // A null result does not use up an id, and later connections keep increasing.
      assert.equal(WebSocket.new('ftp://x'), null);
      const [later, recorder] = await connected(server.url);
      assert.equal(later.id, ids[2]! + 1);
      await finish(later, recorder);
    });

    it('.url is the URL as given to new(), which 4D code compares with the one it passed', async () => {
      const [ws, recorder] = await connected(server.url);
      assert.equal(ws.url, server.url);
      await finish(ws, recorder);
      const http = server.url.replace('ws:', 'http:').replace('/echo', '');
      const [other, second] = await connected(http);
      assert.equal(other.url, http);
      assert.throws(() => {
        (other as unknown as { url: string }).url = 'x';
      }, TypeError);
      await finish(other, second);
    });

    it('.status goes Connecting, Connected, Closing, Closed', async () => {
      const recorder = new Recorder();
      const seen: string[] = [];
      recorder.react.onOpen = (ws) => seen.push(`open:${ws.status}`);
      recorder.react.onTerminate = (ws) => seen.push(`terminate:${ws.status}`);
      const ws = open(server.url, recorder);
      seen.push(ws.status);
      await recorder.next('onOpen');
      seen.push(ws.status);
      ws.terminate();
      seen.push(ws.status);
      await recorder.next('onTerminate');
      seen.push(ws.status);
      assert.deepEqual(seen, [
        'Connecting',
        'open:Connected',
        'Connected',
        'Closing',
        'terminate:Closed',
        'Closed',
      ]);
      assert.throws(() => {
        (ws as unknown as { status: string }).status = 'Connected';
      }, TypeError);
    });
  });

  describe('.send()', () => {
    it('sends text as text and Blob or binary data as binary', async () => {
      const [ws, recorder] = await connected(server.url, 'blob');
      ws.send('text');
      ws.send(new Uint8Array([1, 2, 3]));
      ws.send(new Blob(['blob']));
      ws.send(new Uint16Array([0x0201]).buffer);
      const received = [];
      for (let i = 0; i < 4; i++) {
        received.push(new Uint8Array(await ((await recorder.nextMessage()) as Blob).arrayBuffer()));
      }
      assert.deepEqual(received, [
        new TextEncoder().encode('text'),
        new Uint8Array([1, 2, 3]),
        new TextEncoder().encode('blob'),
        new Uint8Array([1, 2]),
      ]);
      await finish(ws, recorder);
    });

    it('sends an object as its JSON text whatever the dataType', async () => {
      const [ws, recorder] = await connected(server.url);
      ws.send({ a: [1, 2] });
      assert.equal(await recorder.nextMessage(), '{"a":[1,2]}');
      ws.send(null);
      assert.equal(await recorder.nextMessage(), 'null');
      await finish(ws, recorder);
    });

    it('never throws: unsendable values go to onError with errCode 5', async () => {
      const [ws, recorder] = await connected(server.url);
      ws.send(undefined as unknown as string);
      ws.send({ big: 1n });
      for (let i = 0; i < 2; i++) {
        const [entry] = errorsOf(await recorder.next('onError'));
        assert.equal(entry!.errCode, FourDErrorCode.SEND_FAILED);
      }
      assert.equal(ws.status, 'Connected');
      await finish(ws, recorder);
    });

    it('after the connection closed: onError with errCode 2, nothing thrown', async () => {
      const [ws, recorder] = await connected(server.url);
      await finish(ws, recorder);
      ws.send('late');
      const error = await recorder.next('onError');
      assert.deepEqual(error.event, {
        type: 'error',
        errors: [
          {
            errCode: FourDErrorCode.NOT_OPEN,
            message: 'send(): the WebSocket is Closed, not Connected',
            componentSignature: 'wskit',
          },
        ],
      });
    });
  });

  describe('.terminate()', () => {
    for (const [code, reason] of [
      [undefined, undefined],
      [1000, undefined],
      [1000, 'normal'],
      [3000, 'custom low'],
      [4999, 'custom high'],
    ] as const) {
      it(`terminate(${code ?? ''}${reason ? `, "${reason}"` : ''}) closes with ${code ?? 1000}`, async () => {
        const url = server.uniqueUrl();
        const [ws, recorder] = await connected(url);
        ws.terminate(code, reason);
        assert.equal(ws.status, 'Closing');
        assert.deepEqual(await server.closeOf(url), { code: code ?? 1000, reason: reason ?? '' });
        const terminate = await recorder.next('onTerminate');
        // onTerminate reports the server's close frame: the wskit server echoes the code alone.
        assert.deepEqual(terminate.event, { code: code ?? 1000, reason: '', wasClean: true });
        assert.equal(ws.status, 'Closed');
        // Terminating again does nothing.
        ws.terminate(1000);
        await new Promise((done) => setTimeout(done, 10));
        assert.deepEqual(recorder.names, ['onOpen', 'onTerminate']);
      });
    }

    it('rejects codes other than 1000 and 3000-4999 and leaves the connection usable', async () => {
      const [ws, recorder] = await connected(server.url);
      for (const code of [1001, 1005, 2999, 5000, 0, -1, 1000.5, Number.NaN]) {
        assert.throws(() => ws.terminate(code), RangeError, `code ${code}`);
      }
      assert.throws(() => ws.terminate(1001, 'going away'), /1000 or a custom code in 3000-4999/);
      assert.throws(() => ws.terminate('1000' as unknown as number), TypeError);
      assert.throws(() => ws.terminate(1000, 'x'.repeat(124)), /123/);
      assert.equal(ws.status, 'Connected');
      ws.send('still usable');
      assert.equal(await recorder.nextMessage(), 'still usable');
      assert.deepEqual(recorder.names, ['onOpen', 'onMessage']);
      await finish(ws, recorder);
    });

    it('while connecting: abandons the connection, onTerminate 1006 and no onError', async () => {
      const recorder = new Recorder();
      const ws = open(server.url, recorder);
      ws.terminate();
      const terminate = await recorder.next('onTerminate');
      assert.deepEqual(terminate.event, { code: 1006, reason: '', wasClean: false });
      assert.deepEqual(recorder.names, ['onTerminate']);
      assert.equal(ws.status, 'Closed');
    });
  });

  it('example: the 4D usage, open, send, receive, terminate', async () => {
    // 4D:
    //   Class constructor WSConnectionHandler ... Function onMessage($ws; $event) ...
    //   $ws:=4D.WebSocket.new($url; cs.WSConnectionHandler.new())
    class WSConnectionHandler implements FourDConnectionHandler {
      dataType: FourDDataType = 'object';
      log: string[] = [];
      done: Promise<void>;
      #finished!: () => void;

      constructor() {
        this.done = new Promise((r) => {
          this.#finished = r;
        });
      }
      onOpen(ws: FourDWebSocketBase): void {
        this.log.push('open');
        ws.send({ action: 'subscribe', symbol: 'ABC' });
      }
      onMessage(ws: FourDWebSocketBase, event: FourDMessageEvent): void {
        const data = event.data as { action: string; symbol: string };
        this.log.push(`message ${data.action} ${data.symbol}`);
        ws.terminate(1000, 'enough');
      }
      onError(_ws: FourDWebSocketBase, event: FourDErrorEvent): void {
        this.log.push(`error ${event.errors.map((e) => e.message).join('; ')}`);
      }
      onTerminate(_ws: FourDWebSocketBase, event: FourDTerminateEvent): void {
        this.log.push(`terminate ${event.code} ${event.reason}`);
        this.#finished();
      }
    }

    const handler = new WSConnectionHandler();
    const ws = FourD.WebSocket.new(server.url, handler);
    assert.ok(ws);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        handler.done,
        new Promise((_, fail) => {
          timer = setTimeout(() => fail(new Error(handler.log.join('\n'))), WAIT_MS);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
    assert.deepEqual(handler.log, ['open', 'message subscribe ABC', 'terminate 1000 ']);
    assert.equal(ws.status, 'Closed');
  });
});
