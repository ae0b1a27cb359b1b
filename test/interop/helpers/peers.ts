/**
 * Interop test helpers: an async queue, probes that record what a wskit or `ws` socket sees
 * (messages, pings, pongs, errors, the close), servers of both libraries bound to 127.0.0.1
 * on an ephemeral port, raw frame builders, and a cleanup list for after hooks.
 */
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type RawData,
  WebSocket as WsClient,
  WebSocketServer as WsServer,
  type ServerOptions as WsServerOptions,
} from 'ws';
import {
  type BinaryType,
  type CloseEvent,
  type ErrorEvent,
  MessageEvent,
  WebSocket,
  type WebSocketOptions,
  WebSocketServer,
  type WebSocketServerOptions,
} from '../../../src/index.js';

/** Options for every test: each one is bounded in time. */
export const T = { timeout: 10_000 } as const;

// -- async queue ---------------------------------------------------------------------------------

/** A FIFO whose `next()` waits for the next item; `end()` makes waits past the end reject. */
export class AsyncQueue<T> {
  private readonly items: T[] = [];
  private readonly waiters: Array<{ resolve: (item: T) => void; reject: (e: Error) => void }> = [];
  private ended: Error | null = null;

  push(item: T): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve(item);
    else this.items.push(item);
  }

  /** No more items will come: pending and later `next()` calls past the buffer reject. */
  end(reason: Error): void {
    if (this.ended) return;
    this.ended = reason;
    for (const waiter of this.waiters.splice(0)) waiter.reject(reason);
  }

  next(): Promise<T> {
    if (this.items.length > 0) return Promise.resolve(this.items.shift() as T);
    if (this.ended) return Promise.reject(this.ended);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  async take(count: number): Promise<T[]> {
    const out: T[] = [];
    for (let i = 0; i < count; i++) out.push(await this.next());
    return out;
  }

  /** Items received and not yet taken. */
  get length(): number {
    return this.items.length;
  }
}

// -- close information -----------------------------------------------------------------------------

export interface CloseInfo {
  code: number;
  reason: string;
  wasClean: boolean;
}

// -- wskit probe -----------------------------------------------------------------------------------

/** Records everything a wskit `WebSocket` reports. Attach it before any event can fire. */
export class WskitPeer {
  readonly messages = new AsyncQueue<unknown>();
  readonly pings = new AsyncQueue<Buffer>();
  readonly pongs = new AsyncQueue<Buffer>();
  /** The `error` property of every error event, in order. */
  readonly errors: unknown[] = [];
  readonly closed: Promise<CloseInfo>;
  /** Event types in the order they fired (message events are not listed). */
  readonly order: string[] = [];

  constructor(readonly ws: WebSocket) {
    ws.addEventListener('message', (event: MessageEvent) => this.messages.push(event.data));
    ws.addEventListener('ping', (event) => {
      if (event instanceof MessageEvent) this.pings.push(event.data as Buffer);
    });
    ws.addEventListener('pong', (event) => {
      if (event instanceof MessageEvent) this.pongs.push(event.data as Buffer);
    });
    ws.addEventListener('open', () => this.order.push('open'));
    ws.addEventListener('error', (event: ErrorEvent) => {
      this.order.push('error');
      this.errors.push(event.error);
    });
    this.closed = new Promise((resolve) => {
      ws.addEventListener('close', (event: CloseEvent) => {
        this.order.push('close');
        const closedError = new Error(`the socket closed (code ${event.code})`);
        this.messages.end(closedError);
        this.pings.end(closedError);
        this.pongs.end(closedError);
        resolve({ code: event.code, reason: event.reason, wasClean: event.wasClean });
      });
    });
  }

  /** The next message as text; fails if it is binary. */
  async nextText(): Promise<string> {
    const data = await this.messages.next();
    if (typeof data !== 'string') throw new Error(`expected a text message, got ${typeName(data)}`);
    return data;
  }

  /** The next message as bytes; fails if it is text. Accepts any binaryType. */
  async nextBinary(): Promise<Buffer> {
    const data = await this.messages.next();
    return binaryToBuffer(data);
  }
}

/** Converts a binary message of any binaryType to a Buffer; throws for text. */
export async function binaryToBuffer(data: unknown): Promise<Buffer> {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (data instanceof Blob) return Buffer.from(await data.arrayBuffer());
  throw new Error(`expected a binary message, got ${typeName(data)}`);
}

function typeName(value: unknown): string {
  if (typeof value === 'string') return `text of ${value.length} characters`;
  return Object.prototype.toString.call(value);
}

/** Opens a wskit client and waits for `open`; rejects with the error if it fails first. */
export function connectWskit(
  url: string,
  protocols?: string | string[],
  options?: WebSocketOptions,
): Promise<WskitPeer> {
  const ws = new WebSocket(url, protocols, options);
  const peer = new WskitPeer(ws);
  return new Promise((resolve, reject) => {
    ws.addEventListener('open', () => resolve(peer));
    void peer.closed.then((info) => {
      const error = peer.errors[0];
      reject(
        error instanceof Error
          ? error
          : new Error(`the connection closed before it opened (code ${info.code})`),
      );
    });
  });
}

/** Starts a wskit client that is expected to fail: resolves once it has closed. */
export async function failingWskit(
  url: string,
  protocols?: string | string[],
  options?: WebSocketOptions,
): Promise<{ peer: WskitPeer; close: CloseInfo; opened: boolean }> {
  const ws = new WebSocket(url, protocols, options);
  const peer = new WskitPeer(ws);
  let opened = false;
  ws.addEventListener('open', () => {
    opened = true;
  });
  const close = await peer.closed;
  return { peer, close, opened };
}

// -- ws probe --------------------------------------------------------------------------------------

export interface WsMessage {
  data: Buffer;
  binary: boolean;
}

export function rawToBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** The parts of the TCP socket under a `ws` WebSocket that tests use. */
export interface RawSocket {
  write(data: Buffer): boolean;
  end(): void;
}

/** Records everything a `ws` socket (client or server side) reports. */
export class WsPeer {
  readonly messages = new AsyncQueue<WsMessage>();
  readonly pings = new AsyncQueue<Buffer>();
  readonly pongs = new AsyncQueue<Buffer>();
  readonly errors: Error[] = [];
  readonly closed: Promise<CloseInfo>;

  constructor(readonly sock: WsClient) {
    sock.on('message', (data, isBinary) =>
      this.messages.push({ data: rawToBuffer(data), binary: isBinary }),
    );
    sock.on('ping', (data) => this.pings.push(data));
    sock.on('pong', (data) => this.pongs.push(data));
    sock.on('error', (error) => this.errors.push(error));
    this.closed = new Promise((resolve) => {
      sock.addEventListener('close', (event) => {
        const closedError = new Error(`the ws socket closed (code ${event.code})`);
        this.messages.end(closedError);
        this.pings.end(closedError);
        this.pongs.end(closedError);
        resolve({ code: event.code, reason: event.reason, wasClean: event.wasClean });
      });
    });
  }

  async nextText(): Promise<string> {
    const m = await this.messages.next();
    if (m.binary) throw new Error('expected a text message, got a binary one');
    return m.data.toString('utf8');
  }

  async nextBinary(): Promise<Buffer> {
    const m = await this.messages.next();
    if (!m.binary) throw new Error('expected a binary message, got a text one');
    return m.data;
  }

  /** The raw TCP socket under a `ws` WebSocket (private in ws), to write crafted frames. */
  get rawSocket(): RawSocket {
    return (this.sock as unknown as { _socket: RawSocket })._socket;
  }
}

/** Opens a `ws` client (without permessage-deflate unless asked) and waits for `open`. */
export async function connectWs(
  url: string,
  protocols?: string | string[],
  options: ConstructorParameters<typeof WsClient>[2] = {},
): Promise<WsPeer> {
  const sock = new WsClient(url, protocols, { perMessageDeflate: false, ...options });
  const peer = new WsPeer(sock);
  await new Promise<void>((resolve, reject) => {
    sock.once('open', () => resolve());
    sock.once('error', reject);
  });
  return peer;
}

// -- servers ---------------------------------------------------------------------------------------

export interface Accepted<P> {
  peer: P;
  req: IncomingMessage;
}

export interface WskitServerHandle {
  server: WebSocketServer<BinaryType>;
  port: number;
  url: string;
  accepted: AsyncQueue<Accepted<WskitPeer>>;
  close(): Promise<void>;
}

/** Echoes every message back the way it came (text as text, binary as binary). */
function wskitEcho(ws: WebSocket): void {
  ws.addEventListener('message', (event: MessageEvent) => {
    ws.send(event.data as string | Buffer);
  });
}

/**
 * Starts a wskit server on 127.0.0.1, port 0. With `echo` every accepted socket echoes.
 * `close()` terminates the remaining clients and waits for the server's `close`.
 */
export async function startWskitServer(
  options: Omit<WebSocketServerOptions, 'port' | 'host' | 'server' | 'noServer'> & {
    echo?: boolean;
    onConnection?: (ws: WebSocket, req: IncomingMessage) => void;
  } = {},
): Promise<WskitServerHandle> {
  const { echo, onConnection, ...serverOptions } = options;
  const server = new WebSocketServer({ ...serverOptions, port: 0, host: '127.0.0.1' });
  const accepted = new AsyncQueue<Accepted<WskitPeer>>();
  server.on('connection', (ws, req) => {
    const peer = new WskitPeer(ws);
    if (echo) wskitEcho(ws);
    onConnection?.(ws, req);
    accepted.push({ peer, req });
  });
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const scheme = serverOptions.tls ? 'wss' : 'ws';
  return {
    server,
    port,
    url: `${scheme}://127.0.0.1:${port}`,
    accepted,
    close: () => closeWskitServer(server),
  };
}

/** Terminates a wskit server's clients and closes it. */
export function closeWskitServer(server: WebSocketServer<BinaryType>): Promise<void> {
  return new Promise((resolve) => {
    for (const client of server.clients) client.terminate();
    server.close(() => resolve());
  });
}

export interface WsServerHandle {
  wss: WsServer;
  port: number;
  url: string;
  accepted: AsyncQueue<Accepted<WsPeer>>;
  close(): Promise<void>;
}

/**
 * Starts a `ws` server on 127.0.0.1, port 0 (or on `options.server`), permessage-deflate off
 * unless asked. With `echo` every accepted socket echoes. `close()` terminates its clients.
 */
export async function startWsServer(
  options: WsServerOptions & {
    echo?: boolean;
    onConnection?: (sock: WsClient, req: IncomingMessage) => void;
  } = {},
): Promise<WsServerHandle> {
  const { echo, onConnection, ...serverOptions } = options;
  const wss = new WsServer(
    serverOptions.server
      ? { perMessageDeflate: false, ...serverOptions }
      : { perMessageDeflate: false, host: '127.0.0.1', port: 0, ...serverOptions },
  );
  const accepted = new AsyncQueue<Accepted<WsPeer>>();
  wss.on('connection', (sock, req) => {
    const peer = new WsPeer(sock);
    if (echo) sock.on('message', (data, isBinary) => sock.send(data, { binary: isBinary }));
    onConnection?.(sock, req);
    accepted.push({ peer, req });
  });
  if (!serverOptions.server) await once(wss, 'listening');
  const port = (wss.address() as AddressInfo).port;
  return {
    wss,
    port,
    url: `ws://127.0.0.1:${port}`,
    accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      }),
  };
}

// -- cleanup ---------------------------------------------------------------------------------------

/** Cleanup actions run in reverse order by an after/afterEach hook; failures are ignored. */
export class Cleanup {
  private tasks: Array<() => unknown> = [];

  add(task: () => unknown): void {
    this.tasks.push(task);
  }

  /** Terminates `socket` at cleanup time (a no-op if it has closed by then). */
  terminate<S extends { terminate(): void }>(socket: S): S {
    this.add(() => socket.terminate());
    return socket;
  }

  async run(): Promise<void> {
    const tasks = this.tasks.reverse();
    this.tasks = [];
    for (const task of tasks) {
      try {
        await task();
      } catch {
        // cleanup must not hide the test's own result
      }
    }
  }
}

// -- payloads and raw frames -----------------------------------------------------------------------

const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:-_';

/** Deterministic ASCII text of exactly `size` characters (and bytes). */
export function asciiText(size: number, seed = 0): string {
  let out = '';
  for (let i = 0; i < size; i++) out += ALPHABET[(i * 7 + seed) % ALPHABET.length];
  return out;
}

/** Random bytes with a recognisable first and last byte. */
export function binaryPayload(size: number): Buffer {
  const data = randomBytes(size);
  if (size > 0) {
    data[0] = 0xff;
    data[size - 1] = 0x00;
  }
  return data;
}

/** Text that exercises 1-, 2-, 3- and 4-byte UTF-8 sequences. */
export const UNICODE_TEXT = 'héllo wörld — €100 · 漢字かな · 🎉🚀👩‍💻 · Ωμέγα · \u0000 end';

/** Payload sizes across the 7-bit, 16-bit and 64-bit length encodings. */
export const SIZES = [0, 125, 126, 65_535, 64 * 1024, 1024 * 1024] as const;

export function sizeLabel(size: number): string {
  if (size >= 1024 * 1024) return `${size / (1024 * 1024)} MiB`;
  if (size >= 1024 && size % 1024 === 0) return `${size / 1024} KiB`;
  return `${size} B`;
}

/**
 * Encodes one raw frame, also malformed ones. `mask` masks it (what a client must send) with a
 * fixed key, so the masked bytes are reproducible.
 */
export function rawFrame(options: {
  opcode: number;
  payload: Buffer | Uint8Array;
  fin?: boolean;
  mask?: boolean;
}): Buffer {
  const { opcode, payload } = options;
  const fin = options.fin ?? true;
  const mask = options.mask ?? false;
  const length = payload.length;
  const lengthBytes = length < 126 ? 0 : length < 65_536 ? 2 : 8;
  const header = Buffer.alloc(2 + lengthBytes + (mask ? 4 : 0));
  header[0] = (fin ? 0x80 : 0) | opcode;
  const len7 = lengthBytes === 0 ? length : lengthBytes === 2 ? 126 : 127;
  header[1] = (mask ? 0x80 : 0) | len7;
  if (lengthBytes === 2) header.writeUInt16BE(length, 2);
  else if (lengthBytes === 8) header.writeBigUInt64BE(BigInt(length), 2);
  const body = Buffer.from(payload);
  if (mask) {
    const key = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
    key.copy(header, 2 + lengthBytes);
    for (let i = 0; i < body.length; i++) body[i] = body[i]! ^ key[i % 4]!;
  }
  return Buffer.concat([header, body]);
}
