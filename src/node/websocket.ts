import { Buffer } from 'node:buffer';
import type { Duplex } from 'node:stream';
import { ConnectionError, WebSocketError } from '../errors.js';
import { CloseCode, isValidWireCloseCode } from '../protocol/close-codes.js';
import { checkCloseReason } from '../protocol/close-lifecycle.js';
import type { MessageCompressor } from '../protocol/extensions/message-compressor.js';
import {
  CloseEvent,
  ErrorEvent,
  type Listener,
  type ListenerOptions,
  MessageEvent,
  WebSocketEvent,
  WebSocketEventTarget,
} from '../web/events.js';
import { decodeJson, encodeJson } from '../web/json.js';
import { messageIterator } from '../web/message-iterator.js';
import { type ConnectTarget, parseWebSocketUrl } from '../web/url.js';
import { whenOpen } from '../web/when-open.js';
import { byteSize, toArrayBuffer, toBuffer, toBytes, type WebSocketData } from './bytes.js';
import { buildRequest, clientHandshake } from './client-handshake.js';
import { Connection, type ConnectionEvents, ReadPause } from './connection.js';
import { NodeDeflateCompressor } from './deflate/zlib-compressor.js';
import { nodePlatform } from './node-platform.js';
import {
  type BinaryType,
  type ConnectionSettings,
  type MessageData,
  type ResolvedClientOptions,
  resolveClientOptions,
  resolveProtocols,
  type WebSocketOptions,
} from './options.js';
import { Reconnect, ReconnectEvent } from './reconnect.js';
import type { Topics } from './topics.js';

export type { WebSocketData } from './bytes.js';
export type {
  BinaryData,
  BinaryType,
  HeartbeatOptions,
  MessageData,
  NodeBinaryData,
  ReconnectOptions,
  WebSocketOptions,
} from './options.js';
export { ReconnectEvent } from './reconnect.js';

/** @internal what a server hands over to make a `WebSocket` of a connection it accepted. */
export interface AcceptedSocketInit<B extends BinaryType = BinaryType> {
  /** A `net.Socket` or `tls.TLSSocket`, or any `Duplex` a server's 'upgrade' event gave. */
  socket: Duplex;
  url: string;
  protocol: string;
  extensions: string;
  binaryType: B;
  compressor: MessageCompressor | null;
  settings: ConnectionSettings;
  /** Called once the socket is closed for good, before its `close` event (server tracking). */
  onClosed: ((ws: WebSocket) => void) | null;
}

/** @internal the current connection of a socket (null while none is open). */
export const kConnection = Symbol('wskit.connection');
/** @internal the topic index of the server that accepted the socket. */
export const kTopics = Symbol('wskit.topics');
/** @internal set by streams: keep delivering messages after close() until the peer closes. */
export const kReadWhileClosing = Symbol('wskit.readWhileClosing');

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

// Bits of WebSocket#flags.
/** Accepted by a server. */
const SERVER_SIDE = 1;
/** `close()` may send any code valid on the wire: server-side sockets, or the option. */
const ANY_VALID_CLOSE_CODE = 2;
/** The application called `close()` (no reconnection after it). */
const USER_CLOSED = 4;

/** Marks a constructor call made by {@link acceptWebSocket} (never visible to users). */
class Accepted<B extends BinaryType> {
  constructor(readonly init: AcceptedSocketInit<B>) {}
}

/**
 * An `onX` handler. Its event is compared bivariantly (a method's parameter), so that a
 * `WebSocket<"nodebuffer">` is also a `WebSocket`, the type of code taking sockets of any
 * binary type.
 */
type Handler<B extends BinaryType, E> =
  | { handler(this: WebSocket<B>, event: E): unknown }['handler']
  | null;

function invalidState(message: string): DOMException {
  return new DOMException(message, 'InvalidStateError');
}

/**
 * One flat copy of a string: URL parsing leaves concatenated and sliced strings that keep their
 * pieces alive, about 300 bytes per socket instead of one ~40-byte string. A serialized URL
 * and a request head hold no lone surrogate, so the UTF-8 round trip is exact.
 */
function flatCopy(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
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
 *
 * With the `reconnect` option the same object survives connection losses: after an unexpected
 * close it goes back to CONNECTING, fires `reconnecting` before each attempt and `open` on each
 * success, and `send()` queues messages (in order, bounded) while disconnected.
 */
export class WebSocket<B extends BinaryType = BinaryType> extends WebSocketEventTarget {
  static readonly CONNECTING = CONNECTING;
  static readonly OPEN = OPEN;
  static readonly CLOSING = CLOSING;
  static readonly CLOSED = CLOSED;
  declare readonly CONNECTING: 0;
  declare readonly OPEN: 1;
  declare readonly CLOSING: 2;
  declare readonly CLOSED: 3;

  /** Delivers a connection's reports to this object's private state (no closure per call). */
  static readonly #Events = class implements ConnectionEvents {
    constructor(readonly ws: WebSocket) {}
    onMessage(data: Uint8Array, binary: boolean): void {
      this.ws.#onMessage(data, binary);
    }
    onPing(payload: Uint8Array): void {
      const ws = this.ws;
      if (ws.hasListeners('ping'))
        ws.dispatchEvent(new MessageEvent('ping', { data: toBuffer(payload) }));
    }
    onPong(payload: Uint8Array): void {
      const ws = this.ws;
      if (ws.hasListeners('pong'))
        ws.dispatchEvent(new MessageEvent('pong', { data: toBuffer(payload) }));
    }
    onClosing(): void {
      if (this.ws.#readyState === OPEN) this.ws.#readyState = CLOSING;
    }
    onError(error: WebSocketError): void {
      this.ws.#fireError(error);
    }
    onClosed(code: number, reason: string, wasClean: boolean): void {
      this.ws.#onConnectionClosed(code, reason, wasClean);
    }
  };

  #url: string;
  #readyState: number = CONNECTING;
  #protocol = '';
  #extensions = '';
  #binaryType: B;
  #origin: string;
  #bufferedAfterClose = 0;
  /** SERVER_SIDE, ANY_VALID_CLOSE_CODE and USER_CLOSED bits, in one field (idle memory). */
  #flags = 0;
  #onClosed: ((ws: WebSocket) => void) | null = null;

  // Client connection settings, kept for reconnection.
  #target: ConnectTarget | null = null;
  #options: ResolvedClientOptions | null = null;
  #reconnect: Reconnect | null = null;

  // The current connection.
  #connection: Connection | null = null;
  #abortHandshake: ((reason: WebSocketError) => void) | null = null;
  #lastError: WebSocketError | undefined;
  /** This object's side of its connections, shared by all of them. */
  readonly #events: ConnectionEvents = new WebSocket.#Events(this);

  /**
   * Opens a connection to `url` (`ws:`, `wss:`, `http:`, `https:` or `ws+unix:`), offering
   * `protocols` as subprotocols. Throws a `SyntaxError` DOMException for a bad URL or protocol
   * list, and a TypeError for invalid options (such as a header with a line break).
   *
   * The `binaryType` option types the messages: with "arraybuffer", `data` is
   * `string | ArrayBuffer`. Without it, `data` may be any binary type, as `binaryType` may be
   * set to any of them later.
   */
  constructor(
    url: string | URL,
    protocols?: string | readonly string[],
    options: WebSocketOptions<B> = {},
  ) {
    super();
    if ((url as unknown) instanceof Accepted) {
      const init = (url as unknown as Accepted<B>).init;
      this.#flags = SERVER_SIDE | ANY_VALID_CLOSE_CODE;
      this.#url = flatCopy(init.url);
      this.#origin = '';
      this.#binaryType = init.binaryType;
      this.#protocol = init.protocol;
      this.#extensions = init.extensions;
      this.#onClosed = init.onClosed;
      this.#attach(init.socket, 'server', init.compressor, init.settings);
      return;
    }
    const target = parseWebSocketUrl(url);
    const list = resolveProtocols(protocols);
    this.#url = flatCopy(target.href);
    this.#origin = target.socketPath ? 'null' : flatCopy(new URL(target.href).origin);
    const resolved = resolveClientOptions(options, list);
    // The option, checked, or its default "blob" (which B, without the option, includes).
    this.#binaryType = resolved.binaryType as B;
    if (options.anyValidCloseCode === true) this.#flags = ANY_VALID_CLOSE_CODE;
    this.#reconnect = resolved.reconnect ? new Reconnect(resolved.reconnect) : null;
    this.#options = resolved;
    this.#target = target;
    // Invalid headers or extension settings are the caller's mistake: report them now.
    buildRequest(
      target,
      resolved.handshake,
      'AAAAAAAAAAAAAAAAAAAAAA==',
      resolved.handshake.headers ?? {},
    );
    this.#connect();
  }

  /**
   * Connects and resolves with the open socket, or rejects with the typed error that made the
   * connection fail (Node extension). With `reconnect`, it resolves on the first open.
   */
  static connect<B extends BinaryType = BinaryType>(
    url: string | URL,
    options: WebSocketOptions<B> & { protocols?: string | readonly string[] } = {},
  ): Promise<WebSocket<B>> {
    const { protocols, ...rest } = options;
    try {
      return whenOpen(new WebSocket<B>(url, protocols, rest));
    } catch (error) {
      return Promise.reject(error);
    }
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
    return (
      (this.#connection?.bufferedAmount ?? 0) +
      (this.#reconnect?.pendingBytes ?? 0) +
      this.#bufferedAfterClose
    );
  }
  /**
   * How binary messages are delivered. It takes the values of `B` only, so that `data` stays
   * typed: any of them on a socket made without the `binaryType` option.
   */
  get binaryType(): B {
    return this.#binaryType;
  }
  set binaryType(value: B) {
    // WebIDL enumerations ignore values outside the enumeration.
    if (value === 'blob' || value === 'arraybuffer' || value === 'nodebuffer')
      this.#binaryType = value;
  }

  get onopen(): Handler<B, WebSocketEvent> {
    return this.getHandler('open');
  }
  set onopen(fn: Handler<B, WebSocketEvent>) {
    this.setHandler('open', fn);
  }
  /** Handler of the `message` event: `data` is a string, or binary data as `binaryType` says. */
  get onmessage(): Handler<B, MessageEvent<MessageData<B>>> {
    return this.getHandler('message');
  }
  set onmessage(fn: Handler<B, MessageEvent<MessageData<B>>>) {
    this.setHandler('message', fn);
  }
  get onerror(): Handler<B, ErrorEvent<WebSocketError>> {
    return this.getHandler('error');
  }
  set onerror(fn: Handler<B, ErrorEvent<WebSocketError>>) {
    this.setHandler('error', fn);
  }
  get onclose(): Handler<B, CloseEvent> {
    return this.getHandler('close');
  }
  set onclose(fn: Handler<B, CloseEvent>) {
    this.setHandler('close', fn);
  }

  /** Listens for `open`, `message`, `error`, `close`, `ping`, `pong` or `reconnecting`. */
  override addEventListener(
    type: 'message',
    listener: Listener<MessageEvent<MessageData<B>>> | null,
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
      reconnect.queue(data);
      return;
    }
    const connection = this.#connection;
    if (this.#readyState !== OPEN || connection === null || connection.engine.closeSent) {
      this.#bufferedAfterClose += byteSize(data);
      return;
    }
    connection.send(data);
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
      const allowed =
        (this.#flags & ANY_VALID_CLOSE_CODE) !== 0
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
    try {
      checkCloseReason(text, Buffer.byteLength);
    } catch (error) {
      throw new DOMException((error as RangeError).message, 'SyntaxError');
    }
    // WHATWG: a reason without a code is sent with 1000.
    if (wireCode === undefined && text !== '') wireCode = CloseCode.Normal;
    this.#flags |= USER_CLOSED;
    this.#close(wireCode, text);
  }

  /** Sends a ping (Node extension); `data` is at most 125 bytes. A `pong` event answers it. */
  ping(data: string | ArrayBufferView | ArrayBuffer = ''): void {
    if (this.#readyState !== OPEN) throw invalidState('ping() needs an open connection');
    this.#connection!.engine.ping(typeof data === 'string' ? data : toBytes(data));
  }

  /** Sends an unsolicited pong (Node extension), usable as a one-way heartbeat. */
  pong(data: string | ArrayBufferView | ArrayBuffer = ''): void {
    if (this.#readyState !== OPEN) throw invalidState('pong() needs an open connection');
    this.#connection!.engine.pong(typeof data === 'string' ? data : toBytes(data));
  }

  /**
   * Sends like {@link send} and resolves once the message has been handed to the operating
   * system (Node extension): `await ws.sendAsync(data)` in a loop paces a producer to the peer's
   * reading speed, so `bufferedAmount` never grows past one message. Rejects with the typed
   * error when the connection closes before that, and throws as `send()` does.
   */
  sendAsync(data: WebSocketData): Promise<void> {
    this.send(data);
    const connection = this.#connection;
    if (connection === null || this.#readyState !== OPEN) {
      return Promise.reject(
        new WebSocketError('ERR_WS_NOT_SENT', 'the connection closed before the message was sent'),
      );
    }
    return new Promise((resolve, reject) => {
      connection.onSent((sent) =>
        sent
          ? resolve()
          : reject(
              new WebSocketError(
                'ERR_WS_NOT_SENT',
                'the connection closed before the message was sent',
              ),
            ),
      );
    });
  }

  /** Stops reading from the connection (Node extension): flow control for slow consumers. */
  pause(): void {
    this.#connection?.pauseReading(ReadPause.User);
  }

  /** Resumes reading after {@link pause}. */
  resume(): void {
    this.#connection?.resumeReading(ReadPause.User);
  }

  /** Destroys the connection at once, without a closing handshake (Node extension); close is 1006. */
  terminate(): void {
    this.#flags |= USER_CLOSED;
    if (this.#readyState === CLOSED) return;
    if (this.#readyState === CONNECTING) {
      this.#close(undefined, '');
      return;
    }
    this.#readyState = CLOSING;
    this.#connection?.terminate();
  }

  /**
   * Iterates over incoming messages (Node extension): `for await (const data of ws)`. Ends when
   * the connection closes cleanly; throws the typed error when it fails. Reading pauses while
   * more than 64 messages wait for the loop.
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<MessageData<B>> {
    return messageIterator(this, { pause: () => this.pause(), resume: () => this.resume() });
  }

  /**
   * Sends `value` as a JSON text message. Throws `ERR_WS_INVALID_ARGUMENT` for a value JSON
   * cannot carry (undefined, a function, a BigInt, a cycle).
   */
  sendJSON(value: unknown): void {
    this.send(encodeJson(value));
  }

  /**
   * Iterates over incoming messages parsed as JSON: `for await (const value of ws.json())`. A
   * message that is not JSON text ends the loop with `ERR_WS_INVALID_ARGUMENT`.
   */
  json(): AsyncIterableIterator<unknown> {
    return messageIterator(this, {
      pause: () => this.pause(),
      resume: () => this.resume(),
      map: decodeJson,
    });
  }

  /** @internal */
  [kReadWhileClosing] = false;

  /** @internal */
  [kTopics]: Topics | null = null;

  /** Subscribes this server-side socket to `topic` (see `WebSocketServer#publish`); false if it already was. */
  subscribe(topic: string): boolean {
    const topics = this[kTopics];
    if (!topics) {
      throw new WebSocketError(
        'ERR_WS_UNSUPPORTED_OPERATION',
        'subscribe() is for sockets a WebSocketServer accepted',
      );
    }
    return topics.subscribe(this, topic);
  }

  /** Leaves `topic`; false if this socket was not subscribed. */
  unsubscribe(topic: string): boolean {
    return this[kTopics]?.unsubscribe(this, topic) ?? false;
  }

  /** The topics this socket is subscribed to (it leaves them all when it closes). */
  get topics(): ReadonlySet<string> {
    return this[kTopics]?.topicsOf(this) ?? new Set();
  }

  /** @internal */
  get [kConnection](): Connection | null {
    return this.#connection;
  }

  /** Closes with any code valid on the wire (the checks of close() are done). */
  #close(code: number | undefined, reason: string): void {
    if (this.#readyState === CLOSING || this.#readyState === CLOSED) return;
    if (this.#readyState === CONNECTING) {
      if (this.#abortHandshake === null) {
        // Between reconnection attempts (a retry is scheduled, or about to be): stop here. The
        // final close comes in a later task, so it is not nested in the event that led here.
        this.#reconnect?.cancel();
        this.#flags |= USER_CLOSED;
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
    this.#connection!.close(code, reason);
  }

  // -- connection ------------------------------------------------------------------------------

  #connect(): void {
    const options = this.#options!;
    this.#abortHandshake = clientHandshake(this.#target!, options.handshake, (error, result) => {
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
      const compressor = result.deflate
        ? new NodeDeflateCompressor(result.deflate, 'client', options.perMessageDeflate ?? {})
        : null;
      this.#attach(result.socket, 'client', compressor, options);
      const reconnect = this.#reconnect;
      let pending: WebSocketData[] = [];
      if (reconnect) {
        reconnect.opened();
        pending = reconnect.takePending();
      } else {
        // Only a reconnection would need the connection settings again.
        this.#target = null;
        this.#options = null;
      }
      // Messages queued while disconnected go first, in order.
      for (const data of pending) this.send(data);
      this.dispatchEvent(new WebSocketEvent('open'));
      if (result.rest.length > 0) this.#connection?.receive(result.rest);
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
    const reconnect = this.#reconnect;
    return reconnect !== null && (this.#flags & USER_CLOSED) === 0 && reconnect.allows(code);
  }

  #scheduleRetry(error: WebSocketError | undefined): void {
    const reconnect = this.#reconnect!;
    const { attempt, delay } = reconnect.next();
    this.#readyState = CONNECTING;
    this.dispatchEvent(new ReconnectEvent('reconnecting', { attempt, delay, error }));
    if (this.#readyState !== CONNECTING || (this.#flags & USER_CLOSED) !== 0) return;
    reconnect.schedule(delay, () => {
      if (this.#readyState === CONNECTING && (this.#flags & USER_CLOSED) === 0) this.#connect();
    });
  }

  /** The one path by which a socket becomes this object's open connection. */
  #attach(
    socket: Duplex,
    role: 'client' | 'server',
    compressor: MessageCompressor | null,
    settings: ConnectionSettings,
  ): void {
    this.#readyState = OPEN;
    this.#lastError = undefined;
    this.#connection = new Connection(socket, role, compressor, settings, this.#events);
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

  #onConnectionClosed(code: number, reason: string, wasClean: boolean): void {
    if (this.#readyState === CLOSED) return;
    this.#reconnect?.lost();
    const retry = (this.#flags & SERVER_SIDE) === 0 && this.#shouldRetry(code);
    this.#connection = null;
    this.#readyState = retry ? CONNECTING : CLOSED;
    if (!retry) {
      // Messages that will never be sent are reported before the final close.
      this.#dropPending();
      // The server that tracks this socket forgets it before anyone hears of the close.
      this.#onClosed?.(this);
    }
    this.#fireClose(code, reason, wasClean);
    if (retry && this.#readyState === CONNECTING && (this.#flags & USER_CLOSED) === 0)
      this.#scheduleRetry(this.#lastError);
  }

  #dropPending(): void {
    const count = this.#reconnect?.takePending().length ?? 0;
    if (count === 0) return;
    this.#fireError(
      new WebSocketError(
        'ERR_WS_NOT_SENT',
        `${count} message(s) queued while reconnecting were not sent: the connection closed for good`,
      ),
    );
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
}

for (const [name, value] of [
  ['CONNECTING', CONNECTING],
  ['OPEN', OPEN],
  ['CLOSING', CLOSING],
  ['CLOSED', CLOSED],
] as const) {
  Object.defineProperty(WebSocket.prototype, name, { value, enumerable: true });
}

/** @internal makes the `WebSocket` of a connection a server has accepted. */
export function acceptWebSocket<B extends BinaryType>(init: AcceptedSocketInit<B>): WebSocket<B> {
  return new WebSocket<B>(new Accepted(init) as unknown as string);
}

/** WebIDL USVString: lone surrogates become U+FFFD. */
function toUSVString(text: string): string {
  return Buffer.from(text).toString();
}
