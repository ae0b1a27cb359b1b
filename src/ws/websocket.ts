import type { Buffer } from 'node:buffer';
import { EventEmitter } from 'node:events';
import type { ClientRequest, ClientRequestArgs } from 'node:http';
import type { Duplex } from 'node:stream';
import type { URL } from 'node:url';
import { openClient } from './client-handshake.js';
import { Connection } from './connection.js';
import { addListener, attributeOf, removeListener, setAttribute } from './event-target.js';
import type {
  CloseEvent,
  ErrorEvent,
  Event,
  EventListenerLike,
  EventListenerOptions,
  MessageEvent,
  WebSocketEventMap,
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
import {
  byteLengthOf,
  checkMask,
  controlPayload,
  EMPTY,
  isBlob,
  notOpen,
  type OutgoingCall,
  outgoingCall,
  toBuffer,
} from './send-args.js';
import type { createWebSocketStream as createWebSocketStreamOf } from './stream.js';
import {
  type BinaryType,
  type Callback,
  type ConnectionSettings,
  READY_STATES,
  type SendData,
  type SendOptions,
  type WebSocketEvents,
} from './types.js';
import type { WebSocketServer as WebSocketServerOf } from './websocket-server.js';

export type {
  BinaryType,
  ConnectionSettings,
  RawData,
  SendData,
  SendOptions,
  WebSocketEvents,
} from './types.js';

type ClientOptions = ClientOptionsOf;
/** What the server side takes (what `WebSocketServer` passes). */
type ServerSideOptions = { autoPong?: boolean; closeTimeout?: number };

const BINARY_TYPES: readonly BinaryType[] = ['nodebuffer', 'arraybuffer', 'fragments', 'blob'];
/** `ws`'s default: how long to wait for the peer's close frame or TCP close after ours. */
const CLOSE_TIMEOUT = 30_000;
const ATTRIBUTE_EVENTS = ['open', 'message', 'close', 'error'] as const;

/** A binary message as `binaryType` asks for it. */
function binaryMessage(
  data: Buffer,
  binaryType: BinaryType,
): Buffer | ArrayBuffer | Buffer[] | Blob {
  switch (binaryType) {
    case 'arraybuffer':
      return data.byteOffset === 0 && data.byteLength === data.buffer.byteLength
        ? (data.buffer as ArrayBuffer)
        : (data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer);
    case 'fragments':
      return [data];
    case 'blob':
      return new Blob([new Uint8Array(data)]);
    default:
      return data;
  }
}

/**
 * `ws`'s `WebSocket` on wskit's engine: an `EventEmitter` with `'open'`, `'message'(data,
 * isBinary)`, `'close'(code, reason)`, `'error'`, `'ping'`, `'pong'`, `'upgrade'`,
 * `'unexpected-response'` and `'redirect'`, plus `addEventListener` and the `on*` attributes.
 * Frames are parsed, validated and built by wskit's RFC 6455 engine (see `connection.ts`); this
 * class only carries `ws`'s calling conventions.
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
  /** `onopen`: the listener set by the attribute, or null. */
  declare onopen: ((event: Event) => void) | null;
  /** `onmessage`: the listener set by the attribute, or null. */
  declare onmessage: ((event: MessageEvent) => void) | null;
  /** `onclose`: the listener set by the attribute, or null. */
  declare onclose: ((event: CloseEvent) => void) | null;
  /** `onerror`: the listener set by the attribute, or null. */
  declare onerror: ((event: ErrorEvent) => void) | null;

  static {
    // The on* attributes, one accessor each over the same two helpers.
    for (const type of ATTRIBUTE_EVENTS) {
      // biome-ignore lint/complexity/noThisInStatic: the compiled static block runs before the class name is bound
      Object.defineProperty(this.prototype, `on${type}`, {
        configurable: true,
        enumerable: true,
        get(this: WebSocket) {
          return attributeOf(this, type);
        },
        set(this: WebSocket, listener: unknown) {
          setAttribute(this, type, listener, () => this.#wasClean);
        },
      });
    }
  }

  /** The connection's socket once open (`ws` exposes it under this name; so does wskit/ws). */
  _socket: Duplex | null = null;
  /** The client's pending handshake request. */
  _req: ClientRequest | null = null;
  /** Redirects followed so far. */
  _redirects = 0;

  /** Before the connection is open, and if the handshake fails. */
  #readyState: 0 | 1 | 2 | 3 = 0;
  #binaryType: BinaryType = 'nodebuffer';
  #url = '';
  #protocol = '';
  #extensions = '';
  #isServer: boolean;
  #autoPong = true;
  #closeTimeout = CLOSE_TIMEOUT;
  #paused = false;
  /** Bytes given to `send`, `ping` or `pong` once the connection was closing. */
  #refusedBytes = 0;
  #connection: Connection | null = null;

  /** A server-side socket (what `WebSocketServer` creates; `ws` has the same signature). */
  constructor(address: null, protocols?: undefined, options?: ServerSideOptions);
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
    options?: ClientOptions | ClientRequestArgs | ServerSideOptions,
  ) {
    super();
    this.#isServer = address === null;
    let list: string[] = [];
    if (Array.isArray(protocols)) list = protocols;
    else if (typeof protocols === 'object' && protocols !== null) options = protocols;
    else if (protocols !== undefined) list = [protocols];
    const o = (options ?? {}) as ServerSideOptions;
    this.#autoPong = o.autoPong ?? true;
    this.#closeTimeout = o.closeTimeout ?? CLOSE_TIMEOUT;
    if (address !== null) openClient(this, address, list, (options ?? {}) as ClientOptions);
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
    return (this.#connection?.bufferedAmount ?? 0) + this.#refusedBytes;
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
    return this.#connection?.state ?? this.#readyState;
  }

  /** The URL connected to (clients). */
  get url(): string {
    return this.#url;
  }

  /** The timer that destroys the socket if the closing handshake does not finish (as in ws). */
  get _closeTimer(): NodeJS.Timeout | null {
    return this.#connection?.closeTimer ?? null;
  }

  /** Closes the connection: sends a close frame, then waits up to the close timeout. */
  close(code?: number, data?: string | Buffer): void {
    if (this.readyState === WebSocket.CLOSED) return;
    if (this.readyState === WebSocket.CONNECTING) {
      this.#abortConnecting();
      return;
    }
    // Without a connection the handshake failed, and its close event is on its way.
    this.#connection?.close(code, data);
  }

  /** Stops reading from the socket; `message` events stop once buffered frames are delivered. */
  pause(): void {
    if (this.readyState === WebSocket.CONNECTING || this.readyState === WebSocket.CLOSED) return;
    this.#paused = true;
    this._socket?.pause();
  }

  /** Resumes reading after `pause()`. */
  resume(): void {
    if (this.readyState === WebSocket.CONNECTING || this.readyState === WebSocket.CLOSED) return;
    this.#paused = false;
    if (!this.#connection?.enginePaused) this._socket?.resume();
  }

  /** Sends a ping (at most 125 bytes); `mask` must match the side, as frames are masked by role. */
  ping(data?: SendData, mask?: boolean, cb?: Callback): void;
  ping(cb: Callback): void;
  ping(data?: SendData | Callback, mask?: boolean | Callback, cb?: Callback): void {
    this.#control('ping', outgoingCall(data, mask, cb, true));
  }

  /** Sends an unsolicited pong (at most 125 bytes). */
  pong(data?: SendData, mask?: boolean, cb?: Callback): void;
  pong(cb: Callback): void;
  pong(data?: SendData | Callback, mask?: boolean | Callback, cb?: Callback): void {
    this.#control('pong', outgoingCall(data, mask, cb, true));
  }

  /** Sends a message; `cb` is called once it has been written to the socket, or with an error. */
  send(data: SendData, cb?: Callback): void;
  send(data: SendData, options: SendOptions, cb?: Callback): void;
  send(data: SendData, options?: SendOptions | Callback, cb?: Callback): void {
    const call = outgoingCall(data, options, cb, false);
    const opts = call.second ?? {};
    const connection = this.#openConnection(call, opts.mask);
    if (connection === null) return;
    const given = call.data;
    const payload =
      typeof given === 'string' || isBlob(given) ? given : given == null ? EMPTY : toBuffer(given);
    const binary = opts.binary ?? typeof given !== 'string';
    connection.send(payload, binary, opts.compress ?? true, opts.fin ?? true, call.cb);
  }

  /** Destroys the socket at once, without a closing handshake. */
  terminate(): void {
    if (this.readyState === WebSocket.CLOSED) return;
    if (this.readyState === WebSocket.CONNECTING) this.#abortConnecting();
    else this.#connection?.terminate();
  }

  /** Adds a DOM-style listener for `open`, `message`, `close` or `error`. */
  addEventListener<K extends keyof WebSocketEventMap>(
    type: K,
    listener: EventListenerLike<WebSocketEventMap[K]>,
    options?: EventListenerOptions,
  ): void {
    addListener(this, type, listener as EventListenerLike<never>, {
      once: options?.once === true,
      attribute: false,
      wasClean: () => this.#wasClean,
    });
  }

  /** Removes a listener added with `addEventListener`. */
  removeEventListener<K extends keyof WebSocketEventMap>(
    type: K,
    listener: EventListenerLike<WebSocketEventMap[K]>,
  ): void {
    removeListener(this, type, listener);
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
    this._socket = socket;
    this.#connection = new Connection(
      socket,
      head,
      settings,
      {
        role: this.#isServer ? 'server' : 'client',
        autoPong: this.#autoPong,
        closeTimeout: this.#closeTimeout,
      },
      {
        message: (data, binary) =>
          (this.emit as (event: 'message', data: unknown, isBinary: boolean) => boolean)(
            'message',
            binary ? binaryMessage(data, this.#binaryType) : data,
            binary,
          ),
        ping: (data) => this.emit('ping', data),
        pong: (data) => this.emit('pong', data),
        error: (error) => this.emit('error', error),
        close: (code, reason) => this.emit('close', code, reason),
        refuse: (refused, cb) => this.#refuse(refused, cb),
        userPaused: () => this.#paused,
      },
    );
    this.emit('open');
  }

  /** The handshake failed: `error`, then `close`. */
  [kFailHandshake](error: Error): void {
    this.#readyState = WebSocket.CLOSING;
    this.emit('error', error);
    this.#handshakeClosed();
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
    stream.once('close', () => this.#handshakeClosed());
  }

  // -- internals ------------------------------------------------------------------------------

  get #wasClean(): boolean {
    return this.#connection?.wasClean ?? false;
  }

  #abortConnecting(): void {
    this[kAbortHandshake](this._req, 'WebSocket was closed before the connection was established');
  }

  /** A connection that never opened is closed: 1006 (RFC 6455 section 7.1.5). */
  #handshakeClosed(): void {
    this.#readyState = WebSocket.CLOSED;
    this.emit('close', 1006, EMPTY);
  }

  /**
   * What `send`, `ping` and `pong` share once their arguments are read: not before the
   * connection is open, data given once it is closing counted and its callback failed, `mask`
   * matching the side. Returns the connection to send on, or null when there is none.
   */
  #openConnection(call: OutgoingCall<unknown>, mask: boolean | undefined): Connection | null {
    if (this.readyState === WebSocket.CONNECTING) throw notOpen(0);
    if (this.readyState !== WebSocket.OPEN) {
      this.#refuse(call.data, call.cb);
      return null;
    }
    checkMask(mask, this.#isServer);
    return this.#connection;
  }

  #control(kind: 'ping' | 'pong', call: OutgoingCall<boolean>): void {
    const connection = this.#openConnection(call, call.second);
    if (connection !== null) connection.control(kind, controlPayload(call.data), call.cb);
  }

  #refuse(data: SendData | undefined, cb: Callback | undefined): void {
    this.#refusedBytes += byteLengthOf(data);
    if (cb) {
      const error = notOpen(this.readyState);
      process.nextTick(() => cb(error));
    }
  }
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
