/**
 * Raw TCP peers for tests that read and write hand-crafted HTTP and WebSocket bytes: a server
 * that hands each connection over as a reader, a reader with bounded waits for HTTP heads, byte
 * counts and frames, and the bytes of valid (or deliberately broken) opening handshakes.
 */
import { Buffer } from 'node:buffer';
import { createHash, randomBytes } from 'node:crypto';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { type DecodedFrame, decodeFrame, frameSize } from './frames.js';
import { WAIT_MS } from './timeouts.js';
import { nextEmit } from './waits.js';

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

/** Resolves when a function added to `wakers` is called, or after `ms`, whichever is first. */
function wokenOrDeadline(wakers: Set<() => void>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(wake, ms);
    function wake() {
      clearTimeout(timer);
      resolve();
    }
    wakers.add(wake);
  });
}

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
      await wokenOrDeadline(this.#wakers, left).finally(() => this.#wakers.clear());
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
      await wokenOrDeadline(this.#wakers, left);
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
  async readFrame(ms = WAIT_MS): Promise<DecodedFrame> {
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
  async readCloseFrame(ms = WAIT_MS): Promise<DecodedFrame> {
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

// -- handshake bytes -----------------------------------------------------------------------------

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
