import type { Buffer } from 'node:buffer';
import type { Duplex } from 'node:stream';
import { ConnectionError, WebSocketError } from '../errors.js';
import { CloseCode } from '../protocol/close-codes.js';
import type { MessageCompressor } from '../protocol/extensions/message-compressor.js';
import { type ErrorEvent, MessageEvent, WebSocketEvent } from '../web/events.js';
import { decodeJson } from '../web/json.js';
import { messageIterator } from '../web/message-iterator.js';
import { type ConnectTarget, parseWebSocketUrl } from '../web/url.js';
import { invalidState, type SocketEventMap, WebSocketBase } from '../web/websocket-base.js';
import { whenOpen } from '../web/when-open.js';
import {
  byteSize,
  flatCopy,
  toArrayBuffer,
  toBuffer,
  toBytes,
  type WebSocketData,
} from './bytes.js';
import { buildRequest, clientHandshake } from './client-handshake.js';
import { closeArguments } from './close-arguments.js';
import { Connection, ReadPause } from './connection.js';
import { NodeDeflateCompressor } from './deflate/zlib-compressor.js';
import { nodePlatform } from './node-platform.js';
import {
  type BinaryType,
  type ConnectionSettings,
  connectionSettings,
  type MessageData,
  type ResolvedClientOptions,
  resolveClientOptions,
  resolveProtocols,
  type WebSocketOptions,
} from './options.js';
import { NodeReconnect } from './reconnect.js';
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
  /** The accepting server's part, one object for all its sockets. */
  server: AcceptingServer;
}

/** @internal the current connection of a socket (null while none is open). */
export const kConnection = Symbol('wskit.connection');
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
/** Set by streams: keep delivering messages after close() until the peer closes. */
const READ_WHILE_CLOSING = 4;

/** The URL and origin of the last client made, shared by the next clients of the same URL. */
let lastClientUrl = { href: '', origin: '' };

/** What the sockets a server accepted share: its tracking and its topic index. */
export interface AcceptingServer {
  /** Called once a socket is closed for good, before its `close` event. */
  onClosed: (ws: WebSocket) => void;
  topics: Topics;
}

/** A client's target and settings, and the abort of the handshake in progress. */
interface ClientConnect {
  target: ConnectTarget;
  options: ResolvedClientOptions;
  abort: ((reason: WebSocketError) => void) | null;
}

/** Marks a constructor call made by {@link acceptWebSocket} (never visible to users). */
class Accepted<B extends BinaryType> {
  constructor(readonly init: AcceptedSocketInit<B>) {}
}

/** The events of a Node `WebSocket`, by type: those of every runtime, and `ping` and `pong`. */
export interface WebSocketEventMap<B extends BinaryType = BinaryType> extends SocketEventMap {
  /** A message: `data` is a string, or binary data as `binaryType` says. */
  message: MessageEvent<MessageData<B>>;
  error: ErrorEvent<WebSocketError>;
  /** A ping arrived (it has been answered). */
  ping: MessageEvent<Buffer>;
  /** A pong arrived. */
  pong: MessageEvent<Buffer>;
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
export class WebSocket<B extends BinaryType = BinaryType> extends WebSocketBase<
  WebSocketEventMap<B>
> {
  /** This object's connections: they report to its private state (no closure per call). */
  static readonly #Connection = class extends Connection {
    constructor(
      socket: Duplex,
      role: 'client' | 'server',
      compressor: MessageCompressor | null,
      settings: ConnectionSettings,
      readonly ws: WebSocket,
    ) {
      super(socket, role, compressor, settings);
    }
    protected reportMessage(data: Uint8Array, binary: boolean): void {
      this.ws.#onMessage(data, binary);
    }
    protected reportPing(payload: Uint8Array): void {
      const ws = this.ws;
      if (ws.hasListeners('ping'))
        ws.dispatchEvent(new MessageEvent('ping', { data: toBuffer(payload) }));
    }
    protected reportPong(payload: Uint8Array): void {
      const ws = this.ws;
      if (ws.hasListeners('pong'))
        ws.dispatchEvent(new MessageEvent('pong', { data: toBuffer(payload) }));
    }
    protected reportClosing(): void {
      if (this.ws.#readyState === OPEN) this.ws.#readyState = CLOSING;
    }
    protected reportError(error: WebSocketError): void {
      this.ws.fireError(error);
    }
    protected reportClosed(code: number, reason: string, wasClean: boolean): void {
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
  /** SERVER_SIDE, ANY_VALID_CLOSE_CODE and READ_WHILE_CLOSING bits, in one field (idle memory). */
  #flags = 0;
  /** The accepting server's part, shared by all its sockets (null on clients). */
  #server: AcceptingServer | null = null;
  /** What a client needs to connect (again): released once open unless it reconnects. */
  #client: ClientConnect | null = null;
  #reconnect: NodeReconnect | null = null;
  #connection: Connection | null = null;

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
      // The server shares one flat string among sockets of the same URL.
      this.#url = init.url;
      this.#origin = '';
      this.#binaryType = init.binaryType;
      this.#protocol = init.protocol;
      this.#extensions = init.extensions;
      this.#server = init.server;
      this.#attach(init.socket, 'server', init.compressor, init.settings);
      return;
    }
    const target = parseWebSocketUrl(url);
    const list = resolveProtocols(protocols);
    if (target.href !== lastClientUrl.href) {
      // Clients of the same URL share one flat copy of it and of its origin (idle memory).
      lastClientUrl = {
        href: flatCopy(target.href),
        origin: target.socketPath ? 'null' : flatCopy(new URL(target.href).origin),
      };
    }
    this.#url = lastClientUrl.href;
    this.#origin = lastClientUrl.origin;
    const resolved = resolveClientOptions(options, list);
    // The option, checked, or its default "blob" (which B, without the option, includes).
    this.#binaryType = resolved.binaryType as B;
    if (options.anyValidCloseCode === true) this.#flags = ANY_VALID_CLOSE_CODE;
    this.#reconnect = resolved.reconnect ? new NodeReconnect(resolved.reconnect) : null;
    this.#client = { target, options: resolved, abort: null };
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
      reconnect.queue(data, byteSize(data));
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
    const [wireCode, text] = closeArguments(
      code,
      reason,
      (this.#flags & ANY_VALID_CLOSE_CODE) !== 0,
    );
    this.#reconnect?.stop();
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
    this.#reconnect?.stop();
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
  get [kReadWhileClosing](): boolean {
    return (this.#flags & READ_WHILE_CLOSING) !== 0;
  }
  set [kReadWhileClosing](value: boolean) {
    this.#flags = value ? this.#flags | READ_WHILE_CLOSING : this.#flags & ~READ_WHILE_CLOSING;
  }

  /** Subscribes this server-side socket to `topic` (see `WebSocketServer#publish`); false if it already was. */
  subscribe(topic: string): boolean {
    const topics = this.#server?.topics;
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
    return this.#server?.topics.unsubscribe(this, topic) ?? false;
  }

  /** The topics this socket is subscribed to (it leaves them all when it closes). */
  get topics(): ReadonlySet<string> {
    return this.#server?.topics.topicsOf(this) ?? new Set();
  }

  /** @internal */
  get [kConnection](): Connection | null {
    return this.#connection;
  }

  /** Closes with any code valid on the wire (the checks of close() are done). */
  #close(code: number | undefined, reason: string): void {
    if (this.#readyState === CLOSING || this.#readyState === CLOSED) return;
    if (this.#readyState === CONNECTING) {
      const abort = this.#client?.abort;
      if (!abort) {
        // Between reconnection attempts (a retry is scheduled, or about to be): stop here. The
        // final close comes in a later task, so it is not nested in the event that led here.
        this.#reconnect?.stop();
        this.#readyState = CLOSING;
        setImmediate(() => this.#closedForGood(CloseCode.Abnormal, '', false));
        return;
      }
      // WHATWG: closing before the connection is established fails the connection.
      this.#readyState = CLOSING;
      abort(
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
    const client = this.#client!;
    const options = client.options;
    client.abort = clientHandshake(client.target, options.handshake, (error, result) => {
      client.abort = null;
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
      this.#attach(result.socket, 'client', compressor, connectionSettings(options));
      const reconnect = this.#reconnect;
      let pending: WebSocketData[] = [];
      if (reconnect) {
        reconnect.opened();
        pending = reconnect.takePending();
      } else {
        // Only a reconnection would need the connection settings again.
        this.#client = null;
      }
      // Messages queued while disconnected go first, in order.
      for (const data of pending) this.send(data);
      this.dispatchEvent(new WebSocketEvent('open'));
      if (result.rest.length > 0) this.#connection?.receive(result.rest);
    });
  }

  #connectFailed(error: WebSocketError): void {
    const retry = this.#readyState === CONNECTING && this.#reconnect?.allows(undefined) === true;
    if (!retry) this.#readyState = CLOSED;
    this.fireError(error);
    if (retry && this.#readyState === CONNECTING) this.#retry();
    else this.#closedForGood(CloseCode.Abnormal, '', false);
  }

  #retry(): void {
    this.#reconnect!.retry(this, () => this.#connect());
  }

  protected override fireError(error: WebSocketError): void {
    if (this.#reconnect) this.#reconnect.lastError = error;
    super.fireError(error);
  }

  /** The one path by which a socket becomes this object's open connection. */
  #attach(
    socket: Duplex,
    role: 'client' | 'server',
    compressor: MessageCompressor | null,
    settings: ConnectionSettings,
  ): void {
    this.#readyState = OPEN;
    this.#connection = new WebSocket.#Connection(socket, role, compressor, settings, this);
  }

  #onMessage(data: Uint8Array, binary: boolean): void {
    // WHATWG: messages that arrive after close() was called are not delivered (a stream whose
    // writable side ended still reads until the peer's close).
    if (!this.hasListeners('message')) return;
    const state = this.#readyState;
    if (state !== OPEN && !(state === CLOSING && (this.#flags & READ_WHILE_CLOSING) !== 0)) return;
    let value: unknown;
    if (!binary) value = nodePlatform.decode(data);
    else if (this.#binaryType === 'nodebuffer') value = toBuffer(data);
    else if (this.#binaryType === 'arraybuffer') value = toArrayBuffer(data);
    else value = new Blob([toArrayBuffer(data)]);
    this.dispatchEvent(new MessageEvent('message', { data: value, origin: this.#origin }));
  }

  #onConnectionClosed(code: number, reason: string, wasClean: boolean): void {
    if (this.#readyState === CLOSED) return;
    this.#connection = null;
    const reconnect = this.#reconnect;
    reconnect?.lost();
    if (reconnect === null || !reconnect.allows(code)) {
      // The server that tracks this socket forgets it before anyone hears of the close.
      this.#closedForGood(code, reason, wasClean, this.#server?.onClosed ?? null);
      return;
    }
    this.#readyState = CONNECTING;
    this.fireClose(code, reason, wasClean);
    if (this.#readyState === CONNECTING) this.#retry();
  }

  /** No connection and no retry: CLOSED, then the lost queue's error, then the close event. */
  #closedForGood(
    code: number,
    reason: string,
    wasClean: boolean,
    onClosed: ((ws: WebSocket) => void) | null = null,
  ): void {
    this.#readyState = CLOSED;
    // Messages that will never be sent are reported before the final close.
    const notSent = this.#reconnect?.dropPending();
    if (notSent) this.fireError(notSent);
    onClosed?.(this);
    this.fireClose(code, reason, wasClean);
  }
}

/** @internal makes the `WebSocket` of a connection a server has accepted. */
export function acceptWebSocket<B extends BinaryType>(init: AcceptedSocketInit<B>): WebSocket<B> {
  return new WebSocket<B>(new Accepted(init) as unknown as string);
}
