/**
 * Helpers for the Node integration tests: servers on 127.0.0.1 port 0 that are always closed,
 * waiting for events with a deadline, and raw TCP peers (server and client) that read and write
 * hand-crafted HTTP and WebSocket bytes.
 */
import { Buffer } from 'node:buffer';
import { createHash, randomBytes } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import type { TestContext } from 'node:test';
import {
  type BinaryType,
  type CloseEvent,
  type ErrorEvent,
  type MessageEvent,
  type ReconnectEvent,
  WebSocket,
  type WebSocketEvent,
  type WebSocketEventTarget,
  type WebSocketOptions,
  WebSocketServer,
  type WebSocketServerOptions,
} from '../../src/index.js';
import { frame } from '../support/frames.js';
import { WAIT_MS } from '../support/timeouts.js';

/** Default bound of every single wait, in milliseconds. */

// -- waiting -------------------------------------------------------------------------------------

/** Resolves with the next `type` event of a WebSocket (or any wskit event target). */
export function nextEvent(
  ws: WebSocketEventTarget,
  type: 'close',
  ms?: number,
): Promise<CloseEvent>;
export function nextEvent(
  ws: WebSocketEventTarget,
  type: 'error',
  ms?: number,
): Promise<ErrorEvent>;
export function nextEvent(
  ws: WebSocketEventTarget,
  type: 'reconnecting',
  ms?: number,
): Promise<ReconnectEvent>;
export function nextEvent(
  ws: WebSocketEventTarget,
  type: 'message' | 'ping' | 'pong',
  ms?: number,
): Promise<MessageEvent>;
export function nextEvent(
  ws: WebSocketEventTarget,
  type: string,
  ms?: number,
): Promise<WebSocketEvent>;
export function nextEvent(
  ws: WebSocketEventTarget,
  type: string,
  ms = WAIT_MS,
): Promise<WebSocketEvent> {
  return new Promise((resolve, reject) => {
    const listener = (event: WebSocketEvent) => {
      clearTimeout(timer);
      resolve(event);
    };
    const timer = setTimeout(() => {
      ws.removeEventListener(type, listener);
      reject(new Error(`timed out after ${ms} ms waiting for a "${type}" event`));
    }, ms);
    ws.addEventListener(type, listener, { once: true });
  });
}

/** Resolves with the arguments of the next `event` of an EventEmitter; rejects on timeout. */
export function nextEmit<T extends unknown[] = unknown[]>(
  emitter: EventEmitter,
  event: string,
  ms = WAIT_MS,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const listener = (...args: unknown[]) => {
      clearTimeout(timer);
      resolve(args as T);
    };
    const timer = setTimeout(() => {
      emitter.removeListener(event, listener);
      reject(new Error(`timed out after ${ms} ms waiting for "${event}"`));
    }, ms);
    emitter.once(event, listener);
  });
}

/** What happened to a socket, in order: event types, and the events themselves. */
export interface EventLog {
  readonly types: string[];
  readonly events: WebSocketEvent[];
  /** The first event of `type`, or undefined. */
  first<E extends WebSocketEvent = WebSocketEvent>(type: string): E | undefined;
}

/** Records every open, message, error, close, ping and pong event of `ws`. */
export function recordEvents(ws: WebSocket): EventLog {
  const types: string[] = [];
  const events: WebSocketEvent[] = [];
  for (const type of ['open', 'message', 'error', 'close', 'ping', 'pong']) {
    ws.addEventListener(type, (event: WebSocketEvent) => {
      types.push(type);
      events.push(event);
    });
  }
  return {
    types,
    events,
    first<E extends WebSocketEvent = WebSocketEvent>(type: string): E | undefined {
      return events.find((e) => e.type === type) as E | undefined;
    },
  };
}

/** Collects `count` messages of `ws`, resolving with their data in order. */
export function collectMessages(ws: WebSocket, count: number, ms = WAIT_MS): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const data: unknown[] = [];
    const listener = (event: MessageEvent) => {
      data.push(event.data);
      if (data.length === count) {
        clearTimeout(timer);
        ws.removeEventListener('message', listener);
        resolve(data);
      }
    };
    const timer = setTimeout(() => {
      ws.removeEventListener('message', listener);
      reject(new Error(`timed out after ${ms} ms: got ${data.length} of ${count} messages`));
    }, ms);
    ws.addEventListener('message', listener);
  });
}

/** Resolves after pending I/O callbacks and microtasks have run (not a timing guess). */
export function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

// -- servers and clients that are always cleaned up ----------------------------------------------

export interface StartedServer {
  wss: WebSocketServer<BinaryType>;
  port: number;
  /** `ws://127.0.0.1:<port>` without a path. */
  url: string;
}

export type StandaloneOptions = Omit<
  WebSocketServerOptions,
  'port' | 'host' | 'server' | 'noServer' | 'tls'
>;

/** Closes a WebSocketServer and waits (bounded) for its `close` event. */
export async function closeServer(wss: WebSocketServer<BinaryType>, ms = WAIT_MS): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`WebSocketServer did not close within ${ms} ms`)),
      ms,
    );
    wss.close(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Closes a net or http server and waits for it (connections are destroyed first). */
export function closeNetServer(server: Server, sockets: Iterable<Socket> = []): Promise<void> {
  for (const socket of sockets) socket.destroy();
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
    (server as Server & { closeAllConnections?: () => void }).closeAllConnections?.();
  });
}

/** Test-scoped resources: everything made here is closed when the test ends, pass or fail. */
export class TestEnv {
  readonly #cleanups: Array<() => unknown> = [];

  constructor(t: TestContext) {
    t.after(async () => {
      for (const cleanup of this.#cleanups.reverse()) {
        try {
          await cleanup();
        } catch {
          // Cleanup must not hide the test's own failure; each step is independent.
        }
      }
    });
  }

  /** Registers a cleanup step; steps run in reverse order of registration. */
  defer(cleanup: () => unknown): void {
    this.#cleanups.push(cleanup);
  }

  /** A standalone WebSocketServer on 127.0.0.1:0, resolved once it listens. */
  async server(options: StandaloneOptions = {}): Promise<StartedServer> {
    const wss = new WebSocketServer({ ...options, port: 0, host: '127.0.0.1' });
    this.defer(() => closeServer(wss));
    await nextEmit(wss, 'listening');
    const port = (wss.address() as AddressInfo).port;
    return { wss, port, url: `ws://127.0.0.1:${port}` };
  }

  /** A client that is terminated at the end of the test if it is still open. */
  client(url: string | URL, protocols?: string | string[], options?: WebSocketOptions): WebSocket {
    const ws = new WebSocket(url, protocols, options);
    this.defer(() => {
      if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
    });
    return ws;
  }

  /** Opens a client and resolves once its open event fired. */
  async open(
    url: string | URL,
    protocols?: string | string[],
    options?: WebSocketOptions,
  ): Promise<WebSocket> {
    const ws = this.client(url, protocols, options);
    await new Promise<void>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        ws.removeEventListener('open', onOpen);
        ws.removeEventListener('close', onClose);
      };
      const onOpen = () => {
        done();
        resolve();
      };
      const onClose = (event: CloseEvent) => {
        done();
        reject(new Error(`the client closed with ${event.code} before it opened`));
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`the client did not open within ${WAIT_MS} ms`));
      }, WAIT_MS);
      ws.addEventListener('open', onOpen);
      ws.addEventListener('close', onClose);
    });
    return ws;
  }

  /** Opens a client to a standalone server and resolves with it and its server-side peer. */
  async pair(
    started: StartedServer,
    path = '/',
    protocols?: string | string[],
    options?: WebSocketOptions,
  ): Promise<{ client: WebSocket; peer: WebSocket }> {
    const connection = nextEmit<[WebSocket]>(started.wss, 'connection');
    const client = await this.open(started.url + path, protocols, options);
    const [peer] = await connection;
    return { client, peer };
  }

  /** A raw TCP server on 127.0.0.1:0; its connections are readers (see {@link ByteReader}). */
  async rawServer(): Promise<RawServer> {
    const raw = new RawServer();
    this.defer(() => raw.close());
    await raw.listen();
    return raw;
  }

  /** A raw TCP connection to 127.0.0.1:`port`, resolved once connected. */
  async rawClient(port: number): Promise<ByteReader> {
    const socket = connect({ host: '127.0.0.1', port });
    this.defer(() => socket.destroy());
    const reader = new ByteReader(socket);
    await nextEmit(socket, 'connect');
    return reader;
  }

  /**
   * A raw TCP client that completed a valid opening handshake with a server on `port`: what it
   * reads next are the server's frames.
   */
  async rawUpgrade(port: number, path = '/'): Promise<ByteReader> {
    const reader = await this.rawClient(port);
    const key = makeKey();
    reader.socket.write(upgradeRequest({ path, key }));
    const head = await reader.readHead();
    if (head.status !== 101) throw new Error(`expected 101, got ${head.statusLine}`);
    if (head.headers['sec-websocket-accept'] !== acceptFor(key)) {
      throw new Error('the server answered a wrong Sec-WebSocket-Accept');
    }
    return reader;
  }
}

// -- raw TCP peers -------------------------------------------------------------------------------

/** A TCP server that hands each connection to the test as a {@link ByteReader}. */
export class RawServer {
  readonly server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #waiting: ByteReader[] = [];
  readonly #wakers = new Set<() => void>();
  port = 0;

  constructor() {
    this.server = createServer((socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
      this.#waiting.push(new ByteReader(socket));
      for (const wake of this.#wakers) wake();
    });
  }

  async listen(): Promise<void> {
    this.server.listen(0, '127.0.0.1');
    await nextEmit(this.server, 'listening');
    this.port = (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** The next connection the server accepted. */
  async accept(ms = WAIT_MS): Promise<ByteReader> {
    const deadline = Date.now() + ms;
    while (this.#waiting.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no connection arrived within ${ms} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(wake, left);
        function wake() {
          clearTimeout(timer);
          resolve();
        }
        this.#wakers.add(wake);
      }).finally(() => this.#wakers.clear());
    }
    return this.#waiting.shift()!;
  }

  /**
   * Accepts the next connection, reads its upgrade request and answers 101 with a correct
   * `Sec-WebSocket-Accept` plus `extraHeaders` (or the `accept` value given there).
   */
  async acceptUpgrade(extraHeaders: Record<string, string> = {}): Promise<{
    conn: ByteReader;
    request: HttpHead;
  }> {
    const conn = await this.accept();
    const request = await conn.readHead();
    const key = request.headers['sec-websocket-key'] ?? '';
    const headers: Record<string, string> = {
      Upgrade: 'websocket',
      Connection: 'Upgrade',
      'Sec-WebSocket-Accept': acceptFor(key),
      ...extraHeaders,
    };
    conn.socket.write(httpResponse(101, 'Switching Protocols', headers));
    return { conn, request };
  }

  close(): Promise<void> {
    return closeNetServer(this.server, this.#sockets);
  }
}

/** A parsed HTTP head (request or response), header names lower-cased. */
export interface HttpHead {
  statusLine: string;
  /** The status code of a response; NaN for a request. */
  status: number;
  headers: Record<string, string>;
}

/** A decoded WebSocket frame. */
export interface Frame {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  /** Already unmasked. */
  payload: Buffer;
}

/**
 * Buffers what a socket receives and lets a test read it as HTTP heads, exact byte counts and
 * WebSocket frames, each read bounded by a deadline.
 */
export class ByteReader {
  readonly socket: Socket;
  /** Unread bytes, in arrival order; joined only when a read needs them together. */
  #chunks: Buffer[] = [];
  #length = 0;
  #ended = false;
  #closed = false;
  #error: Error | null = null;
  readonly #wakers = new Set<() => void>();

  constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#chunks.push(chunk);
      this.#length += chunk.length;
      this.#wake();
    });
    socket.on('end', () => {
      this.#ended = true;
      this.#wake();
    });
    socket.on('error', (error) => {
      this.#error = error;
      this.#wake();
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#wake();
    });
  }

  /** Bytes received and not read yet. */
  get buffered(): Buffer {
    return this.#buffer;
  }

  /** All unread bytes as one buffer. */
  get #buffer(): Buffer {
    if (this.#chunks.length !== 1) this.#chunks = [Buffer.concat(this.#chunks, this.#length)];
    return this.#chunks[0]!;
  }

  set #buffer(bytes: Buffer) {
    this.#chunks = bytes.length > 0 ? [bytes] : [];
    this.#length = bytes.length;
  }

  /** At least the first `n` unread bytes (fewer when fewer arrived), joining as few as needed. */
  #head(n: number): Buffer {
    let joined = 0;
    let count = 0;
    while (count < this.#chunks.length && joined < n) joined += this.#chunks[count++]!.length;
    if (count > 1) this.#chunks.splice(0, count, Buffer.concat(this.#chunks.slice(0, count)));
    return this.#chunks[0] ?? Buffer.alloc(0);
  }

  /** Removes and returns the first `n` unread bytes. */
  #take(n: number): Buffer {
    const out = this.#head(n).subarray(0, n);
    const first = this.#chunks[0];
    if (first) {
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
    }
    this.#length -= n;
    return out;
  }

  /** The peer ended its side (FIN) or the socket closed. */
  get ended(): boolean {
    return this.#ended || this.#closed;
  }

  get closed(): boolean {
    return this.#closed;
  }

  #wake(): void {
    for (const wake of this.#wakers) wake();
    this.#wakers.clear();
  }

  /** Waits until `ready()` is true; fails when the stream ends first or the deadline passes. */
  async #until(ready: () => boolean, what: string, ms: number, allowEnd = false): Promise<void> {
    const deadline = Date.now() + ms;
    while (!ready()) {
      if (!allowEnd && (this.#ended || this.#closed)) {
        throw new Error(
          `the connection ended while waiting for ${what} (${this.#length} bytes buffered${
            this.#error ? `, ${this.#error.message}` : ''
          })`,
        );
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(wake, left);
        function wake() {
          clearTimeout(timer);
          resolve();
        }
        this.#wakers.add(wake);
      });
    }
  }

  /** Reads an HTTP head up to the blank line. */
  async readHead(ms = WAIT_MS): Promise<HttpHead> {
    await this.#until(() => this.#buffer.includes('\r\n\r\n'), 'an HTTP head', ms);
    const end = this.#buffer.indexOf('\r\n\r\n');
    const text = this.#buffer.subarray(0, end).toString('latin1');
    this.#buffer = this.#buffer.subarray(end + 4);
    return parseHead(text);
  }

  /** Reads an HTTP response: head plus a `Content-Length` body. */
  async readResponse(ms = WAIT_MS): Promise<HttpHead & { body: string }> {
    const head = await this.readHead(ms);
    const length = Number(head.headers['content-length'] ?? 0);
    const body = await this.readExactly(length, ms);
    return { ...head, body: body.toString() };
  }

  /** Reads exactly `n` bytes. */
  async readExactly(n: number, ms = WAIT_MS): Promise<Buffer> {
    await this.#until(() => this.#length >= n, `${n} bytes`, ms);
    return this.#take(n);
  }

  /** Reads one WebSocket frame (unmasking it when masked). */
  async readFrame(ms = WAIT_MS): Promise<Frame> {
    let size = -1;
    await this.#until(
      () => {
        size = frameSize(this.#head(14));
        return size >= 0 && this.#length >= size;
      },
      'a WebSocket frame',
      ms,
    );
    return decodeFrame(this.#take(size))!.frame;
  }

  /** Reads frames until a close frame, returning it; other frames are skipped. */
  async readCloseFrame(ms = WAIT_MS): Promise<Frame> {
    const deadline = Date.now() + ms;
    for (;;) {
      const frame = await this.readFrame(Math.max(1, deadline - Date.now()));
      if (frame.opcode === 0x8) return frame;
    }
  }

  /** Waits until the peer ends its side (FIN) or the socket closes; returns all unread bytes. */
  async readToEnd(ms = WAIT_MS): Promise<Buffer> {
    await this.#until(() => this.#ended || this.#closed, 'the end of the stream', ms, true);
    const out = this.#buffer;
    this.#buffer = Buffer.alloc(0);
    return out;
  }

  /** Waits until the socket is fully closed. */
  async waitClosed(ms = WAIT_MS): Promise<void> {
    await this.#until(() => this.#closed, 'the socket to close', ms, true);
  }

  write(data: string | Uint8Array): void {
    this.socket.write(data);
  }
}

function parseHead(text: string): HttpHead {
  const [statusLine = '', ...lines] = text.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  const match = /^HTTP\/\d\.\d (\d{3})/.exec(statusLine);
  return { statusLine, status: match ? Number(match[1]) : Number.NaN, headers };
}

// -- handshake and frame bytes -------------------------------------------------------------------

/** A fresh valid `Sec-WebSocket-Key`. */
export function makeKey(): string {
  return randomBytes(16).toString('base64');
}

/** The `Sec-WebSocket-Accept` that answers `key`. */
export function acceptFor(key: string): string {
  return createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
}

/** An HTTP response head (and optional body with `Content-Length`). */
export function httpResponse(
  status: number,
  text: string,
  headers: Record<string, string> = {},
  body?: string,
): string {
  const lines = [`HTTP/1.1 ${status} ${text}`];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  if (body !== undefined) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return `${lines.join('\r\n')}\r\n\r\n${body ?? ''}`;
}

export interface UpgradeRequestOptions {
  method?: string;
  path?: string;
  version?: string;
  key?: string;
  /** Omit the Host header when null. */
  host?: string | null;
  wsVersion?: string;
  /** Extra header lines, as [name, value] pairs (repeats allowed). */
  extra?: Array<[string, string]>;
}

/** A client opening handshake, valid unless the options break it on purpose. */
export function upgradeRequest(options: UpgradeRequestOptions = {}): string {
  const lines = [
    `${options.method ?? 'GET'} ${options.path ?? '/'} HTTP/${options.version ?? '1.1'}`,
  ];
  if (options.host !== null) lines.push(`Host: ${options.host ?? '127.0.0.1'}`);
  lines.push(
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${options.key ?? makeKey()}`,
    `Sec-WebSocket-Version: ${options.wsVersion ?? '13'}`,
  );
  for (const [name, value] of options.extra ?? []) lines.push(`${name}: ${value}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

export interface FrameOptions {
  fin?: boolean;
  rsv?: number;
  /** Mask with this key, or with a random key when true. */
  mask?: boolean | Uint8Array;
}

/** Encodes one WebSocket frame; can build any (also invalid) combination of bits. */
export function encodeFrame(
  opcode: number,
  payload: string | Uint8Array = Buffer.alloc(0),
  options: FrameOptions = {},
): Buffer {
  const rsv = options.rsv ?? 0;
  return frame({
    opcode,
    payload,
    fin: options.fin ?? true,
    rsv1: (rsv & 4) !== 0,
    rsv2: (rsv & 2) !== 0,
    rsv3: (rsv & 1) !== 0,
    mask: options.mask ?? false,
  });
}

/** The size of the frame `bytes` starts with, from its header alone; -1 when the header is cut. */
export function frameSize(bytes: Buffer): number {
  if (bytes.length < 2) return -1;
  const length7 = bytes[1]! & 0x7f;
  const mask = bytes[1]! & 0x80 ? 4 : 0;
  if (length7 < 126) return 2 + mask + length7;
  if (length7 === 126) return bytes.length < 4 ? -1 : 4 + mask + bytes.readUInt16BE(2);
  return bytes.length < 10 ? -1 : 10 + mask + Number(bytes.readBigUInt64BE(2));
}

/** Decodes the first frame of `bytes`, or null when it is not complete yet. */
export function decodeFrame(bytes: Buffer): { frame: Frame; size: number } | null {
  if (bytes.length < 2) return null;
  const b0 = bytes[0]!;
  const b1 = bytes[1]!;
  const masked = (b1 & 0x80) !== 0;
  const length7 = b1 & 0x7f;
  let offset = 2;
  let length = length7;
  if (length7 === 126) {
    if (bytes.length < 4) return null;
    length = bytes.readUInt16BE(2);
    offset = 4;
  } else if (length7 === 127) {
    if (bytes.length < 10) return null;
    length = Number(bytes.readBigUInt64BE(2));
    offset = 10;
  }
  const maskOffset = offset;
  if (masked) offset += 4;
  if (bytes.length < offset + length) return null;
  const payload = Buffer.from(bytes.subarray(offset, offset + length));
  if (masked) {
    for (let i = 0; i < payload.length; i++)
      payload[i] = payload[i]! ^ bytes[maskOffset + (i % 4)]!;
  }
  return {
    frame: { fin: (b0 & 0x80) !== 0, rsv: (b0 >> 4) & 0x7, opcode: b0 & 0x0f, masked, payload },
    size: offset + length,
  };
}

/** The code and reason of a close frame's payload (1005 and "" when it is empty). */
export function parseClose(payload: Buffer): { code: number; reason: string } {
  if (payload.length < 2) return { code: 1005, reason: '' };
  return { code: payload.readUInt16BE(0), reason: payload.subarray(2).toString() };
}

/** A small deterministic PRNG (mulberry32), so that random inputs can be reproduced. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
