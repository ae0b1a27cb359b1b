/**
 * wskit's `WebSocket` in a browser: the browser's own WebSocket (the network, TLS and the
 * protocol stay the browser's) with what wskit adds that a page can use: reconnection with
 * backoff and a bounded send queue, a heartbeat by application messages, async iteration,
 * `WebSocket.connect()`, JSON helpers and typed errors.
 */
import { ConnectionError, WebSocketError } from '../errors.js';
import { CloseCode } from '../protocol/close-codes.js';
import {
  type ErrorEvent,
  MessageEvent,
  type StandardBinaryData,
  WebSocketEvent,
} from '../web/events.js';
import { decodeJson } from '../web/json.js';
import { messageIterator } from '../web/message-iterator.js';
import { Reconnect, type ReconnectOptions, resolveReconnect } from '../web/reconnect.js';
import { invalidState, type SocketEventMap, WebSocketBase } from '../web/websocket-base.js';
import { whenOpen } from '../web/when-open.js';
import { type BrowserHeartbeatOptions, checkBrowserHeartbeat, Heartbeat } from './heartbeat.js';

/** How binary messages are delivered in a browser: `Blob` (the default) or `ArrayBuffer`. */
export type BrowserBinaryType = 'blob' | 'arraybuffer';

/**
 * The `data` of a message event on a socket whose `binaryType` is `B`: text, or a `Blob` or an
 * `ArrayBuffer` (either for the union: a socket whose binary type may change at run time).
 */
export type BrowserMessageData<B extends BrowserBinaryType = BrowserBinaryType> =
  | string
  | StandardBinaryData[B];

/** What `send()` accepts, as in the WHATWG standard. */
export type BrowserWebSocketData = string | ArrayBufferLike | ArrayBufferView | Blob;

/**
 * Options of wskit's browser `WebSocket` (the third constructor argument). `B` is the type of
 * the `binaryType` option, which types the socket's messages.
 */
export interface BrowserWebSocketOptions<B extends BrowserBinaryType = BrowserBinaryType> {
  /** Initial `binaryType` (default "blob"). */
  binaryType?: B;
  /** Reconnect after connection failures and unexpected closes: true for defaults, or settings. */
  reconnect?: boolean | ReconnectOptions;
  /** Send an application message when the connection is idle and drop it when nothing answers. */
  heartbeat?: BrowserHeartbeatOptions;
}

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

/** The events of a browser `WebSocket`, by type: `data` is typed by the binary type `B`. */
export interface BrowserWebSocketEventMap<B extends BrowserBinaryType = BrowserBinaryType>
  extends SocketEventMap {
  /** A message: `data` is a string, or binary data as `binaryType` says. */
  message: MessageEvent<BrowserMessageData<B>>;
  /** The connection or an attempt failed; `error` is a typed wskit error. */
  error: ErrorEvent<WebSocketError>;
}
type NativeWebSocket = globalThis.WebSocket;

function byteSize(data: BrowserWebSocketData): number {
  if (typeof data === 'string') return new TextEncoder().encode(data).length;
  if (data instanceof Blob) return data.size;
  return data.byteLength;
}

/** The browser's own WebSocket class, refusing wskit's (which may have been installed globally). */
function nativeClass(): typeof globalThis.WebSocket {
  const native = globalThis.WebSocket;
  if (typeof native !== 'function' || (native as unknown) === WebSocket) {
    throw new WebSocketError(
      'ERR_WS_UNSUPPORTED_OPERATION',
      'this runtime has no native WebSocket: in Node.js import wskit without the "browser" condition',
    );
  }
  return native;
}

/**
 * The WHATWG `WebSocket` of the browser, with wskit's additions. Without options it behaves as
 * the browser's own; `error` events carry a typed wskit error (browsers give no detail about a
 * failure, so its code is `ERR_WS_NETWORK` unless wskit itself detected the problem).
 *
 * With the `reconnect` option the same object survives connection losses: after an unexpected
 * close it goes back to CONNECTING, fires `reconnecting` before each attempt and `open` on each
 * success, and `send()` queues messages (in order, bounded) while disconnected.
 */
export class WebSocket<B extends BrowserBinaryType = BrowserBinaryType> extends WebSocketBase<
  BrowserWebSocketEventMap<B>
> {
  #url: string;
  #protocols: string[];
  #native: NativeWebSocket | null = null;
  #readyState: number = CONNECTING;
  #binaryType: B;
  #reconnect: Reconnect<BrowserWebSocketData> | null;
  #heartbeatOptions: BrowserHeartbeatOptions | null;
  #heartbeat: Heartbeat | null = null;

  /**
   * Opens a connection to `url` (`ws:`, `wss:`, `http:`, `https:`, or a path relative to the
   * page), offering `protocols` as subprotocols. Throws the browser's `SyntaxError` for a bad URL
   * or protocol list, and a TypeError for invalid options.
   *
   * The `binaryType` option types the messages: with "arraybuffer", `data` is
   * `string | ArrayBuffer`. Without it, `data` may be either binary type, as `binaryType` may be
   * set to either later.
   */
  constructor(
    url: string | URL,
    protocols?: string | readonly string[],
    options: BrowserWebSocketOptions<B> = {},
  ) {
    super();
    this.#protocols =
      protocols === undefined ? [] : typeof protocols === 'string' ? [protocols] : [...protocols];
    // The option, or its default "blob" (which B, without the option, includes).
    this.#binaryType = (options.binaryType === 'arraybuffer' ? 'arraybuffer' : 'blob') as B;
    const policy = resolveReconnect(options.reconnect);
    this.#reconnect = policy ? new Reconnect(policy) : null;
    this.#heartbeatOptions = checkBrowserHeartbeat(options.heartbeat);
    // The browser checks the URL and the protocols: its SyntaxError reaches the caller as is.
    const native = new (nativeClass())(url, this.#protocols);
    this.#url = native.url;
    this.#attach(native);
  }

  /**
   * Connects and resolves with the open socket, or rejects with the typed error that made the
   * connection fail. With `reconnect`, it resolves on the first open.
   */
  static connect<B extends BrowserBinaryType = BrowserBinaryType>(
    url: string | URL,
    options: BrowserWebSocketOptions<B> & { protocols?: string | readonly string[] } = {},
  ): Promise<WebSocket<B>> {
    try {
      return whenOpen(new WebSocket<B>(url, options.protocols, options));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** The URL, resolved by the browser (`http:` becomes `ws:`). */
  get url(): string {
    return this.#url;
  }
  /** CONNECTING (0; also between reconnection attempts), OPEN, CLOSING or CLOSED. */
  get readyState(): number {
    return this.#readyState;
  }
  /** The subprotocol the server selected, or "". */
  get protocol(): string {
    return this.#native?.protocol ?? '';
  }
  /** The extensions the server accepted, or "". */
  get extensions(): string {
    return this.#native?.extensions ?? '';
  }
  /** Bytes the browser has not yet sent, plus messages queued while reconnecting. */
  get bufferedAmount(): number {
    return (this.#native?.bufferedAmount ?? 0) + (this.#reconnect?.pendingBytes ?? 0);
  }
  /**
   * How binary messages are delivered: "blob" or "arraybuffer". It takes the values of `B`
   * only, so that `data` stays typed: either on a socket made without the `binaryType` option.
   */
  get binaryType(): B {
    return this.#binaryType;
  }
  set binaryType(value: B) {
    // WebIDL enumerations ignore values outside the enumeration.
    if (value !== 'blob' && value !== 'arraybuffer') return;
    this.#binaryType = value;
    if (this.#native) this.#native.binaryType = value;
  }

  /**
   * Sends a message: a string as text; an `ArrayBuffer`, a typed array, a `DataView` or a `Blob`
   * as binary. Throws `InvalidStateError` while connecting (with `reconnect`, the message is
   * queued instead, and a full queue throws `ERR_WS_QUEUE_FULL`).
   */
  send(data: BrowserWebSocketData): void {
    if (this.#readyState === CONNECTING) {
      const reconnect = this.#reconnect;
      if (!reconnect) throw invalidState('send() was called before the connection opened');
      reconnect.queue(data, byteSize(data));
      return;
    }
    // After close has begun the browser discards the data and counts it in bufferedAmount.
    this.#native?.send(data as ArrayBuffer);
  }

  /**
   * Starts the closing handshake. `code` must be 1000 or 3000-4999 (`InvalidAccessError`
   * otherwise) and `reason` at most 123 UTF-8 bytes (`SyntaxError` otherwise). Stops
   * reconnection.
   */
  close(code?: number, reason?: string): void {
    if (
      code !== undefined &&
      !(code === CloseCode.Normal || (Math.trunc(code) >= 3000 && Math.trunc(code) <= 4999))
    ) {
      throw new DOMException(
        `close code ${code} is not allowed: use 1000 or 3000-4999`,
        'InvalidAccessError',
      );
    }
    if (reason !== undefined && new TextEncoder().encode(reason).length > 123) {
      throw new DOMException('close reason is longer than 123 UTF-8 bytes', 'SyntaxError');
    }
    this.#reconnect?.stop();
    if (this.#readyState === CLOSING || this.#readyState === CLOSED) return;
    const native = this.#native;
    if (native && native.readyState < CLOSING) {
      this.#readyState = CLOSING;
      native.close(code, reason);
      return;
    }
    // Between reconnection attempts: stop here. The final close comes in a later task, so it
    // is not nested in the event that led here.
    this.#readyState = CLOSING;
    setTimeout(() => this.#finish(CloseCode.Abnormal, '', false), 0);
  }

  /**
   * Iterates over incoming messages: `for await (const data of ws)`. Ends when the connection
   * closes cleanly; throws the typed error when it fails.
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<BrowserMessageData<B>> {
    return messageIterator(this);
  }

  /**
   * Iterates over incoming messages parsed as JSON: `for await (const value of ws.json())`. A
   * message that is not JSON text ends the loop with `ERR_WS_INVALID_ARGUMENT`.
   */
  json(): AsyncIterableIterator<unknown> {
    return messageIterator(this, { map: decodeJson });
  }

  // -- connection ------------------------------------------------------------------------------

  #attach(native: NativeWebSocket): void {
    this.#native = native;
    native.binaryType = this.#binaryType;
    let opened = false;
    let failed = false;
    native.onopen = () => {
      if (this.#native !== native) return;
      opened = true;
      this.#readyState = OPEN;
      if (this.#heartbeatOptions) {
        this.#heartbeat = new Heartbeat(
          this.#heartbeatOptions,
          (message) => native.send(message as ArrayBuffer),
          (timeout) => this.#peerDead(native, timeout),
        );
      }
      // Messages queued while disconnected go first, in order.
      const reconnect = this.#reconnect;
      if (reconnect) {
        reconnect.opened();
        for (const data of reconnect.takePending()) native.send(data as ArrayBuffer);
      }
      this.dispatchEvent(new WebSocketEvent('open'));
    };
    native.onmessage = (event: globalThis.MessageEvent) => {
      if (this.#native !== native) return;
      this.#heartbeat?.received();
      // WHATWG: messages that arrive after close() was called are not delivered.
      if (this.#readyState !== OPEN || !this.hasListeners('message')) return;
      this.dispatchEvent(new MessageEvent('message', { data: event.data, origin: event.origin }));
    };
    native.onerror = () => {
      if (this.#native !== native) return;
      failed = true;
      // Only close() sets CLOSING: here, before the connection was established.
      if (!opened && this.#readyState === CLOSING) {
        this.fireError(
          new ConnectionError(
            'ERR_WS_CONNECTION_CLOSED',
            'close() was called before the connection was established',
          ),
        );
        return;
      }
      this.fireError(
        new ConnectionError(
          'ERR_WS_NETWORK',
          opened
            ? `the connection to ${this.#url} failed (the browser gives no reason)`
            : `could not connect to ${this.#url}: the server is down, unreachable or refused the upgrade (the browser gives no reason)`,
        ),
      );
    };
    native.onclose = (event: globalThis.CloseEvent) => {
      if (this.#native !== native) return;
      this.#closed(event.code, event.reason, event.wasClean && !failed, opened);
    };
  }

  /** The heartbeat found no answer: drop the connection without waiting for the browser. */
  #peerDead(native: NativeWebSocket, timeout: number): void {
    if (this.#native !== native) return;
    this.fireError(
      new ConnectionError(
        'ERR_WS_TIMEOUT',
        `no message within ${timeout} ms after the heartbeat: the peer is unreachable`,
      ),
    );
    if (this.#native !== native) return;
    native.onopen = native.onmessage = native.onerror = native.onclose = null;
    // The browser may wait long for a dead peer's close frame; this object does not.
    native.close();
    this.#closed(CloseCode.Abnormal, '', false, true);
  }

  #closed(code: number, reason: string, wasClean: boolean, opened: boolean): void {
    this.#heartbeat?.stop();
    this.#heartbeat = null;
    this.#native = null;
    const reconnect = this.#reconnect;
    if (reconnect === null || !reconnect.allows(code)) {
      this.#finish(code, reason, wasClean);
      return;
    }
    this.#readyState = CONNECTING;
    // A lost open connection reports its close; a failed attempt only its error.
    if (opened) this.fireClose(code, reason, wasClean);
    if (this.#readyState === CONNECTING) reconnect.retry(this, () => this.#reopen());
  }

  protected override fireError(error: WebSocketError): void {
    if (this.#reconnect) this.#reconnect.lastError = error;
    super.fireError(error);
  }

  /** The next attempt: a new native socket, attached like the first. */
  #reopen(): void {
    let native: NativeWebSocket;
    try {
      native = new (nativeClass())(this.#url, this.#protocols);
    } catch (error) {
      this.fireError(
        new WebSocketError('ERR_WS_UNKNOWN', 'the browser refused to reconnect', {
          cause: error,
        }),
      );
      this.#finish(CloseCode.Abnormal, '', false);
      return;
    }
    this.#attach(native);
  }

  #finish(code: number, reason: string, wasClean: boolean): void {
    if (this.#readyState === CLOSED) return;
    this.#readyState = CLOSED;
    // Messages that will never be sent are reported before the final close.
    const notSent = this.#reconnect?.dropPending();
    if (notSent) this.fireError(notSent);
    this.fireClose(code, reason, wasClean);
  }
}
