import { isValidWireCloseCode } from '../../protocol/close-codes.js';
import { checkOptions } from '../options.js';
import { socketErrorOfFailure, socketErrorOfUrl } from '../qt/socket-error.js';
import { callUserCode, freezeStatics, isBinary, jsonText, truncateUtf8 } from '../shared.js';
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
   * The message content: a string for a text message; for a binary message an `ArrayBuffer`, as
   * Overte's engine delivers it (or a `Blob` with `binaryType` "blob").
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

/**
 * wskit additions to the constructor (Overte's has only the URL). Unknown keys are a
 * `TypeError`; `protocols` and `socketOptions` apply to a URL only, and are refused with a socket
 * to wrap (that socket is already connected).
 */
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

const CONSTRUCTOR_OPTIONS: readonly string[] = ['protocols', 'socketOptions'];
const CONSTRUCTOR_HINTS: Readonly<Record<string, string>> = {
  protocol: 'protocols',
  subprotocols: 'protocols',
  headers: 'socketOptions',
  tls: 'socketOptions',
  proxy: 'socketOptions',
  origin: 'socketOptions',
  perMessageDeflate: 'socketOptions',
  handshakeTimeout: 'socketOptions',
};

/** The socket of a `WebSocket` whose URL could not be used: closed from the start, inert. */
function failedSocket(url: string): PortSocket {
  return {
    readyState: ReadyState.CLOSED,
    url,
    protocol: '',
    extensions: '',
    bufferedAmount: 0,
    binaryType: 'arraybuffer',
    send: () => {},
    close: () => {},
    addEventListener: () => {},
    removeEventListener: () => {},
  };
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
  #binaryType: OverteBinaryType = 'arraybuffer';
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
   * `onopen`. A URL that cannot be used does not throw (Qt's `open()` never does): in a later
   * task `onerror` gets the Qt number (10, `UnsupportedSocketOperationError`, for an unsupported
   * or missing scheme; 0, `ConnectionRefusedError`, for an invalid URL), then `onclose` 1006.
   * Throws a `TypeError` for anything that is neither a URL nor a socket, and for an unknown
   * option.
   */
  constructor(
    urlOrWebSocket: string | URL | OverteWebSocketBase | PortSocket,
    options: OverteWebSocketOptions = {},
  ) {
    checkOptions('new WebSocket()', options, CONSTRUCTOR_OPTIONS, CONSTRUCTOR_HINTS);
    const isUrl = typeof urlOrWebSocket === 'string' || urlOrWebSocket instanceof URL;
    if (!isUrl && Object.keys(options).length > 0) {
      throw new TypeError(
        'new WebSocket(existingWebSocket, options): options apply to a URL only; the wrapped socket is already connected',
      );
    }
    if (urlOrWebSocket instanceof OverteWebSocketBase) {
      this.#socket = urlOrWebSocket.#socket;
    } else if (isPortSocket(urlOrWebSocket)) {
      this.#socket = adoptSocket(urlOrWebSocket);
    } else if (isUrl) {
      const factory = (this.constructor as typeof OverteWebSocketBase).factory;
      if (typeof factory !== 'function') {
        throw new TypeError(
          'this WebSocket class cannot open connections: use the one of wskit/overte',
        );
      }
      const url = String(urlOrWebSocket);
      const { protocols, socketOptions } = options;
      try {
        this.#socket = factory(url, {
          ...(protocols !== undefined
            ? { protocols: typeof protocols === 'string' ? [protocols] : [...protocols] }
            : {}),
          ...(socketOptions ? { node: socketOptions } : {}),
        });
      } catch {
        // Qt's open() reports an unusable URL as an error, never throws: onerror, then onclose.
        this.#socket = failedSocket(url);
        this.#reportUnusableUrl(url);
      }
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

  /** In a later task, so that handlers assigned after the constructor see it. */
  #reportUnusableUrl(url: string): void {
    const socketError = socketErrorOfUrl(url) as SocketError;
    setTimeout(() => {
      if (this.#onerror !== null) callUserCode('onerror', this.#onerror, this, socketError);
      if (this.#onclose !== null)
        callUserCode('onclose', this.#onclose, this, {
          code: CloseCode.AbnormalDisconnection,
          reason: '',
          wasClean: false,
        });
    }, 0);
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
   * How binary messages reach `onmessage`: `"arraybuffer"` (default) as an `ArrayBuffer`, as
   * Overte's engine delivers them (its documentation's default "blob" is for a property it does
   * not use), or `"blob"` as a `Blob`. Other values are ignored.
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
   * (default `""`), as Qt's `QWebSocket::close()`: never throws. A reason over 123 UTF-8 bytes is
   * cut at a character boundary. Every code valid on the wire goes to the peer as given (1000-1003,
   * 1007-1011 of {@link CloseCode}, 1012-1014, 3000-4999; a browser page may send only 1000 and
   * 3000-4999, so there the others close with 1000). The codes RFC 6455 forbids on the wire
   * (1004, 1005, 1006, 1015) and any other number close without a status code: the peer sees
   * 1005. Does nothing once closing or closed.
   */
  close(closeCode: CloseCode | number = CloseCode.Normal, reason = ''): void {
    const socket = this.#socket;
    if (socket.readyState === ReadyState.CLOSING || socket.readyState === ReadyState.CLOSED) return;
    const code = Number(closeCode);
    const text = truncateUtf8(String(reason), 123);
    if (!Number.isInteger(code) || !isValidWireCloseCode(code)) {
      socket.close();
      return;
    }
    try {
      socket.close(code, text);
    } catch {
      // A browser's native WebSocket refuses codes other than 1000 and 3000-4999.
      socket.close(CloseCode.Normal, text);
    }
  }

  /**
   * Sends a message: a string as a text message; an `ArrayBuffer`, a typed array, a `DataView`
   * or a `Blob` as a binary message (as Overte sends an ArrayBuffer); any other object as its
   * JSON text (the seed: "converted to a string"; JSON is what a receiving script can parse back,
   * where the engine's own conversion would give "[object Object]"); a number, boolean, `null`
   * or `undefined` as the engine converts it to a string (`String(message)`, e.g. "42").
   * Before the connection opens and after it closes nothing is sent and nothing is thrown, as
   * Qt sends nothing. A cycle or a BigInt inside an object throws `JSON.stringify`'s `TypeError`.
   */
  send(message: unknown): void {
    const socket = this.#socket;
    let data: string | ArrayBuffer | ArrayBufferView | Blob;
    if (typeof message === 'string' || isBinary(message)) data = message;
    else if (typeof message === 'object' && message !== null)
      data = jsonText(message) ?? String(message);
    else data = String(message);
    if (socket.readyState !== ReadyState.OPEN) return;
    socket.send(data);
  }
}

freezeStatics(OverteWebSocketBase, [
  'CONNECTING',
  'OPEN',
  'CLOSING',
  'CLOSED',
  'CloseCode',
  'ReadyState',
  'SocketError',
]);
