import { Buffer } from 'node:buffer';
import type { Socket } from 'node:net';
import { ConnectionError, type ProtocolError, WebSocketError } from '../errors.js';
import { CloseCode, isValidWireCloseCode } from '../protocol/close-codes.js';
import type { MessageCompressor } from '../protocol/extensions/message-compressor.js';
import { isToken } from '../protocol/http-tokens.js';
import {
  DEFAULT_MAX_PAYLOAD,
  type ProtocolSink,
  WebSocketProtocol,
} from '../protocol/websocket-protocol.js';
import {
  CloseEvent,
  ErrorEvent,
  type Listener,
  type ListenerOptions,
  MessageEvent,
  WebSocketEvent,
  WebSocketEventTarget,
} from '../web/events.js';
import { type ConnectTarget, parseWebSocketUrl } from '../web/url.js';
import {
  buildRequest,
  type ClientHandshakeOptions,
  type ClientTlsOptions,
  clientHandshake,
} from './client-handshake.js';
import {
  checkDeflateOptions,
  NodeDeflateCompressor,
  type PerMessageDeflateOptions,
} from './deflate/zlib-compressor.js';
import { connectionErrorFrom } from './error-map.js';
import { nodePlatform } from './node-platform.js';

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
  /** HTTP(S) proxy URL for a CONNECT tunnel; false for none. Default: HTTPS_PROXY / HTTP_PROXY / NO_PROXY. */
  proxy?: string | false;
  /** Follow HTTP redirects of the handshake (default false); never from wss: to ws:. */
  followRedirects?: boolean;
  /** Most redirects to follow (default 10). */
  maxRedirects?: number;
  /** Reconnect after connection failures and unexpected closes: true for defaults, or settings. */
  reconnect?: boolean | ReconnectOptions;
  /** Ping the peer periodically and drop the connection when no pong answers in time. */
  heartbeat?: HeartbeatOptions;
}

/** Automatic reconnection (the `reconnect` option). */
export interface ReconnectOptions {
  /** Delay before the first retry, in ms (default 500). */
  minDelay?: number;
  /** Longest delay between retries, in ms (default 30000). */
  maxDelay?: number;
  /** Growth of the delay per failed attempt (default 2). */
  factor?: number;
  /** Fraction of each delay that is randomised, 0-1 (default 0.5): spreads reconnect storms. */
  jitter?: number;
  /** Retries before giving up (default: unlimited). */
  maxRetries?: number;
  /** Messages `send()` may queue while disconnected (default 1000); beyond, send throws. */
  queueLimit?: number;
  /** Close codes after which no retry is made, in addition to 1008 (policy violation). */
  stopCodes?: readonly number[];
}

/** Keep-alive pings (the `heartbeat` option, for clients and servers). */
export interface HeartbeatOptions {
  /** Milliseconds between pings. */
  interval: number;
  /** Milliseconds to wait for the pong before the peer is declared dead (default: `interval`). */
  timeout?: number;
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
  heartbeat: HeartbeatOptions | null;
}

/** @internal hooks shared with the server; not exported from the package. */
export const kAccept = Symbol('wskit.accept');
/** @internal */
export const kFeed = Symbol('wskit.feed');
/** @internal */
export const kSendRaw = Symbol('wskit.sendRaw');
/** @internal */
export const kCloseWith = Symbol('wskit.closeWith');
/** @internal set by streams: keep delivering messages after close() until the peer closes. */
export const kReadWhileClosing = Symbol('wskit.readWhileClosing');
/** @internal calls back once the socket's write buffer has drained. */
export const kOnDrain = Symbol('wskit.onDrain');
/** @internal set by the server that tracks the socket: called once it is closed for good. */
export const kOnClosed = Symbol('wskit.onClosed');

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

const DEFAULT_TIMEOUT = 30_000;
const NO_OPTIONS: WebSocketOptions = Object.freeze({});
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

/** Private members of WebSocket that a connection's sink calls (set in a static block). */
interface ConnectionHooks {
  message(ws: WebSocket, data: Uint8Array, binary: boolean): void;
  ping(ws: WebSocket, payload: Uint8Array): void;
  pong(ws: WebSocket, payload: Uint8Array): void;
  closeFrame(ws: WebSocket, code: number, reason: string): void;
  protocolError(ws: WebSocket, error: ProtocolError): void;
  socketError(ws: WebSocket, connection: Connection, error: Error): void;
  socketClosed(ws: WebSocket, connection: Connection): void;
}
let hooks: ConnectionHooks;

/** Fired before each reconnection attempt (the `reconnecting` event). */
export class ReconnectEvent extends WebSocketEvent {
  /** 1 for the first retry after a loss, counting up until a connection opens. */
  readonly attempt: number;
  /** Milliseconds until the attempt starts. */
  readonly delay: number;
  /** What ended the previous connection or attempt, when it was an error. */
  readonly error: WebSocketError | undefined;

  constructor(
    type: string,
    init: { attempt: number; delay: number; error?: WebSocketError | undefined },
  ) {
    super(type);
    this.attempt = init.attempt;
    this.delay = init.delay;
    this.error = init.error;
  }
}

interface ResolvedReconnect {
  minDelay: number;
  maxDelay: number;
  factor: number;
  jitter: number;
  maxRetries: number;
  queueLimit: number;
  stopCodes: Set<number>;
}

function resolveReconnect(option: WebSocketOptions['reconnect']): ResolvedReconnect | null {
  if (!option) return null;
  const o = option === true ? {} : option;
  const r: ResolvedReconnect = {
    minDelay: o.minDelay ?? 500,
    maxDelay: o.maxDelay ?? 30_000,
    factor: o.factor ?? 2,
    jitter: o.jitter ?? 0.5,
    maxRetries: o.maxRetries ?? Number.POSITIVE_INFINITY,
    queueLimit: o.queueLimit ?? 1000,
    stopCodes: new Set([CloseCode.PolicyViolation, ...(o.stopCodes ?? [])]),
  };
  if (
    !(r.minDelay >= 0) ||
    !(r.maxDelay >= r.minDelay) ||
    !(r.factor >= 1) ||
    !(r.jitter >= 0 && r.jitter <= 1)
  ) {
    throw new TypeError(
      'reconnect: need 0 <= minDelay <= maxDelay, factor >= 1 and 0 <= jitter <= 1',
    );
  }
  return r;
}

function checkHeartbeat(option: HeartbeatOptions | undefined): HeartbeatOptions | null {
  if (!option) return null;
  if (!(option.interval > 0) || (option.timeout !== undefined && !(option.timeout > 0))) {
    throw new TypeError('heartbeat: interval and timeout must be positive numbers of milliseconds');
  }
  return option;
}

/**
 * The WHATWG `WebSocket` for Node: the interface of browsers, Deno, Bun and Node 22, running on
 * wskit's RFC 6455 engine, with an options bag for what a server-side runtime needs. Sockets a
 * `WebSocketServer` accepts are instances of this class too.
 *
 * With the `reconnect` option the same object survives connection losses: after an unexpected
 * close it goes back to CONNECTING, fires `reconnecting` before each attempt and `open` on each
 * success, and `send()` queues messages (in order, bounded) while disconnected.
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
  #closeTimeout: number;
  #heartbeat: HeartbeatOptions | null;
  #bufferedAfterClose = 0;
  #serverSide = false;

  // Client connection settings, kept for reconnection.
  #target: ConnectTarget | null = null;
  #handshake: ClientHandshakeOptions | null = null;
  #options: WebSocketOptions = {};
  #reconnect: ResolvedReconnect | null = null;
  #attempt = 0;
  #retryTimer: NodeJS.Timeout | null = null;
  #userClosed = false;
  #pending: WebSocketData[] = [];
  #pendingBytes = 0;

  // The current connection.
  #socket: Socket | null = null;
  #engine: WebSocketProtocol | null = null;
  #abortHandshake: ((reason: WebSocketError) => void) | null = null;
  #closeTimer: NodeJS.Timeout | null = null;
  #pingTimer: NodeJS.Timeout | null = null;
  #pongTimer: NodeJS.Timeout | null = null;
  #closeCode: number = CloseCode.Abnormal;
  #closeReason = '';
  #failed = false;
  #lastError: WebSocketError | undefined;
  #sendQueue: WebSocketData[] | null = null;
  #queuedBytes = 0;

  /**
   * Opens a connection to `url` (`ws:`, `wss:`, `http:`, `https:` or `ws+unix:`), offering
   * `protocols` as subprotocols. Throws a `SyntaxError` DOMException for a bad URL or protocol
   * list, and a TypeError for invalid options (such as a header with a line break).
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
      this.#serverSide = true;
      this.#url = accepted.url;
      this.#origin = '';
      this.#binaryType = accepted.binaryType;
      this.#closeTimeout = accepted.closeTimeout;
      this.#heartbeat = accepted.heartbeat;
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
      // Subprotocol names compare case-insensitively for duplicates (as browsers check them).
      const lower = p.toLowerCase();
      if (list.findIndex((q) => q.toLowerCase() === lower) !== i)
        throw new DOMException(`subprotocol "${p}" is listed twice`, 'SyntaxError');
    }
    this.#url = target.href;
    this.#origin = target.socketPath ? 'null' : new URL(target.href).origin;
    this.#binaryType = options.binaryType ?? 'blob';
    this.#closeTimeout = options.closeTimeout ?? DEFAULT_TIMEOUT;
    this.#heartbeat = checkHeartbeat(options.heartbeat);
    if (typeof options.perMessageDeflate === 'object')
      checkDeflateOptions(options.perMessageDeflate);
    this.#reconnect = resolveReconnect(options.reconnect);
    this.#options = options;
    this.#target = target;
    this.#handshake = {
      protocols: list,
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
      ...(options.proxy !== undefined ? { proxy: options.proxy } : {}),
      followRedirects: options.followRedirects === true,
      maxRedirects: options.maxRedirects ?? 10,
    };
    // Invalid headers or extension settings are the caller's mistake: report them now.
    buildRequest(
      target,
      this.#handshake,
      'AAAAAAAAAAAAAAAAAAAAAA==',
      this.#handshake.headers ?? {},
    );
    this.#connect();
  }

  /**
   * Connects and resolves with the open socket, or rejects with the typed error that made the
   * connection fail (Node extension). With `reconnect`, it resolves on the first open.
   */
  static connect(
    url: string | URL,
    options: WebSocketOptions & { protocols?: string | readonly string[] } = {},
  ): Promise<WebSocket> {
    return new Promise((resolve, reject) => {
      let ws: WebSocket;
      try {
        ws = new WebSocket(url, options.protocols, options);
      } catch (error) {
        reject(error);
        return;
      }
      let lastError: unknown;
      const onError = (event: ErrorEvent) => {
        lastError = event.error;
      };
      ws.addEventListener('error', onError);
      ws.addEventListener(
        'open',
        () => {
          ws.removeEventListener('error', onError);
          resolve(ws);
        },
        { once: true },
      );
      ws.addEventListener(
        'close',
        (event: CloseEvent) => {
          if (ws.readyState !== CLOSED) return;
          ws.removeEventListener('error', onError);
          reject(
            lastError ??
              new ConnectionError(
                'ERR_WS_CONNECTION_CLOSED',
                `the connection closed with ${event.code} before it opened`,
              ),
          );
        },
        { once: true },
      );
    });
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
  /**
   * Bytes passed to `send()` that have not yet been handed to the operating system (frame
   * headers included), plus messages queued while reconnecting.
   */
  get bufferedAmount(): number {
    const socket = this.#socket;
    const inSocket = socket && !socket.destroyed ? socket.writableLength : 0;
    return inSocket + this.#queuedBytes + this.#pendingBytes + this.#bufferedAfterClose;
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
  get onerror(): Handler<ErrorEvent<WebSocketError>> {
    return this.getHandler('error');
  }
  set onerror(fn: Handler<ErrorEvent<WebSocketError>>) {
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
    options?: boolean | ListenerOptions,
  ): void;
  override addEventListener(
    type: 'close',
    listener: Listener<CloseEvent> | null,
    options?: boolean | ListenerOptions,
  ): void;
  override addEventListener(
    type: 'error',
    listener: Listener<ErrorEvent<WebSocketError>> | null,
    options?: boolean | ListenerOptions,
  ): void;
  override addEventListener(
    type: 'open',
    listener: Listener<WebSocketEvent> | null,
    options?: boolean | ListenerOptions,
  ): void;
  override addEventListener(
    type: 'ping' | 'pong',
    listener: Listener<MessageEvent<Buffer>> | null,
    options?: boolean | ListenerOptions,
  ): void;
  override addEventListener(
    type: 'reconnecting',
    listener: Listener<ReconnectEvent> | null,
    options?: boolean | ListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: Listener<WebSocketEvent> | null,
    options?: boolean | ListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: Listener<never> | null,
    options?: boolean | ListenerOptions,
  ): void {
    super.addEventListener(type, listener, options);
  }

  /**
   * Sends a message: a string as text; an `ArrayBuffer`, a typed array, a `DataView` or a `Blob`
   * as binary. Throws `InvalidStateError` while connecting (with `reconnect`, the message is
   * queued instead, and a full queue throws `ERR_WS_QUEUE_FULL`). After close has begun the
   * data is discarded and only counted in `bufferedAmount`, as the standard says.
   */
  send(data: WebSocketData): void {
    if (this.#readyState === CONNECTING) {
      const reconnect = this.#reconnect;
      if (!reconnect) throw invalidState('send() was called before the connection opened');
      if (this.#pending.length >= reconnect.queueLimit) {
        throw new WebSocketError(
          'ERR_WS_QUEUE_FULL',
          `the reconnect queue is full (${reconnect.queueLimit} messages): wait for the connection or raise reconnect.queueLimit`,
        );
      }
      this.#pending.push(data);
      this.#pendingBytes += byteSize(data);
      return;
    }
    const engine = this.#engine;
    if (this.#readyState !== OPEN || engine === null || engine.closeSent) {
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
   * otherwise; sockets a server accepted may use any code valid on the wire, such as 1001 or
   * 1008) and `reason` at most 123 UTF-8 bytes (`SyntaxError` otherwise). A reason without a
   * code is sent with 1000. Stops reconnection.
   */
  close(code?: number, reason?: string): void {
    let wireCode: number | undefined;
    if (code !== undefined) {
      wireCode = clampUnsignedShort(code);
      // Server-side sockets may also send the codes servers need (1001, 1008, 1011, ...).
      const allowed = this.#serverSide
        ? isValidWireCloseCode(wireCode)
        : wireCode === 1000 || (wireCode >= 3000 && wireCode <= 4999);
      if (!allowed) {
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
    // WHATWG: a reason without a code is sent with 1000.
    if (wireCode === undefined && text !== '') wireCode = CloseCode.Normal;
    this.#userClosed = true;
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

  /** Stops reading from the connection (Node extension): flow control for slow consumers. */
  pause(): void {
    this.#socket?.pause();
  }

  /** Resumes reading after {@link pause}. */
  resume(): void {
    this.#socket?.resume();
  }

  /** Destroys the connection at once, without a closing handshake (Node extension); close is 1006. */
  terminate(): void {
    this.#userClosed = true;
    this.#drop();
  }

  /**
   * Iterates over incoming messages (Node extension): `for await (const data of ws)`. Ends when
   * the connection closes cleanly; throws the typed error when it fails. Reading pauses while
   * more than 64 messages wait for the loop.
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<unknown> {
    const buffered: unknown[] = [];
    let waiting: {
      resolve: (r: IteratorResult<unknown>) => void;
      reject: (e: unknown) => void;
    } | null = null;
    let ended = false;
    let failure: unknown;
    let paused = false;
    const onMessage = (event: MessageEvent) => {
      if (waiting) {
        const w = waiting;
        waiting = null;
        w.resolve({ value: event.data, done: false });
        return;
      }
      buffered.push(event.data);
      if (buffered.length > 64 && !paused) {
        paused = true;
        this.pause();
      }
    };
    const onError = (event: ErrorEvent) => {
      failure ??= event.error;
    };
    const onClose = (event: CloseEvent) => {
      if (this.#readyState !== CLOSED) return;
      ended = true;
      if (!event.wasClean && failure === undefined && event.code === CloseCode.Abnormal) {
        failure = new ConnectionError(
          'ERR_WS_CONNECTION_CLOSED',
          'the connection closed without a closing handshake (1006)',
        );
      }
      cleanup();
      if (waiting) {
        const w = waiting;
        waiting = null;
        if (failure !== undefined) w.reject(failure);
        else w.resolve({ value: undefined, done: true });
      }
    };
    const cleanup = () => {
      this.removeEventListener('message', onMessage);
      this.removeEventListener('error', onError);
      this.removeEventListener('close', onClose);
    };
    this.addEventListener('message', onMessage);
    this.addEventListener('error', onError);
    this.addEventListener('close', onClose);
    if (this.#readyState === CLOSED) ended = true;
    const iterator: AsyncIterableIterator<unknown> = {
      next: () => {
        if (buffered.length > 0) {
          const value = buffered.shift();
          if (paused && buffered.length <= 16) {
            paused = false;
            this.resume();
          }
          return Promise.resolve({ value, done: false });
        }
        if (ended) {
          if (failure !== undefined) {
            const f = failure;
            failure = undefined;
            return Promise.reject(f);
          }
          return Promise.resolve({ value: undefined, done: true });
        }
        return new Promise((resolve, reject) => {
          waiting = { resolve, reject };
        });
      },
      return: () => {
        ended = true;
        cleanup();
        if (paused) this.resume();
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }

  /** @internal */
  [kReadWhileClosing] = false;

  /** @internal */
  [kOnClosed]: ((ws: WebSocket) => void) | null = null;

  /** @internal close with any code valid on the wire (servers send 1001). */
  [kCloseWith](code: number | undefined, reason: string): void {
    if (this.#readyState === CLOSING || this.#readyState === CLOSED) return;
    if (this.#readyState === CONNECTING) {
      if (this.#abortHandshake === null) {
        // Between reconnection attempts (a retry is scheduled, or about to be): stop here. The
        // final close comes in a later task, so it is not nested in the event that led here.
        if (this.#retryTimer) clearTimeout(this.#retryTimer);
        this.#retryTimer = null;
        this.#userClosed = true;
        this.#readyState = CLOSING;
        setImmediate(() => {
          this.#readyState = CLOSED;
          this.#dropPending();
          this.#fireClose(CloseCode.Abnormal, '', false);
        });
        return;
      }
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

  /** @internal `callback` runs once the socket's write buffer is empty (or the socket is gone). */
  [kOnDrain](callback: () => void): void {
    const socket = this.#socket;
    if (!socket || socket.destroyed || socket.writableLength === 0) {
      queueMicrotask(callback);
      return;
    }
    const done = () => {
      socket.removeListener('drain', done);
      socket.removeListener('close', done);
      callback();
    };
    socket.on('drain', done);
    socket.on('close', done);
  }

  // -- connection ------------------------------------------------------------------------------

  #connect(): void {
    this.#abortHandshake = clientHandshake(this.#target!, this.#handshake!, (error, result) => {
      this.#abortHandshake = null;
      if (error || !result) {
        const failure = error ?? new WebSocketError('ERR_WS_UNKNOWN', 'the handshake failed');
        // Aborted by close() or terminate(): the events come in a later task, after the call
        // has returned, with readyState CLOSING until then (WHATWG).
        if (this.#readyState === CLOSING) setImmediate(() => this.#connectFailed(failure));
        else this.#connectFailed(failure);
        return;
      }
      if (this.#readyState !== CONNECTING) {
        result.socket.destroy();
        return;
      }
      this.#protocol = result.protocol;
      this.#extensions = result.extensions;
      const options = this.#options;
      const deflateOptions =
        typeof options.perMessageDeflate === 'object' ? options.perMessageDeflate : {};
      const compressor = result.deflate
        ? new NodeDeflateCompressor(result.deflate, 'client', deflateOptions)
        : null;
      this.#attach(result.socket, 'client', options.maxPayload ?? DEFAULT_MAX_PAYLOAD, compressor);
      this.#attempt = 0;
      if (!this.#reconnect) {
        // Only a reconnection would need the connection settings again.
        this.#target = null;
        this.#handshake = null;
        this.#options = NO_OPTIONS;
      }
      // Messages queued while disconnected go first, in order.
      const pending = this.#pending;
      this.#pending = [];
      this.#pendingBytes = 0;
      for (const data of pending) this.send(data);
      this.dispatchEvent(new WebSocketEvent('open'));
      if (result.rest.length > 0 && this.#engine) this.#engine.receive(result.rest);
    });
  }

  #connectFailed(error: WebSocketError): void {
    const retry = this.#readyState === CONNECTING && this.#shouldRetry(undefined);
    if (!retry) this.#readyState = CLOSED;
    this.#fireError(error);
    if (retry && this.#readyState === CONNECTING) {
      this.#scheduleRetry(error);
      return;
    }
    this.#readyState = CLOSED;
    this.#dropPending();
    this.#fireClose(CloseCode.Abnormal, '', false);
  }

  #shouldRetry(code: number | undefined): boolean {
    const r = this.#reconnect;
    if (!r || this.#userClosed) return false;
    if (code !== undefined && r.stopCodes.has(code)) return false;
    return this.#attempt < r.maxRetries;
  }

  #scheduleRetry(error: WebSocketError | undefined): void {
    const r = this.#reconnect!;
    this.#attempt++;
    const base = Math.min(r.maxDelay, r.minDelay * r.factor ** (this.#attempt - 1));
    const delay = Math.round(base * (1 - r.jitter * Math.random()));
    this.#readyState = CONNECTING;
    this.dispatchEvent(
      new ReconnectEvent('reconnecting', { attempt: this.#attempt, delay, error }),
    );
    if (this.#readyState !== CONNECTING || this.#userClosed) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      if (this.#readyState === CONNECTING && !this.#userClosed) this.#connect();
    }, delay);
  }

  #attach(
    socket: Socket,
    role: 'client' | 'server',
    maxPayload: number,
    compressor: MessageCompressor | null,
  ): void {
    this.#socket = socket;
    this.#readyState = OPEN;
    this.#closeCode = CloseCode.Abnormal;
    this.#closeReason = '';
    this.#failed = false;
    this.#lastError = undefined;
    const connection = new Connection(this, socket, role, maxPayload, compressor);
    this.#engine = connection.engine;
    this.#startHeartbeat(connection.engine, socket);
  }

  static {
    // The per-connection sink reaches these private members through shared functions, so a
    // connection costs one object instead of a closure per callback.
    hooks = {
      message: (ws, data, binary) => ws.#onMessage(data, binary),
      ping: (ws, payload) => {
        if (ws.hasListeners('ping'))
          ws.dispatchEvent(new MessageEvent('ping', { data: toBuffer(payload) }));
      },
      pong: (ws, payload) => {
        if (ws.#pongTimer) {
          clearTimeout(ws.#pongTimer);
          ws.#pongTimer = null;
        }
        if (ws.hasListeners('pong'))
          ws.dispatchEvent(new MessageEvent('pong', { data: toBuffer(payload) }));
      },
      closeFrame: (ws, code, reason) => ws.#onCloseFrame(code, reason),
      protocolError: (ws, error) => ws.#onProtocolError(error),
      socketError: (ws, connection, error) => {
        if (ws.#socket !== connection.socket || ws.#failed || connection.engine.done) return;
        ws.#failed = true;
        ws.#fireError(connectionErrorFrom(error, 'the connection'));
      },
      socketClosed: (ws, connection) => ws.#onSocketClosed(connection.socket, connection.engine),
    };
  }

  #startHeartbeat(engine: WebSocketProtocol, socket: Socket): void {
    const heartbeat = this.#heartbeat;
    if (!heartbeat) return;
    const timeout = heartbeat.timeout ?? heartbeat.interval;
    this.#pingTimer = setInterval(() => {
      if (this.#socket !== socket || this.#readyState !== OPEN || this.#pongTimer) return;
      engine.ping();
      this.#pongTimer = setTimeout(() => {
        this.#pongTimer = null;
        if (this.#socket !== socket || engine.done) return;
        this.#failed = true;
        this.#fireError(
          new ConnectionError(
            'ERR_WS_TIMEOUT',
            `no pong within ${timeout} ms: the peer is unreachable (heartbeat)`,
          ),
        );
        socket.destroy();
      }, timeout);
      this.#pongTimer.unref();
    }, heartbeat.interval);
    this.#pingTimer.unref();
  }

  #stopTimers(): void {
    for (const timer of [this.#closeTimer, this.#pongTimer]) if (timer) clearTimeout(timer);
    if (this.#pingTimer) clearInterval(this.#pingTimer);
    this.#closeTimer = null;
    this.#pongTimer = null;
    this.#pingTimer = null;
  }

  /** Drops the connection at once (terminate, or a dead peer). */
  #drop(): void {
    if (this.#readyState === CLOSED) return;
    if (this.#readyState === CONNECTING) {
      this[kCloseWith](undefined, '');
      return;
    }
    this.#readyState = CLOSING;
    const socket = this.#socket;
    if (socket) {
      // Writes made while a received chunk is handled are corked; let them leave first.
      while (socket.writableCorked > 0) socket.uncork();
      socket.destroy();
    }
  }

  #onMessage(data: Uint8Array, binary: boolean): void {
    // WHATWG: messages that arrive after close() was called are not delivered (a stream whose
    // writable side ended still reads until the peer's close).
    if (!this.hasListeners('message')) return;
    if (this.#readyState !== OPEN && !(this.#readyState === CLOSING && this[kReadWhileClosing]))
      return;
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
    const engine = this.#engine!;
    // RFC 6455 section 7.1.1: the server closes the TCP connection first; a client waits for
    // it (closeTimeout bounds the wait).
    if (engine.role === 'server' && engine.idle) this.#socket!.end();
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

  #onSocketClosed(socket: Socket, engine: WebSocketProtocol): void {
    if (this.#socket !== socket) return;
    this.#stopTimers();
    if (this.#readyState === CLOSED) return;
    const wasClean = !this.#failed && engine.closeSent && engine.closeReceived;
    // WHATWG / RFC 6455 section 7.1.5: without a close frame from the peer the code is 1006.
    const code = engine.closeReceived ? this.#closeCode : CloseCode.Abnormal;
    const reason = engine.closeReceived ? this.#closeReason : '';
    const retry = this.#engine?.role === 'client' && this.#shouldRetry(code);
    this.#socket = null;
    this.#engine = null;
    this.#sendQueue = null;
    this.#queuedBytes = 0;
    this.#readyState = retry ? CONNECTING : CLOSED;
    // Messages that will never be sent are reported before the final close.
    if (!retry) this.#dropPending();
    // The server that tracks this socket forgets it before anyone hears of the close.
    if (!retry) this[kOnClosed]?.(this);
    this.#fireClose(code, reason, wasClean);
    if (retry && this.#readyState === CONNECTING && !this.#userClosed)
      this.#scheduleRetry(this.#lastError);
  }

  #dropPending(): void {
    const count = this.#pending.length;
    if (count === 0) return;
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#fireError(
      new WebSocketError(
        'ERR_WS_NOT_SENT',
        `${count} message(s) queued while reconnecting were not sent: the connection closed for good`,
      ),
    );
  }

  #armCloseTimer(): void {
    if (this.#closeTimer || this.#closeTimeout <= 0) return;
    const socket = this.#socket!;
    this.#closeTimer = setTimeout(() => socket.destroy(), this.#closeTimeout);
    this.#closeTimer.unref?.();
  }

  #fireError(error: WebSocketError): void {
    this.#lastError = error;
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
      if (this.#sendQueue !== queue || this.#engine === null) return;
      queue.shift();
      this.#queuedBytes -= byteSize(item);
      if (typeof bytes === 'string') this.#engine.sendText(bytes);
      else this.#engine.sendBinary(bytes);
    }
    if (this.#sendQueue === queue) this.#sendQueue = null;
  }
}

const kConnection = Symbol('wskit.connection');
type OwnedSocket = Socket & { [kConnection]: Connection };

/** One open connection: the engine's sink on a socket, for one WebSocket. */
class Connection implements ProtocolSink {
  readonly engine: WebSocketProtocol;

  constructor(
    readonly ws: WebSocket,
    readonly socket: Socket,
    readonly role: 'client' | 'server',
    maxPayload: number,
    readonly compressor: MessageCompressor | null,
  ) {
    this.engine = new WebSocketProtocol(
      { role, maxPayload, platform: nodePlatform, ...(compressor ? { compressor } : {}) },
      this,
    );
    (socket as OwnedSocket)[kConnection] = this;
    socket.on('data', onSocketData);
    socket.on('end', onSocketEnd);
    socket.on('error', onSocketError);
    socket.on('close', onSocketClose);
  }

  write(data: Uint8Array): void {
    if (!this.socket.destroyed) this.socket.write(data);
  }

  writePair(header: Uint8Array, payload: Uint8Array): void {
    const socket = this.socket;
    if (socket.destroyed) return;
    socket.cork();
    socket.write(header);
    socket.write(payload);
    socket.uncork();
  }

  onMessage(data: Uint8Array, binary: boolean): void {
    hooks.message(this.ws, data, binary);
  }
  onPing(payload: Uint8Array): void {
    hooks.ping(this.ws, payload);
  }
  onPong(payload: Uint8Array): void {
    hooks.pong(this.ws, payload);
  }
  onClose(code: number, reason: string): void {
    hooks.closeFrame(this.ws, code, reason);
  }
  onError(error: ProtocolError): void {
    hooks.protocolError(this.ws, error);
  }
  pause(): void {
    this.socket.pause();
  }
  resume(): void {
    this.socket.resume();
  }
  onIdle(): void {
    // A close frame queued behind a compression has now been written.
    const socket = this.socket;
    if (this.engine.done && this.role === 'server' && !socket.writableEnded) socket.end();
  }
}

function onSocketData(this: OwnedSocket, chunk: Buffer): void {
  // Replies written while this chunk is handled (pongs, echoes, close frames) leave in one
  // write instead of one per frame.
  this.cork();
  try {
    this[kConnection].engine.receive(chunk);
  } finally {
    this.uncork();
  }
}

function onSocketEnd(this: OwnedSocket): void {
  // The peer will send nothing more; finish our side too (servers' sockets allow half-open).
  if (!this.writableEnded) this.end();
}

function onSocketError(this: OwnedSocket, error: Error): void {
  const connection = this[kConnection];
  hooks.socketError(connection.ws, connection, error);
}

function onSocketClose(this: OwnedSocket): void {
  const connection = this[kConnection];
  connection.compressor?.close();
  hooks.socketClosed(connection.ws, connection);
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
