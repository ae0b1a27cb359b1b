import { Buffer } from 'node:buffer';
import type { Socket } from 'node:net';
import {
  CloseEvent,
  ErrorEvent,
  type Listener,
  MessageEvent,
  WebSocketEvent,
  WebSocketEventTarget,
} from '../core/events.js';
import { type ConnectTarget, parseWebSocketUrl } from '../core/url.js';
import { ConnectionError, type ProtocolError, WebSocketError } from '../errors.js';
import { CloseCode } from '../protocol/close-codes.js';
import { isToken } from '../protocol/http-tokens.js';
import type { MessageCompressor } from '../protocol/message-compressor.js';
import {
  DEFAULT_MAX_PAYLOAD,
  type ProtocolSink,
  WebSocketProtocol,
} from '../protocol/websocket-protocol.js';
import { type ClientTlsOptions, clientHandshake } from './client-handshake.js';
import { connectionErrorFrom } from './error-map.js';
import { nodePlatform } from './node-platform.js';
import { NodeDeflateCompressor, type PerMessageDeflateOptions } from './permessage-deflate.js';

/** How binary messages are delivered: `Blob` (standard default), `ArrayBuffer`, or Node `Buffer`. */
export type BinaryType = 'blob' | 'arraybuffer' | 'nodebuffer';

/** What `send()` accepts, as in the WHATWG standard. */
export type WebSocketData = string | ArrayBufferLike | ArrayBufferView | Blob;

/** Options of a client `WebSocket` in Node (the third constructor argument). */
export interface WebSocketOptions {
  /** Extra request headers for the opening handshake. */
  headers?: Record<string, string>;
  /** `Origin` header value. */
  origin?: string;
  /** TLS settings for `wss:`. */
  tls?: ClientTlsOptions;
  /** Milliseconds to wait for the server's handshake answer (default 30000; 0: no limit). */
  handshakeTimeout?: number;
  /** Milliseconds to wait for the peer to finish the closing handshake (default 30000). */
  closeTimeout?: number;
  /** Largest incoming message in bytes (default 100 MiB; 0: no limit); larger ones close with 1009. */
  maxPayload?: number;
  /** Initial `binaryType` (default "blob"). */
  binaryType?: BinaryType;
  /** Offer permessage-deflate (RFC 7692): true (default), false, or settings. */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
}

/** @internal what a server hands to the socket it accepted. */
export interface AcceptedSocketInit {
  socket: Socket;
  url: string;
  protocol: string;
  extensions: string;
  maxPayload: number;
  binaryType: BinaryType;
  closeTimeout: number;
  compressor: MessageCompressor | null;
}

/** @internal hooks shared with the server; not exported from the package. */
export const kAccept = Symbol('wskit.accept');
/** @internal */
export const kFeed = Symbol('wskit.feed');
/** @internal */
export const kSendRaw = Symbol('wskit.sendRaw');
/** @internal */
export const kCloseWith = Symbol('wskit.closeWith');

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

const DEFAULT_TIMEOUT = 30_000;
let constructingAccepted: AcceptedSocketInit | null = null;

type Handler<E> = ((this: WebSocket, event: E) => unknown) | null;

function invalidState(message: string): DOMException {
  return new DOMException(message, 'InvalidStateError');
}

/** WebIDL `[Clamp] unsigned short`. */
function clampUnsignedShort(value: unknown): number {
  const n = Number(value);
  if (Number.isNaN(n)) return 0;
  const clamped = Math.min(Math.max(n, 0), 65535);
  const floor = Math.floor(clamped);
  const diff = clamped - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * The WHATWG `WebSocket` for Node: the interface of browsers, Deno, Bun and Node 22, running on
 * wskit's RFC 6455 engine, with an options bag for what a server-side runtime needs. Sockets a
 * `WebSocketServer` accepts are instances of this class too.
 */
export class WebSocket extends WebSocketEventTarget {
  static readonly CONNECTING = CONNECTING;
  static readonly OPEN = OPEN;
  static readonly CLOSING = CLOSING;
  static readonly CLOSED = CLOSED;
  declare readonly CONNECTING: 0;
  declare readonly OPEN: 1;
  declare readonly CLOSING: 2;
  declare readonly CLOSED: 3;

  #url: string;
  #readyState: number = CONNECTING;
  #protocol = '';
  #extensions = '';
  #binaryType: BinaryType;
  #origin: string;
  #socket: Socket | null = null;
  #engine: WebSocketProtocol | null = null;
  #abortHandshake: ((reason: WebSocketError) => void) | null = null;
  #closeTimeout: number;
  #closeTimer: NodeJS.Timeout | null = null;
  #closeCode: number = CloseCode.Abnormal;
  #closeReason = '';
  #failed = false;
  #bufferedAfterClose = 0;
  #sendQueue: WebSocketData[] | null = null;
  #queuedBytes = 0;

  /**
   * Opens a connection to `url` (`ws:`, `wss:`, `http:`, `https:` or `ws+unix:`), offering
   * `protocols` as subprotocols. Throws a `SyntaxError` DOMException for a bad URL or protocol list.
   */
  constructor(
    url: string | URL,
    protocols?: string | readonly string[],
    options: WebSocketOptions = {},
  ) {
    super();
    const accepted = constructingAccepted;
    constructingAccepted = null;
    if (accepted) {
      this.#url = accepted.url;
      this.#origin = '';
      this.#binaryType = accepted.binaryType;
      this.#closeTimeout = accepted.closeTimeout;
      this.#protocol = accepted.protocol;
      this.#extensions = accepted.extensions;
      this.#attach(accepted.socket, 'server', accepted.maxPayload, accepted.compressor);
      return;
    }
    const target = parseWebSocketUrl(url);
    const list =
      protocols === undefined ? [] : typeof protocols === 'string' ? [protocols] : [...protocols];
    for (let i = 0; i < list.length; i++) {
      const p = list[i]!;
      // WHATWG: every protocol must be a token (RFC 6455 section 4.1) and appear only once.
      if (!isToken(p))
        throw new DOMException(
          `invalid subprotocol "${p}": it must be an HTTP token`,
          'SyntaxError',
        );
      if (list.indexOf(p) !== i)
        throw new DOMException(`subprotocol "${p}" is listed twice`, 'SyntaxError');
    }
    this.#url = target.href;
    this.#origin = target.socketPath ? 'null' : new URL(target.href).origin;
    this.#binaryType = options.binaryType ?? 'blob';
    this.#closeTimeout = options.closeTimeout ?? DEFAULT_TIMEOUT;
    this.#connect(target, list, options);
  }

  /** @internal builds the object for a connection a server has accepted. */
  static [kAccept](init: AcceptedSocketInit): WebSocket {
    constructingAccepted = init;
    return new WebSocket(init.url);
  }

  get url(): string {
    return this.#url;
  }
  get readyState(): number {
    return this.#readyState;
  }
  /** The subprotocol the server selected, or "". */
  get protocol(): string {
    return this.#protocol;
  }
  /** The extensions the server accepted (the `Sec-WebSocket-Extensions` answer), or "". */
  get extensions(): string {
    return this.#extensions;
  }
  /** Bytes passed to `send()` that have not yet been handed to the operating system. */
  get bufferedAmount(): number {
    const socket = this.#socket;
    const inSocket = socket && !socket.destroyed ? socket.writableLength : 0;
    return inSocket + this.#queuedBytes + this.#bufferedAfterClose;
  }
  get binaryType(): BinaryType {
    return this.#binaryType;
  }
  set binaryType(value: BinaryType) {
    // WebIDL enumerations ignore values outside the enumeration.
    if (value === 'blob' || value === 'arraybuffer' || value === 'nodebuffer')
      this.#binaryType = value;
  }

  get onopen(): Handler<WebSocketEvent> {
    return this.getHandler('open');
  }
  set onopen(fn: Handler<WebSocketEvent>) {
    this.setHandler('open', fn);
  }
  get onmessage(): Handler<MessageEvent> {
    return this.getHandler('message');
  }
  set onmessage(fn: Handler<MessageEvent>) {
    this.setHandler('message', fn);
  }
  get onerror(): Handler<ErrorEvent> {
    return this.getHandler('error');
  }
  set onerror(fn: Handler<ErrorEvent>) {
    this.setHandler('error', fn);
  }
  get onclose(): Handler<CloseEvent> {
    return this.getHandler('close');
  }
  set onclose(fn: Handler<CloseEvent>) {
    this.setHandler('close', fn);
  }

  override addEventListener(
    type: 'message',
    listener: Listener<MessageEvent> | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  override addEventListener(
    type: 'close',
    listener: Listener<CloseEvent> | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  override addEventListener(
    type: 'error',
    listener: Listener<ErrorEvent> | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: Listener<WebSocketEvent> | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: Listener<never> | null,
    options?: boolean | AddEventListenerOptions,
  ): void {
    super.addEventListener(type, listener, options);
  }

  /**
   * Sends a message: a string as text; an `ArrayBuffer`, a typed array, a `DataView` or a `Blob`
   * as binary. Throws `InvalidStateError` while connecting. After close has begun the data is
   * discarded and only counted in `bufferedAmount`, as the standard says.
   */
  send(data: WebSocketData): void {
    if (this.#readyState === CONNECTING)
      throw invalidState('send() was called before the connection opened');
    const engine = this.#engine!;
    if (this.#readyState !== OPEN || engine.closeSent) {
      this.#bufferedAfterClose += byteSize(data);
      return;
    }
    if (this.#sendQueue !== null || data instanceof Blob) {
      this.#enqueue(data);
      return;
    }
    if (typeof data === 'string') engine.sendText(data);
    else if (ArrayBuffer.isView(data))
      engine.sendBinary(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    else if (data instanceof ArrayBuffer || data instanceof SharedArrayBuffer)
      engine.sendBinary(new Uint8Array(data));
    else engine.sendText(String(data));
  }

  /**
   * Starts the closing handshake. `code` must be 1000 or 3000-4999 (`InvalidAccessError`
   * otherwise) and `reason` at most 123 UTF-8 bytes (`SyntaxError` otherwise).
   */
  close(code?: number, reason?: string): void {
    let wireCode: number | undefined;
    if (code !== undefined) {
      wireCode = clampUnsignedShort(code);
      if (wireCode !== 1000 && (wireCode < 3000 || wireCode > 4999)) {
        throw new DOMException(
          `close code ${wireCode} is not allowed: use 1000 or 3000-4999`,
          'InvalidAccessError',
        );
      }
    }
    const text = reason === undefined ? '' : toUSVString(String(reason));
    if (Buffer.byteLength(text) > 123) {
      throw new DOMException('close reason is longer than 123 UTF-8 bytes', 'SyntaxError');
    }
    this[kCloseWith](wireCode, text);
  }

  /** Sends a ping (Node extension); `data` is at most 125 bytes. A `pong` event answers it. */
  ping(data: string | ArrayBufferView | ArrayBuffer = ''): void {
    if (this.#readyState !== OPEN) throw invalidState('ping() needs an open connection');
    this.#engine!.ping(typeof data === 'string' ? data : toBytes(data));
  }

  /** Sends an unsolicited pong (Node extension), usable as a one-way heartbeat. */
  pong(data: string | ArrayBufferView | ArrayBuffer = ''): void {
    if (this.#readyState !== OPEN) throw invalidState('pong() needs an open connection');
    this.#engine!.pong(typeof data === 'string' ? data : toBytes(data));
  }

  /** Destroys the connection at once, without a closing handshake (Node extension); close is 1006. */
  terminate(): void {
    if (this.#readyState === CLOSED) return;
    if (this.#readyState === CONNECTING) {
      this.#abortHandshake?.(
        new ConnectionError(
          'ERR_WS_CONNECTION_CLOSED',
          'the connection was terminated before it opened',
        ),
      );
      return;
    }
    this.#readyState = CLOSING;
    this.#socket?.destroy();
  }

  /** @internal close with any code valid on the wire (servers send 1001). */
  [kCloseWith](code: number | undefined, reason: string): void {
    if (this.#readyState === CLOSING || this.#readyState === CLOSED) return;
    if (this.#readyState === CONNECTING) {
      // WHATWG: closing before the connection is established fails the connection.
      this.#readyState = CLOSING;
      this.#abortHandshake?.(
        new ConnectionError(
          'ERR_WS_CONNECTION_CLOSED',
          'close() was called before the connection was established',
        ),
      );
      return;
    }
    this.#readyState = CLOSING;
    this.#sendQueue = null;
    this.#queuedBytes = 0;
    this.#engine!.close(code, reason);
    this.#armCloseTimer();
  }

  /** @internal feeds bytes that arrived with the upgrade request. */
  [kFeed](head: Buffer): void {
    if (head.length > 0 && this.#engine) this.#engine.receive(head);
  }

  /** @internal writes a pre-encoded frame of `data` (broadcast), keeping order with `send()`. */
  [kSendRaw](frame: Uint8Array, data: WebSocketData): boolean {
    if (this.#readyState !== OPEN || this.#engine!.closeSent) return false;
    if (this.#sendQueue !== null) {
      this.#enqueue(data);
      return true;
    }
    return this.#engine!.sendRaw(frame);
  }

  // -- connection ------------------------------------------------------------------------------

  #connect(target: ConnectTarget, protocols: string[], options: WebSocketOptions): void {
    this.#abortHandshake = clientHandshake(
      target,
      {
        protocols,
        handshakeTimeout: options.handshakeTimeout ?? DEFAULT_TIMEOUT,
        ...(options.headers ? { headers: options.headers } : {}),
        ...(options.origin !== undefined ? { origin: options.origin } : {}),
        ...(options.tls ? { tls: options.tls } : {}),
        perMessageDeflate:
          options.perMessageDeflate === false
            ? null
            : options.perMessageDeflate === true || options.perMessageDeflate === undefined
              ? {}
              : options.perMessageDeflate,
      },
      (error, result) => {
        this.#abortHandshake = null;
        if (error || !result) {
          this.#readyState = CLOSED;
          this.#fireError(error ?? new WebSocketError('ERR_WS_UNKNOWN', 'the handshake failed'));
          this.#fireClose(CloseCode.Abnormal, '', false);
          return;
        }
        if (this.#readyState !== CONNECTING) {
          result.socket.destroy();
          return;
        }
        this.#protocol = result.protocol;
        this.#extensions = result.extensions;
        const deflateOptions =
          typeof options.perMessageDeflate === 'object' ? options.perMessageDeflate : {};
        const compressor = result.deflate
          ? new NodeDeflateCompressor(result.deflate, 'client', deflateOptions)
          : null;
        this.#attach(
          result.socket,
          'client',
          options.maxPayload ?? DEFAULT_MAX_PAYLOAD,
          compressor,
        );
        this.dispatchEvent(new WebSocketEvent('open'));
        if (result.rest.length > 0 && this.#engine) this.#engine.receive(result.rest);
      },
    );
  }

  #attach(
    socket: Socket,
    role: 'client' | 'server',
    maxPayload: number,
    compressor: MessageCompressor | null,
  ): void {
    this.#socket = socket;
    this.#readyState = OPEN;
    const sink: ProtocolSink = {
      write: (data) => {
        if (!socket.destroyed) socket.write(data);
      },
      writePair: (header, payload) => {
        if (socket.destroyed) return;
        socket.cork();
        socket.write(header);
        socket.write(payload);
        socket.uncork();
      },
      onMessage: (data, binary) => this.#onMessage(data, binary),
      onPing: (payload) => {
        if (this.hasListeners('ping'))
          this.dispatchEvent(new MessageEvent('ping', { data: toBuffer(payload) }));
      },
      onPong: (payload) => {
        if (this.hasListeners('pong'))
          this.dispatchEvent(new MessageEvent('pong', { data: toBuffer(payload) }));
      },
      onClose: (code, reason) => this.#onCloseFrame(code, reason),
      onError: (error) => this.#onProtocolError(error),
      pause: () => socket.pause(),
      resume: () => socket.resume(),
      onIdle: () => {
        // A close frame queued behind a compression has now been written.
        if (engine.done && role === 'server' && !socket.writableEnded) socket.end();
      },
    };
    const engine = new WebSocketProtocol(
      { role, maxPayload, platform: nodePlatform, ...(compressor ? { compressor } : {}) },
      sink,
    );
    if (compressor) socket.once('close', () => compressor.close());
    this.#engine = engine;
    socket.on('data', (chunk: Buffer) => engine.receive(chunk));
    socket.on('end', () => {
      // The peer will send nothing more; finish our side too (servers' sockets allow half-open).
      if (!socket.writableEnded) socket.end();
    });
    socket.on('error', (error) => {
      if (this.#failed || this.#readyState === CLOSED) return;
      // Errors after the closing handshake completed (a reset while lingering) change nothing.
      if (engine.done) return;
      this.#failed = true;
      this.#fireError(connectionErrorFrom(error, 'the connection'));
    });
    socket.on('close', () => this.#onSocketClosed());
  }

  #onMessage(data: Uint8Array, binary: boolean): void {
    // WHATWG: messages that arrive after close() was called are not delivered.
    if (this.#readyState !== OPEN || !this.hasListeners('message')) return;
    let value: unknown;
    if (!binary) value = nodePlatform.decode(data);
    else if (this.#binaryType === 'nodebuffer') value = toBuffer(data);
    else if (this.#binaryType === 'arraybuffer') value = toArrayBuffer(data);
    else value = new Blob([toArrayBuffer(data)]);
    this.dispatchEvent(new MessageEvent('message', { data: value, origin: this.#origin }));
  }

  #onCloseFrame(code: number, reason: string): void {
    this.#closeCode = code;
    this.#closeReason = reason;
    if (this.#readyState === OPEN) this.#readyState = CLOSING;
    this.#sendQueue = null;
    const socket = this.#socket!;
    // RFC 6455 section 7.1.1: the server closes the TCP connection first; a client waits for
    // it (closeTimeout bounds the wait).
    const engine = this.#engine!;
    if (engine.role === 'server' && engine.idle) socket.end();
    this.#armCloseTimer();
  }

  #onProtocolError(error: ProtocolError): void {
    // RFC 6455 section 7.1.7: after failing, close the connection without waiting for an answer.
    this.#failed = true;
    if (this.#readyState === OPEN) this.#readyState = CLOSING;
    this.#sendQueue = null;
    this.#fireError(error);
    this.#socket!.end();
    this.#armCloseTimer();
  }

  #onSocketClosed(): void {
    if (this.#closeTimer) {
      clearTimeout(this.#closeTimer);
      this.#closeTimer = null;
    }
    if (this.#readyState === CLOSED) return;
    this.#readyState = CLOSED;
    const engine = this.#engine!;
    const wasClean = !this.#failed && engine.closeSent && engine.closeReceived;
    // WHATWG / RFC 6455 section 7.1.5: without a close frame from the peer the code is 1006.
    const code = engine.closeReceived ? this.#closeCode : CloseCode.Abnormal;
    this.#fireClose(code, engine.closeReceived ? this.#closeReason : '', wasClean);
  }

  #armCloseTimer(): void {
    if (this.#closeTimer || this.#closeTimeout <= 0) return;
    const socket = this.#socket!;
    this.#closeTimer = setTimeout(() => socket.destroy(), this.#closeTimeout);
    this.#closeTimer.unref?.();
  }

  #fireError(error: WebSocketError): void {
    if (this.hasListeners('error'))
      this.dispatchEvent(new ErrorEvent('error', { error, message: error.message }));
  }

  #fireClose(code: number, reason: string, wasClean: boolean): void {
    if (this.hasListeners('close'))
      this.dispatchEvent(new CloseEvent('close', { code, reason, wasClean }));
  }

  // -- ordered sending of Blobs ----------------------------------------------------------------

  #enqueue(data: WebSocketData): void {
    const queue = this.#sendQueue ?? [];
    const first = this.#sendQueue === null;
    this.#sendQueue = queue;
    queue.push(data);
    this.#queuedBytes += byteSize(data);
    if (first) void this.#drainQueue(queue);
  }

  async #drainQueue(queue: WebSocketData[]): Promise<void> {
    while (queue.length > 0 && this.#sendQueue === queue) {
      const item = queue[0]!;
      const bytes: Uint8Array | string =
        item instanceof Blob
          ? new Uint8Array(await item.arrayBuffer())
          : typeof item === 'string'
            ? item
            : toBytes(item);
      if (this.#sendQueue !== queue) return;
      queue.shift();
      this.#queuedBytes -= byteSize(item);
      if (typeof bytes === 'string') this.#engine!.sendText(bytes);
      else this.#engine!.sendBinary(bytes);
    }
    if (this.#sendQueue === queue) this.#sendQueue = null;
  }
}

for (const [name, value] of [
  ['CONNECTING', CONNECTING],
  ['OPEN', OPEN],
  ['CLOSING', CLOSING],
  ['CLOSED', CLOSED],
] as const) {
  Object.defineProperty(WebSocket.prototype, name, { value, enumerable: true });
}

function toBytes(data: ArrayBufferLike | ArrayBufferView): Uint8Array {
  if (ArrayBuffer.isView(data))
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

function toBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.length);
}

function toArrayBuffer(data: Uint8Array): ArrayBuffer {
  const { buffer, byteOffset, length } = data;
  if (byteOffset === 0 && length === buffer.byteLength && buffer instanceof ArrayBuffer)
    return buffer;
  return buffer.slice(byteOffset, byteOffset + length) as ArrayBuffer;
}

function byteSize(data: WebSocketData): number {
  if (typeof data === 'string') return Buffer.byteLength(data);
  if (data instanceof Blob) return data.size;
  if (ArrayBuffer.isView(data)) return data.byteLength;
  if (data instanceof ArrayBuffer || data instanceof SharedArrayBuffer) return data.byteLength;
  return Buffer.byteLength(String(data));
}

/** WebIDL USVString: lone surrogates become U+FFFD. */
function toUSVString(text: string): string {
  return Buffer.from(text).toString();
}
