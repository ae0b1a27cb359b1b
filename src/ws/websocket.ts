import { Buffer } from 'node:buffer';
import { EventEmitter } from 'node:events';
import type { ClientRequest, ClientRequestArgs, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { URL } from 'node:url';
import type { ProtocolError } from '../errors.js';
import type { NodeDeflateCompressor } from '../node/deflate/zlib-compressor.js';
import { nodePlatform } from '../node/node-platform.js';
import type { MessageCompressor } from '../protocol/extensions/message-compressor.js';
import type { Platform } from '../protocol/platform.js';
import { type ProtocolSink, type Role, WebSocketProtocol } from '../protocol/websocket-protocol.js';
import { openClient } from './client-handshake.js';
import { wsErrorOf } from './errors.js';
import {
  type CloseEvent,
  type ErrorEvent,
  type Event,
  type EventListenerLike,
  type EventListenerOptions,
  kForAttribute,
  kListener,
  type MessageEvent,
  type WebSocketEventMap,
  type WrappedListener,
  wrapListener,
} from './events.js';
import {
  kAborted,
  kAbortHandshake,
  kAccepted,
  kFailHandshake,
  kSetSocket,
  kSetUrl,
} from './internal.js';
import type {
  ClientOptions as ClientOptionsOf,
  FinishRequestCallback as FinishRequestCallbackOf,
  PerMessageDeflateOptions as PerMessageDeflateOptionsOf,
  ServerOptions as ServerOptionsOf,
  VerifyClientCallbackAsync as VerifyClientCallbackAsyncOf,
  VerifyClientCallbackSync as VerifyClientCallbackSyncOf,
} from './options.js';
import type { createWebSocketStream as createWebSocketStreamOf } from './stream.js';
import type { WebSocketServer as WebSocketServerOf } from './websocket-server.js';

type ClientOptions = ClientOptionsOf;

/** How binary messages are delivered: `Buffer` (default), `ArrayBuffer`, `Buffer[]` or `Blob`. */
export type BinaryType = 'nodebuffer' | 'arraybuffer' | 'fragments' | 'blob';
/** A received message as the `message` event gives it. */
export type RawData = Buffer | ArrayBuffer | Buffer[];
/** What `send` takes. */
export type SendData =
  | string
  | number
  | Buffer
  | ArrayBuffer
  | SharedArrayBuffer
  | ArrayBufferView
  | Blob
  | readonly number[]
  | readonly Uint8Array[];

/** Options of `send`. */
export interface SendOptions {
  /** Binary frame (default: true unless `data` is a string). */
  binary?: boolean | undefined;
  /** Allow compression when permessage-deflate is on (default true; the threshold still applies). */
  compress?: boolean | undefined;
  /** Last fragment of the message (default true). */
  fin?: boolean | undefined;
  /** Must match the side: clients mask, servers do not (RFC 6455 section 5.3). */
  mask?: boolean | undefined;
}

/** The events of a `wskit/ws` socket, with their arguments. */
export interface WebSocketEvents {
  open: [];
  message: [data: RawData, isBinary: boolean];
  close: [code: number, reason: Buffer];
  error: [error: Error];
  ping: [data: Buffer];
  pong: [data: Buffer];
  upgrade: [request: IncomingMessage];
  'unexpected-response': [request: ClientRequest, response: IncomingMessage];
  redirect: [url: string, request: ClientRequest];
}

/** Settings of one established connection. */
export interface ConnectionSettings {
  maxPayload: number;
  skipUTF8Validation: boolean;
  compressor: NodeDeflateCompressor | null;
}

type Callback = (error?: Error | null) => void;
/** An operation held behind a Blob being read, with its callback to fail if it never runs. */
interface Held {
  run: () => void;
  cb: Callback | undefined;
}

const READY_STATES = ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'] as const;
const BINARY_TYPES: readonly BinaryType[] = ['nodebuffer', 'arraybuffer', 'fragments', 'blob'];
const EMPTY = Buffer.alloc(0);
/** `ws`'s default: how long to wait for the peer's close frame or TCP close after ours. */
const CLOSE_TIMEOUT = 30_000;
const OPCODE_PING = 0x9;
const OPCODE_PONG = 0xa;
const OPCODE_CLOSE = 0x8;

/** `skipUTF8Validation`: the engine's platform with every UTF-8 check passing. */
const trustingPlatform: Platform = { ...nodePlatform, isUtf8: () => true };

function isBlob(value: unknown): value is Blob {
  return typeof Blob !== 'undefined' && value instanceof Blob;
}

/** ws's conversion of `send`/`ping` data to bytes. */
function toBuffer(data: Exclude<SendData, string | number | Blob>): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer || data instanceof SharedArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  // A message received with binaryType 'fragments' is sent back as its bytes.
  if (data.length > 0 && data.every((part) => part instanceof Uint8Array)) {
    return Buffer.concat(data as readonly Uint8Array[]);
  }
  return Buffer.from(data as readonly number[]);
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

function notOpen(readyState: number): Error {
  return new Error(
    `WebSocket is not open: readyState ${readyState} (${READY_STATES[readyState] ?? 'CLOSED'})`,
  );
}

/**
 * `ws`'s `WebSocket` on wskit's engine: an `EventEmitter` with `'open'`, `'message'(data,
 * isBinary)`, `'close'(code, reason)`, `'error'`, `'ping'`, `'pong'`, `'upgrade'`,
 * `'unexpected-response'` and `'redirect'`, plus `addEventListener` and the `on*` attributes.
 * Frames are parsed, validated and built by wskit's RFC 6455 engine; this class only carries
 * `ws`'s calling conventions.
 */
export class WebSocket extends EventEmitter<WebSocketEvents> {
  /** The class itself, as `ws` exports it (`const { WebSocket } = require('ws')`). */
  declare static WebSocket: typeof WebSocket;
  /** The server class (`ws`'s historical name). */
  declare static Server: typeof WebSocketServerOf;
  /** The server class. */
  declare static WebSocketServer: typeof WebSocketServerOf;
  /** A `Duplex` over a socket. */
  declare static createWebSocketStream: typeof createWebSocketStreamOf;
  /** readyState 0: the opening handshake is in progress. */
  declare static readonly CONNECTING: 0;
  /** readyState 1: messages flow. */
  declare static readonly OPEN: 1;
  /** readyState 2: the closing handshake is in progress. */
  declare static readonly CLOSING: 2;
  /** readyState 3: closed. */
  declare static readonly CLOSED: 3;
  declare readonly CONNECTING: 0;
  declare readonly OPEN: 1;
  declare readonly CLOSING: 2;
  declare readonly CLOSED: 3;

  /** The connection's socket once open (`ws` exposes it under this name; so does wskit/ws). */
  _socket: Duplex | null = null;
  /** The client's pending handshake request. */
  _req: ClientRequest | null = null;
  /** Redirects followed so far. */
  _redirects = 0;
  /** The timer that destroys the socket if the closing handshake does not finish (as in ws). */
  _closeTimer: NodeJS.Timeout | null = null;

  #readyState: 0 | 1 | 2 | 3 = 0;
  #binaryType: BinaryType = 'nodebuffer';
  #url = '';
  #protocol = '';
  #extensions = '';
  #isServer: boolean;
  #autoPong = true;
  #closeTimeout = CLOSE_TIMEOUT;
  #closeCode = 1006;
  #closeMessage: Buffer = EMPTY;
  #closeFrameReceived = false;
  #closeFrameSent = false;
  #errorEmitted = false;
  #paused = false;
  #enginePaused = false;
  #endWhenIdle = false;
  #bufferedAmount = 0;
  #engine: WebSocketProtocol | null = null;
  #compressor: NodeDeflateCompressor | null = null;
  /** Callbacks of data frames not yet handed to the socket, in send order. */
  #dataCallbacks: Array<Callback | undefined> = [];
  /** Byte counts of the same frames, for `bufferedAmount`. */
  #dataBytes: number[] = [];
  #pendingBytes = 0;
  /** Decompressions in flight; `close` waits for them so no received message is lost. */
  #inflating = 0;
  #closeWhenInflated = false;
  /** The callback of the control frame being written now. */
  #controlCallback: Callback | undefined;
  /** Operations waiting behind a Blob being read, to keep order; null when none is. */
  #held: Held[] | null = null;
  #onData = (chunk: Buffer) => {
    // Replies written while one chunk is handled (echoes, pongs) leave in one system call.
    const socket = this._socket!;
    socket.cork();
    this.#engine?.receive(chunk);
    socket.uncork();
  };

  /** A server-side socket (what `WebSocketServer` creates; `ws` has the same signature). */
  constructor(
    address: null,
    protocols?: undefined,
    options?: { autoPong?: boolean; closeTimeout?: number },
  );
  /** Connects to `address` (`ws:`, `wss:`, `http:`, `https:` or `ws+unix:`). */
  constructor(address: string | URL, options?: ClientOptions | ClientRequestArgs);
  constructor(
    address: string | URL,
    protocols?: string | string[],
    options?: ClientOptions | ClientRequestArgs,
  );
  constructor(
    address: string | URL | null,
    protocols?: string | string[] | ClientOptions | ClientRequestArgs,
    options?: ClientOptions | ClientRequestArgs | { autoPong?: boolean; closeTimeout?: number },
  ) {
    super();
    if (address === null) {
      this.#isServer = true;
      const o = (options ?? {}) as { autoPong?: boolean; closeTimeout?: number };
      this.#autoPong = o.autoPong ?? true;
      this.#closeTimeout = o.closeTimeout ?? CLOSE_TIMEOUT;
      return;
    }
    this.#isServer = false;
    let list: string[];
    if (protocols === undefined) list = [];
    else if (Array.isArray(protocols)) list = protocols;
    else if (typeof protocols === 'object' && protocols !== null) {
      options = protocols as ClientOptions;
      list = [];
    } else list = [protocols as string];
    const opts = (options ?? {}) as ClientOptions;
    this.#autoPong = opts.autoPong ?? true;
    this.#closeTimeout = opts.closeTimeout ?? CLOSE_TIMEOUT;
    openClient(this, address, list, opts);
  }

  /** How binary messages are delivered; `'nodebuffer'` by default, as in `ws`. */
  get binaryType(): BinaryType {
    return this.#binaryType;
  }

  set binaryType(type: BinaryType) {
    if (BINARY_TYPES.includes(type)) this.#binaryType = type;
  }

  /** Bytes given to `send` and not yet written to the network. */
  get bufferedAmount(): number {
    const socket = this._socket;
    if (socket === null) return this.#bufferedAmount;
    return socket.writableLength + this.#pendingBytes + this.#bufferedAmount;
  }

  /** The negotiated extensions (`'permessage-deflate'` or `''`). */
  get extensions(): string {
    return this.#extensions;
  }

  /** Whether `pause()` is in effect. */
  get isPaused(): boolean {
    return this.#paused;
  }

  /** The subprotocol the server chose. */
  get protocol(): string {
    return this.#protocol;
  }

  /** 0 CONNECTING, 1 OPEN, 2 CLOSING, 3 CLOSED. */
  get readyState(): 0 | 1 | 2 | 3 {
    return this.#readyState;
  }

  /** The URL connected to (clients). */
  get url(): string {
    return this.#url;
  }

  /** Closes the connection: sends a close frame, then waits up to the close timeout. */
  close(code?: number, data?: string | Buffer): void {
    if (this.#readyState === WebSocket.CLOSED) return;
    if (this.#readyState === WebSocket.CONNECTING) {
      this[kAbortHandshake](
        this._req,
        'WebSocket was closed before the connection was established',
      );
      return;
    }
    const engine = this.#engine!;
    if (this.#readyState === WebSocket.CLOSING) {
      if (this.#closeFrameSent && (this.#closeFrameReceived || engine.failed)) this.#end();
      return;
    }
    if (code !== undefined && (typeof code !== 'number' || !isValidStatusCode(code))) {
      throw new TypeError('First argument must be a valid error code number');
    }
    const reason = code === undefined || data === undefined ? '' : String(data);
    if (reason !== '' && Buffer.byteLength(reason) > 123) {
      throw new RangeError('The message must not be greater than 123 bytes');
    }
    this.#readyState = WebSocket.CLOSING;
    this.#whenReady(() => {
      if (engine.closeSent) return;
      engine.close(code, reason);
      this.#closeFrameSent = true;
      if (this.#closeFrameReceived || engine.failed) this.#end();
    });
    this.#setCloseTimer();
  }

  /** Stops reading from the socket; `message` events stop once buffered frames are delivered. */
  pause(): void {
    if (this.#readyState === WebSocket.CONNECTING || this.#readyState === WebSocket.CLOSED) return;
    this.#paused = true;
    this._socket?.pause();
  }

  /** Resumes reading after `pause()`. */
  resume(): void {
    if (this.#readyState === WebSocket.CONNECTING || this.#readyState === WebSocket.CLOSED) return;
    this.#paused = false;
    if (!this.#enginePaused) this._socket?.resume();
  }

  /** Sends a ping (at most 125 bytes); `mask` must match the side, as frames are masked by role. */
  ping(data?: SendData, mask?: boolean, cb?: Callback): void;
  ping(cb: Callback): void;
  ping(data?: SendData | Callback, mask?: boolean | Callback, cb?: Callback): void {
    this.#control(OPCODE_PING, data, mask, cb);
  }

  /** Sends an unsolicited pong (at most 125 bytes). */
  pong(data?: SendData, mask?: boolean, cb?: Callback): void;
  pong(cb: Callback): void;
  pong(data?: SendData | Callback, mask?: boolean | Callback, cb?: Callback): void {
    this.#control(OPCODE_PONG, data, mask, cb);
  }

  /** Sends a message; `cb` is called once it has been written to the socket, or with an error. */
  send(data: SendData, cb?: Callback): void;
  send(data: SendData, options: SendOptions, cb?: Callback): void;
  send(data: SendData, options?: SendOptions | Callback, cb?: Callback): void {
    if (this.#readyState === WebSocket.CONNECTING) throw notOpen(0);
    if (typeof options === 'function') {
      cb = options;
      options = {};
    }
    if (typeof data === 'number') data = data.toString();
    if (this.#readyState !== WebSocket.OPEN) {
      this.#sendAfterClose(data, cb);
      return;
    }
    const opts = options ?? {};
    this.#checkMask(opts.mask);
    const binary = opts.binary ?? typeof data !== 'string';
    const compress = opts.compress ?? true;
    const fin = opts.fin ?? true;
    if (isBlob(data)) {
      this.#sendBlob(data, binary, compress, fin, cb);
      return;
    }
    const payload = typeof data === 'string' ? data : data == null ? EMPTY : toBuffer(data);
    if (this.#held === null) this.#sendNow(payload, binary, compress, fin, cb);
    else this.#whenReady(() => this.#sendNow(payload, binary, compress, fin, cb), cb);
  }

  /** Destroys the socket at once, without a closing handshake. */
  terminate(): void {
    if (this.#readyState === WebSocket.CLOSED) return;
    if (this.#readyState === WebSocket.CONNECTING) {
      this[kAbortHandshake](
        this._req,
        'WebSocket was closed before the connection was established',
      );
      return;
    }
    if (this._socket) {
      this.#readyState = WebSocket.CLOSING;
      this._socket.destroy();
    }
  }

  /** Adds a DOM-style listener for `open`, `message`, `close` or `error`. */
  addEventListener<K extends keyof WebSocketEventMap>(
    type: K,
    listener: EventListenerLike<WebSocketEventMap[K]>,
    options?: EventListenerOptions,
  ): void {
    this.#addEventListener(type, listener, options?.once === true, false);
  }

  /** Removes a listener added with `addEventListener`. */
  removeEventListener<K extends keyof WebSocketEventMap>(
    type: K,
    listener: EventListenerLike<WebSocketEventMap[K]>,
  ): void {
    for (const wrapper of this.listeners(type as keyof WebSocketEvents) as unknown[]) {
      const w = wrapper as Partial<WrappedListener>;
      if (w[kListener] === listener && !w[kForAttribute]) {
        this.removeListener(type as 'open', wrapper as () => void);
        break;
      }
    }
  }

  /** `onopen`: the listener set by the attribute, or null. */
  get onopen(): ((event: Event) => void) | null {
    return this.#attribute('open') as ((event: Event) => void) | null;
  }
  set onopen(listener: ((event: Event) => void) | null) {
    this.#setAttribute('open', listener);
  }
  /** `onmessage`. */
  get onmessage(): ((event: MessageEvent) => void) | null {
    return this.#attribute('message') as ((event: MessageEvent) => void) | null;
  }
  set onmessage(listener: ((event: MessageEvent) => void) | null) {
    this.#setAttribute('message', listener);
  }
  /** `onclose`. */
  get onclose(): ((event: CloseEvent) => void) | null {
    return this.#attribute('close') as ((event: CloseEvent) => void) | null;
  }
  set onclose(listener: ((event: CloseEvent) => void) | null) {
    this.#setAttribute('close', listener);
  }
  /** `onerror`. */
  get onerror(): ((event: ErrorEvent) => void) | null {
    return this.#attribute('error') as ((event: ErrorEvent) => void) | null;
  }
  set onerror(listener: ((event: ErrorEvent) => void) | null) {
    this.#setAttribute('error', listener);
  }

  // -- internal hooks of the client handshake and the server ---------------------------------

  /** Sets the URL (client handshake). */
  [kSetUrl](url: string): void {
    this.#url = url;
  }

  /** Records what the handshake agreed (subprotocol, extensions). */
  [kAccepted](protocol: string, extensions: string): void {
    this.#protocol = protocol;
    this.#extensions = extensions;
  }

  /** Starts the connection on an upgraded socket. */
  [kSetSocket](socket: Duplex, head: Buffer, settings: ConnectionSettings): void {
    const role: Role = this.#isServer ? 'server' : 'client';
    this.#compressor = settings.compressor;
    this.#engine = new WebSocketProtocol(
      {
        role,
        maxPayload: settings.maxPayload,
        platform: settings.skipUTF8Validation ? trustingPlatform : nodePlatform,
        autoPong: this.#autoPong,
        ...(settings.compressor ? { compressor: this.#countInflations(settings.compressor) } : {}),
      },
      this.#sink(socket),
    );
    this._socket = socket;
    const s = socket as Duplex & { setTimeout?: (ms: number) => void; setNoDelay?: () => void };
    if (typeof s.setTimeout === 'function') s.setTimeout(0);
    if (typeof s.setNoDelay === 'function') s.setNoDelay();
    if (head.length > 0) socket.unshift(head);
    socket.on('close', this.#onSocketClose);
    socket.on('data', this.#onData);
    socket.on('end', this.#onSocketEnd);
    socket.on('error', this.#onSocketError);
    this.#readyState = WebSocket.OPEN;
    this.emit('open');
  }

  /** The handshake failed: `error`, then `close`. */
  [kFailHandshake](error: Error): void {
    this.#readyState = WebSocket.CLOSING;
    this.#errorEmitted = true;
    this.emit('error', error);
    this.#emitClose();
  }

  /** Aborts the handshake on the request or the upgraded socket, reporting `message`. */
  [kAbortHandshake](stream: ClientRequest | Duplex | null, message: string): void {
    this.#readyState = WebSocket.CLOSING;
    const error = new Error(message);
    Error.captureStackTrace(error, this[kAbortHandshake]);
    if (stream === null) {
      process.nextTick(() => this[kFailHandshake](error));
      return;
    }
    if ('setHeader' in stream) {
      (stream as ClientRequest & { [kAborted]?: boolean })[kAborted] = true;
      stream.destroy();
      if (stream.socket && !stream.socket.destroyed) stream.socket.destroy();
      process.nextTick(() => this[kFailHandshake](error));
      return;
    }
    stream.destroy(error);
    stream.once('error', (e: Error) => this.emit('error', e));
    stream.once('close', () => this.#emitClose());
  }

  // -- internals ------------------------------------------------------------------------------

  #sink(socket: Duplex): ProtocolSink {
    return {
      write: (data) => this.#write(socket, asBuffer(data)),
      writePair: (header, payload) => {
        socket.cork();
        socket.write(asBuffer(header));
        this.#write(socket, asBuffer(payload), header[0]!);
        socket.uncork();
      },
      onMessage: (data, binary) => this.#deliver(asBuffer(data), binary),
      onPing: (payload) => this.emit('ping', asBuffer(payload)),
      onPong: (payload) => this.emit('pong', asBuffer(payload)),
      onClose: (code, reason) => this.#receivedClose(code, reason),
      onError: (error) => this.#failed(error),
      pause: () => {
        this.#enginePaused = true;
        socket.pause();
      },
      resume: () => {
        this.#enginePaused = false;
        if (!this.#paused) socket.resume();
      },
      onIdle: () => {
        if (this.#endWhenIdle) {
          this.#endWhenIdle = false;
          socket.end();
        }
      },
    };
  }

  /** Writes one frame, with the callback of the send, ping, pong or close that made it. */
  #write(socket: Duplex, bytes: Buffer, firstByte = bytes[0]!): void {
    const opcode = firstByte & 0x0f;
    let cb: Callback | undefined;
    if (opcode < OPCODE_CLOSE) {
      cb = this.#dataCallbacks.shift();
      this.#pendingBytes -= this.#dataBytes.shift() ?? 0;
    } else if (opcode === OPCODE_PING || opcode === OPCODE_PONG) cb = this.#controlCallback;
    if (cb) socket.write(bytes, cb);
    else socket.write(bytes);
  }

  #deliver(data: Buffer, binary: boolean): void {
    if (!binary) {
      this.emit('message', data, false);
      return;
    }
    switch (this.#binaryType) {
      case 'arraybuffer':
        this.emit(
          'message',
          data.byteOffset === 0 && data.byteLength === data.buffer.byteLength
            ? (data.buffer as ArrayBuffer)
            : (data.buffer.slice(
                data.byteOffset,
                data.byteOffset + data.byteLength,
              ) as ArrayBuffer),
          true,
        );
        return;
      case 'fragments':
        this.emit('message', [data], true);
        return;
      case 'blob':
        (this.emit as (event: 'message', data: Blob, isBinary: boolean) => boolean)(
          'message',
          new Blob([new Uint8Array(data)]),
          true,
        );
        return;
      default:
        this.emit('message', data, true);
    }
  }

  #receivedClose(code: number, reason: string): void {
    this.#closeFrameReceived = true;
    this.#closeCode = code;
    this.#closeMessage = Buffer.from(reason);
    const socket = this._socket!;
    socket.removeListener('data', this.#onData);
    // Keep reading so the peer's TCP close is seen.
    process.nextTick(() => socket.resume());
    // The engine has answered with a close frame (RFC 6455 section 5.5.1).
    this.#closeFrameSent = true;
    if (this.#readyState === WebSocket.OPEN) {
      this.#readyState = WebSocket.CLOSING;
      this.#setCloseTimer();
    }
    this.#end();
  }

  #failed(error: ProtocolError): void {
    const socket = this._socket!;
    socket.removeListener('data', this.#onData);
    process.nextTick(() => socket.resume());
    this.#closeFrameSent = true;
    if (this.#readyState === WebSocket.OPEN) {
      this.#readyState = WebSocket.CLOSING;
      this.#setCloseTimer();
    }
    this.#end();
    if (!this.#errorEmitted) {
      this.#errorEmitted = true;
      this.emit('error', wsErrorOf(error));
    }
  }

  /** Ends the socket once every queued frame (the close frame last) has been written. */
  #end(): void {
    if (this.#engine === null || this.#engine.idle) this._socket?.end();
    else this.#endWhenIdle = true;
  }

  #setCloseTimer(): void {
    const socket = this._socket;
    if (socket === null || this._closeTimer !== null) return;
    this._closeTimer = setTimeout(() => socket.destroy(), this.#closeTimeout);
  }

  #onSocketClose = (): void => {
    const socket = this._socket!;
    socket.removeListener('close', this.#onSocketClose);
    socket.removeListener('data', this.#onData);
    socket.removeListener('end', this.#onSocketEnd);
    this.#readyState = WebSocket.CLOSING;
    const engine = this.#engine!;
    // Frames read but not delivered because the socket was paused still count.
    if (!this.#closeFrameReceived && !engine.done && socket.readableLength > 0) {
      const chunk = socket.read() as Buffer | null;
      if (chunk !== null) engine.receive(chunk);
    }
    if (this._closeTimer !== null) clearTimeout(this._closeTimer);
    if (this.#inflating > 0) this.#closeWhenInflated = true;
    else this.#emitClose();
  };

  #onSocketEnd = (): void => {
    this.#readyState = WebSocket.CLOSING;
    this._socket!.end();
  };

  #onSocketError = (): void => {
    const socket = this._socket!;
    socket.removeListener('error', this.#onSocketError);
    socket.on('error', () => {});
    this.#readyState = WebSocket.CLOSING;
    socket.destroy();
  };

  #emitClose(): void {
    this.#compressor?.close();
    const pending = this.#dataCallbacks;
    this.#dataCallbacks = [];
    this.#dataBytes = [];
    this.#pendingBytes = 0;
    if (pending.some((cb) => cb !== undefined)) {
      const error = new Error('The socket was closed while data was being compressed');
      for (const cb of pending) cb?.(error);
    }
    this.#readyState = WebSocket.CLOSED;
    this.emit('close', this.#closeCode, this.#closeMessage);
  }

  #sendAfterClose(data: SendData | undefined, cb: Callback | undefined): void {
    if (data !== undefined && data !== null && data !== '') {
      const length = isBlob(data)
        ? data.size
        : typeof data === 'string'
          ? Buffer.byteLength(data)
          : toBuffer(data as Buffer).length;
      this.#bufferedAmount += length;
    }
    if (cb) {
      const error = notOpen(this.#readyState);
      process.nextTick(() => cb(error));
    }
  }

  #checkMask(mask: boolean | undefined): void {
    if (mask !== undefined && mask !== !this.#isServer) {
      throw new TypeError(
        `mask: ${mask} is not supported: ${this.#isServer ? 'a server never masks' : 'a client always masks'} its frames (RFC 6455 section 5.3)`,
      );
    }
  }

  #sendNow(
    payload: string | Buffer,
    binary: boolean,
    compress: boolean,
    fin: boolean,
    cb: Callback | undefined,
  ): void {
    const engine = this.#engine!;
    if (engine.closeSent) {
      this.#sendAfterClose(payload, cb);
      return;
    }
    const bytes = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
    this.#dataCallbacks.push(cb);
    this.#dataBytes.push(bytes);
    this.#pendingBytes += bytes;
    try {
      if (!fin || engine.fragmentedSendOpen) engine.sendFragment(payload, binary, fin);
      else if (binary) engine.sendBinary(payload, compress);
      else engine.sendText(payload, compress);
    } catch (error) {
      this.#dataCallbacks.pop();
      this.#pendingBytes -= this.#dataBytes.pop() ?? 0;
      throw error;
    }
  }

  #sendBlob(
    blob: Blob,
    binary: boolean,
    compress: boolean,
    fin: boolean,
    cb: Callback | undefined,
  ): void {
    this.#whenReady(() => {
      // Everything sent after a Blob waits for it to be read, as in ws.
      const held: Held[] = [];
      this.#held = held;
      this.#pendingBytes += blob.size;
      const socket = this._socket!;
      const failAll = (error: Error) => {
        cb?.(error);
        for (const h of held) h.cb?.(error);
      };
      blob.arrayBuffer().then(
        (buffer) => {
          this.#pendingBytes -= blob.size;
          if (socket.destroyed) {
            const error = new Error('The socket was closed while the blob was being read');
            process.nextTick(failAll, error);
            return;
          }
          this.#held = null;
          this.#sendNow(Buffer.from(buffer), binary, compress, fin, cb);
          this.#release(held);
        },
        (error: Error) => {
          this.#pendingBytes -= blob.size;
          process.nextTick(() => {
            failAll(error);
            this.#sendFailed(error);
          });
        },
      );
    }, cb);
  }

  /** A message could not be sent (its Blob could not be read): the connection is closed. */
  #sendFailed(error: Error): void {
    if (this.#readyState === WebSocket.CLOSED) return;
    if (this.#readyState === WebSocket.OPEN) {
      this.#readyState = WebSocket.CLOSING;
      this.#setCloseTimer();
    }
    this._socket?.end();
    if (!this.#errorEmitted) {
      this.#errorEmitted = true;
      this.emit('error', error);
    }
  }

  /** Runs operations held behind a Blob, until the next Blob holds the rest again. */
  #release(held: Held[]): void {
    while (held.length > 0) {
      const next = held.shift()!;
      next.run();
      if (this.#held !== null) {
        this.#held.push(...held);
        return;
      }
    }
  }

  /** Runs `operation` now, or after the Blob being read, to keep `ws`'s order of sends. */
  #whenReady(operation: () => void, cb?: Callback): void {
    if (this.#held === null) operation();
    else this.#held.push({ run: operation, cb });
  }

  /** Counts decompressions in flight so that `close` follows every message received. */
  #countInflations(compressor: NodeDeflateCompressor): MessageCompressor {
    return {
      threshold: compressor.threshold,
      compress: (data, callback) => compressor.compress(data, callback),
      decompress: (data, maxBytes, callback) => {
        this.#inflating++;
        compressor.decompress(data, maxBytes, (error, result) => {
          this.#inflating--;
          try {
            callback(error, result);
          } finally {
            if (this.#inflating === 0 && this.#closeWhenInflated) {
              this.#closeWhenInflated = false;
              this.#emitClose();
            }
          }
        });
      },
      close: () => compressor.close(),
    };
  }

  #control(
    opcode: number,
    data: SendData | Callback | undefined,
    mask: boolean | Callback | undefined,
    cb: Callback | undefined,
  ): void {
    if (this.#readyState === WebSocket.CONNECTING) throw notOpen(0);
    if (typeof data === 'function') {
      cb = data;
      data = undefined;
      mask = undefined;
    } else if (typeof mask === 'function') {
      cb = mask;
      mask = undefined;
    }
    if (typeof data === 'number') data = data.toString();
    if (this.#readyState !== WebSocket.OPEN) {
      this.#sendAfterClose(data, cb);
      return;
    }
    this.#checkMask(mask);
    if (isBlob(data)) {
      throw new TypeError('ping and pong data must be a string or bytes, not a Blob');
    }
    const payload =
      data === undefined || data === null || data === ''
        ? EMPTY
        : typeof data === 'string'
          ? Buffer.from(data)
          : toBuffer(data);
    if (payload.length > 125) {
      throw new RangeError('The data size must not be greater than 125 bytes');
    }
    this.#whenReady(() => {
      const engine = this.#engine!;
      if (engine.closeSent) {
        this.#sendAfterClose(payload, cb);
        return;
      }
      this.#controlCallback = cb;
      try {
        if (opcode === OPCODE_PING) engine.ping(payload);
        else engine.pong(payload);
      } finally {
        this.#controlCallback = undefined;
      }
    }, cb);
  }

  #addEventListener(
    type: string,
    listener: EventListenerLike<never>,
    once: boolean,
    attribute: boolean,
  ): void {
    if (!attribute) {
      for (const existing of this.listeners(type as keyof WebSocketEvents) as unknown[]) {
        const w = existing as Partial<WrappedListener>;
        if (w[kListener] === listener && !w[kForAttribute]) return;
      }
    }
    const wrapper = wrapListener(
      this,
      type,
      listener,
      () => this.#closeFrameReceived && this.#closeFrameSent,
    ) as WrappedListener | null;
    if (wrapper === null) return;
    wrapper[kListener] = listener;
    wrapper[kForAttribute] = attribute;
    if (once) this.once(type as 'open', wrapper as () => void);
    else this.on(type as 'open', wrapper as () => void);
  }

  #attribute(type: keyof WebSocketEventMap): unknown {
    for (const wrapper of this.listeners(type) as unknown[]) {
      const w = wrapper as Partial<WrappedListener>;
      if (w[kForAttribute]) return w[kListener];
    }
    return null;
  }

  #setAttribute(type: keyof WebSocketEventMap, listener: unknown): void {
    for (const wrapper of this.listeners(type) as unknown[]) {
      if ((wrapper as Partial<WrappedListener>)[kForAttribute]) {
        this.removeListener(type as 'open', wrapper as () => void);
        break;
      }
    }
    if (typeof listener !== 'function') return;
    this.#addEventListener(type, listener as EventListenerLike<never>, false, true);
  }
}

/** Close codes an application may send (`ws`'s rule; RFC 6455 section 7.4). */
function isValidStatusCode(code: number): boolean {
  return (
    (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) ||
    (code >= 3000 && code <= 4999)
  );
}

// Enumerable and read-only on the class and its prototype, as in ws.
for (const [index, name] of READY_STATES.entries()) {
  Object.defineProperty(WebSocket, name, { enumerable: true, value: index });
  Object.defineProperty(WebSocket.prototype, name, { enumerable: true, value: index });
}

for (const name of [
  'binaryType',
  'bufferedAmount',
  'extensions',
  'isPaused',
  'protocol',
  'readyState',
  'url',
  'onopen',
  'onmessage',
  'onclose',
  'onerror',
]) {
  const descriptor = Object.getOwnPropertyDescriptor(WebSocket.prototype, name);
  if (descriptor)
    Object.defineProperty(WebSocket.prototype, name, { ...descriptor, enumerable: true });
}

/** `ws`'s type names, reachable as `WebSocket.RawData`, `WebSocket.ServerOptions`, ... */
export declare namespace WebSocket {
  /** What a `'message'` listener receives, by `binaryType`. */
  type RawData = Buffer | ArrayBuffer | Buffer[];
  /** Any message data `ws` hands out. */
  type Data = string | Buffer | ArrayBuffer | Buffer[];
  /** Options of `new WebSocket(address, protocols, options)`. */
  type ClientOptions = ClientOptionsOf;
  /** permessage-deflate settings, as `ws` spells them. */
  type PerMessageDeflateOptions = PerMessageDeflateOptionsOf;
  /** Options of `new WebSocketServer(options)`. */
  type ServerOptions = ServerOptionsOf;
  /** The synchronous form of `verifyClient`. */
  type VerifyClientCallbackSync = VerifyClientCallbackSyncOf;
  /** The callback form of `verifyClient`. */
  type VerifyClientCallbackAsync = VerifyClientCallbackAsyncOf;
  /** `finishRequest`: last look at the upgrade request before it is sent. */
  type FinishRequestCallback = FinishRequestCallbackOf;
  /** `WebSocket.Server`, the server class. */
  type Server = WebSocketServerOf;
  /** The server class. */
  type WebSocketServer = WebSocketServerOf;
  /** The event of `onopen`. */
  type Event = import('./events.js').Event;
  /** The event of `onclose`. */
  type CloseEvent = import('./events.js').CloseEvent;
  /** The event of `onerror`. */
  type ErrorEvent = import('./events.js').ErrorEvent;
  /** The event of `onmessage`. */
  type MessageEvent = import('./events.js').MessageEvent;
}
