import { socketErrorOfFailure } from '../qt/socket-error.js';
import { callUserCode, isBinary, jsonText } from '../shared.js';
import {
  adoptSocket,
  type PortCloseEvent,
  type PortErrorEvent,
  type PortMessageEvent,
  type PortSocket,
  type SocketFactory,
} from '../socket-port.js';
import { CloseCode, ReadyState, SocketError } from './enums.js';

/** `WebSocket.MessageData`: a message received on a WebSocket connection. */
export interface MessageData {
  /**
   * The message content: a string for a text message. For a binary message (Overte only ever
   * receives text), a `Blob` or an `ArrayBuffer` as `binaryType` says.
   */
  readonly data: string | Blob | ArrayBuffer;
}

/** `WebSocket.CloseData`: information on a connection being closed. */
export interface CloseData {
  /**
   * The reason why the connection was closed: a {@link CloseCode} value, 1005 when the peer's
   * close frame carried no code, 1006 when none arrived, or an application code (3000-4999).
   */
  readonly code: number;
  /** Description of the reason why the connection was closed. */
  readonly reason: string;
  /** `true` if the connection closed cleanly (closing handshake completed both ways). */
  readonly wasClean: boolean;
}

/** `WebSocket~onOpenCallback`: called when the connection opens, without arguments. */
export type OnOpenCallback = () => unknown;
/** `WebSocket~onMessageCallback`: called with each message received. */
export type OnMessageCallback = (message: MessageData) => unknown;
/** `WebSocket~onErrorCallback`: called with the {@link SocketError} number of an error. */
export type OnErrorCallback = (error: SocketError) => unknown;
/** `WebSocket~onCloseCallback`: called once when the connection closes. */
export type OnCloseCallback = (data: CloseData) => unknown;

/** What `binaryType` accepts: the form in which binary messages are delivered. */
export type OverteBinaryType = 'blob' | 'arraybuffer';

/** wskit additions to the constructor (Overte's has only the URL); ignored when wrapping a socket. */
export interface OverteWebSocketOptions {
  /** Subprotocols to offer; the one the server picks shows in `protocol`. */
  protocols?: string | readonly string[];
  /**
   * Node only: options of the underlying wskit WebSocket (`headers`, `tls`, `proxy`,
   * `handshakeTimeout`, `perMessageDeflate`, ...). Browsers ignore them.
   */
  socketOptions?: Record<string, unknown>;
}

/** Whether `value` has the WHATWG WebSocket shape a dialect can drive (wskit's or a browser's). */
function isPortSocket(value: unknown): value is PortSocket {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.send === 'function' &&
    typeof v.close === 'function' &&
    typeof v.addEventListener === 'function' &&
    typeof v.removeEventListener === 'function' &&
    typeof v.readyState === 'number'
  );
}

/** Binary message data in the form `binaryType` asks for; text stays a string. */
function convertData(data: unknown, binaryType: OverteBinaryType): string | Blob | ArrayBuffer {
  if (typeof data === 'string') return data;
  let buffer: ArrayBuffer;
  if (data instanceof ArrayBuffer) buffer = data;
  else if (ArrayBuffer.isView(data))
    buffer = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice().buffer;
  // A Blob from a wrapped socket whose binaryType was changed back by its owner: delivered as is
  // (turning it into an ArrayBuffer would take an asynchronous read and reorder messages).
  else return data as Blob;
  return binaryType === 'blob' ? new Blob([buffer]) : buffer;
}

/**
 * Overte's script `WebSocket` (Overte script API, High Fidelity lineage) on wskit: a
 * browser-style socket whose `onmessage` receives `{ data }`, `onerror` a {@link SocketError}
 * number, `onclose` `{ code, reason, wasClean }`, and whose `send()` also takes an object (sent as
 * its JSON text).
 *
 * Beyond Overte: `wss:` is supported; `binaryType`, `bufferedAmount`, `extensions` and `protocol`
 * are implemented (Overte documents them as missing); binary messages can be sent and
 * received; the constructor takes optional {@link OverteWebSocketOptions}.
 *
 * This is the portable base; `wskit/overte` binds it to wskit's Node WebSocket and the browser
 * build to the browser's native one.
 */
export class OverteWebSocketBase {
  /** The socket implementation used for URLs; set by the entry module's subclass. */
  protected static factory: SocketFactory;

  /** The connection is opening (0). */
  static readonly CONNECTING = ReadyState.CONNECTING;
  /** The connection is open (1). */
  static readonly OPEN = ReadyState.OPEN;
  /** The connection is closing (2). */
  static readonly CLOSING = ReadyState.CLOSING;
  /** The connection is closed (3). */
  static readonly CLOSED = ReadyState.CLOSED;
  /** The {@link CloseCode} enumeration, as `WebSocket.CloseCode`. */
  static readonly CloseCode = CloseCode;
  /** The {@link ReadyState} enumeration, as `WebSocket.ReadyState`. */
  static readonly ReadyState = ReadyState;
  /** The {@link SocketError} enumeration, as `WebSocket.SocketError`. */
  static readonly SocketError = SocketError;

  #socket: PortSocket;
  #binaryType: OverteBinaryType = 'blob';
  #onopen: OnOpenCallback | null = null;
  #onmessage: OnMessageCallback | null = null;
  #onerror: OnErrorCallback | null = null;
  #onclose: OnCloseCallback | null = null;

  /**
   * Connects to `urlOrWebSocket` when it is a URL (`ws:`, `wss:`, `http:`, `https:`; Node also
   * `ws+unix:`), or wraps an existing socket: another Overte `WebSocket` (the new object reuses
   * its connection; both receive its events, each through its own handlers) or a WHATWG-shaped
   * socket such as one a wskit `WebSocketServer` accepted or a browser's native `WebSocket`
   * (its `binaryType` is set to `"arraybuffer"`). A wrapped socket that is already open fires no
   * `onopen`. Throws a `SyntaxError` DOMException for a URL that cannot be used, and a
   * `TypeError` for anything else that is neither a URL nor a socket.
   */
  constructor(
    urlOrWebSocket: string | URL | OverteWebSocketBase | PortSocket,
    options: OverteWebSocketOptions = {},
  ) {
    if (urlOrWebSocket instanceof OverteWebSocketBase) {
      this.#socket = urlOrWebSocket.#socket;
    } else if (isPortSocket(urlOrWebSocket)) {
      this.#socket = adoptSocket(urlOrWebSocket);
    } else if (typeof urlOrWebSocket === 'string' || urlOrWebSocket instanceof URL) {
      const factory = (this.constructor as typeof OverteWebSocketBase).factory;
      if (typeof factory !== 'function') {
        throw new TypeError(
          'this WebSocket class cannot open connections: use the one of wskit/overte',
        );
      }
      const { protocols, socketOptions } = options;
      this.#socket = factory(String(urlOrWebSocket), {
        ...(protocols !== undefined
          ? { protocols: typeof protocols === 'string' ? [protocols] : [...protocols] }
          : {}),
        ...(socketOptions ? { node: socketOptions } : {}),
      });
    } else {
      throw new TypeError('new WebSocket() needs a URL or an existing WebSocket to wrap');
    }
    const socket = this.#socket;
    let opened = socket.readyState === ReadyState.OPEN;
    socket.addEventListener('open', () => {
      opened = true;
      if (this.#onopen !== null) callUserCode('onopen', this.#onopen, this);
    });
    socket.addEventListener('message', (event: PortMessageEvent) => {
      const handler = this.#onmessage;
      if (handler !== null)
        callUserCode('onmessage', handler, this, {
          data: convertData(event.data, this.#binaryType),
        });
    });
    socket.addEventListener('error', (event: PortErrorEvent) => {
      const handler = this.#onerror;
      if (handler !== null)
        callUserCode(
          'onerror',
          handler,
          this,
          socketErrorOfFailure(event.error, opened) as SocketError,
        );
    });
    socket.addEventListener('close', (event: PortCloseEvent) => {
      const handler = this.#onclose;
      if (handler !== null)
        callUserCode('onclose', handler, this, {
          code: event.code,
          reason: event.reason,
          wasClean: event.wasClean,
        });
    });
  }

  // -- constants on the instance ----------------------------------------------------------------

  /** The connection is opening (0). Read-only. */
  get CONNECTING(): 0 {
    return ReadyState.CONNECTING;
  }
  /** The connection is open (1). Read-only. */
  get OPEN(): 1 {
    return ReadyState.OPEN;
  }
  /** The connection is closing (2). Read-only. */
  get CLOSING(): 2 {
    return ReadyState.CLOSING;
  }
  /** The connection is closed (3). Read-only. */
  get CLOSED(): 3 {
    return ReadyState.CLOSED;
  }

  // -- properties --------------------------------------------------------------------------------

  /**
   * How binary messages reach `onmessage`: `"blob"` (default) as a `Blob`, `"arraybuffer"` as an
   * `ArrayBuffer`. Other values are ignored. Overte: "Not used"; wskit implements it.
   */
  get binaryType(): OverteBinaryType {
    return this.#binaryType;
  }
  set binaryType(value: OverteBinaryType) {
    if (value === 'blob' || value === 'arraybuffer') this.#binaryType = value;
  }

  /**
   * Bytes passed to `send()` that have not been handed to the network yet. Read-only.
   * Overte: missing (always 0); wskit implements it.
   */
  get bufferedAmount(): number {
    return this.#socket.bufferedAmount;
  }

  /**
   * The extensions the server accepted (e.g. `permessage-deflate`), or `""`. Read-only.
   * Overte: missing (always `""`); wskit implements it.
   */
  get extensions(): string {
    return this.#socket.extensions;
  }

  /**
   * The subprotocol the server selected (see {@link OverteWebSocketOptions.protocols}), or `""`.
   * Read-only. Overte: missing (always `""`); wskit implements it.
   */
  get protocol(): string {
    return this.#socket.protocol;
  }

  /** The state of the connection, a {@link ReadyState} value. Read-only. */
  get readyState(): ReadyState {
    return this.#socket.readyState as ReadyState;
  }

  /** The URL connected to, as parsed (e.g. `ws://host:port/`). Read-only. */
  get url(): string {
    return this.#socket.url;
  }

  /** Function called when the connection opens; `null` for none. Non-functions are stored as `null`. */
  get onopen(): OnOpenCallback | null {
    return this.#onopen;
  }
  set onopen(fn: OnOpenCallback | null) {
    this.#onopen = typeof fn === 'function' ? fn : null;
  }

  /** Function called with `{ data }` when a message is received; `null` for none. */
  get onmessage(): OnMessageCallback | null {
    return this.#onmessage;
  }
  set onmessage(fn: OnMessageCallback | null) {
    this.#onmessage = typeof fn === 'function' ? fn : null;
  }

  /**
   * Function called with a {@link SocketError} number when an error occurs (`-1`,
   * `UnknownSocketError`, when the cause has no Qt number, e.g. a refused handshake, or in a
   * browser, which gives no detail); `onclose` follows.
   */
  get onerror(): OnErrorCallback | null {
    return this.#onerror;
  }
  set onerror(fn: OnErrorCallback | null) {
    this.#onerror = typeof fn === 'function' ? fn : null;
  }

  /** Function called with `{ code, reason, wasClean }` when the connection closes; `null` for none. */
  get onclose(): OnCloseCallback | null {
    return this.#onclose;
  }
  set onclose(fn: OnCloseCallback | null) {
    this.#onclose = typeof fn === 'function' ? fn : null;
  }

  // -- methods -----------------------------------------------------------------------------------

  /**
   * Closes the connection with `closeCode` (default 1000, `CloseCode.Normal`) and `reason`
   * (default `""`, at most 123 UTF-8 bytes). A client socket may use 1000 or 3000-4999; a socket
   * a server accepted may use any code valid on the wire (1001, 1008, 1011, ...). Other codes
   * throw an `InvalidAccessError` DOMException, a longer reason a `SyntaxError` (Overte never
   * throws). Does nothing once closing or closed.
   */
  close(closeCode: CloseCode | number = CloseCode.Normal, reason = ''): void {
    this.#socket.close(closeCode, String(reason));
  }

  /**
   * Sends a message: a string as a text message; an `ArrayBuffer`, a typed array, a `DataView`
   * or a `Blob` as a binary message (wskit addition); any other object as its JSON text
   * (`JSON.stringify`, whose `TypeError` for cycles or BigInts propagates). Throws an
   * `InvalidStateError` DOMException while connecting, as browsers do; after close has begun the
   * data is discarded.
   */
  send(message: string | object): void {
    if (typeof message === 'string') this.#socket.send(message);
    else if (isBinary(message)) this.#socket.send(message);
    else this.#socket.send(jsonText(message) ?? String(message));
  }
}
