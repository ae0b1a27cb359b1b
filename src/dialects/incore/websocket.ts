import type { WebSocketError, WebSocketErrorCode } from '../../errors.js';
import { backoff } from '../../web/backoff.js';
import { unknownKeyMessage } from '../options.js';
import { Signal } from '../qt/signal.js';
import { socketErrorOfFailure, socketErrorOfUrl } from '../qt/socket-error.js';
import { freezeStatics, toArrayBuffer, toBytes, utf8Length } from '../shared.js';
import type {
  PortCloseEvent,
  PortErrorEvent,
  PortMessageEvent,
  PortSocket,
  SocketFactory,
} from '../socket-port.js';
import { InCoreError, InCoreState } from './enums.js';
import { ReadBuffer } from './read-buffer.js';

/** Writable properties, restored by `deserializeProperties()` and `fromJson()`. */
export interface InCoreProperties {
  url?: string;
  autoConnect?: boolean;
  subProtocol?: string;
  objectId?: string;
  autoOpen?: boolean;
  append?: boolean;
  truncate?: boolean;
  readOnly?: boolean;
  unbuffered?: boolean;
  nameArgument?: string;
}

type Handler<Args extends unknown[]> =
  | ((this: InCoreWebSocketBase, ...args: Args) => unknown)
  | null;

/**
 * What `new WebSocket({...})` takes: the writable properties, `parent`, handlers named as in
 * QML (`onConnected`, `onTextMessageReceived`, `onStateChanged`, ...) and two wskit settings.
 */
export interface InCoreInit extends InCoreProperties {
  parent?: object | null;
  /** wskit: first delay before `autoConnect` retries after an error, in ms (default 1000). */
  reconnectDelay?: number;
  /**
   * wskit: most bytes the IoDevice read buffer holds (default 16 MiB, as `QAbstractSocket`'s
   * `readBufferSize`; 0: no limit). A binary message that would overflow it fails the
   * connection: see the README.
   */
  readBufferSize?: number;
  /** wskit, Node only: options for the underlying wskit WebSocket (tls, headers, proxy...). */
  socketOptions?: Record<string, unknown>;
  [handler: `on${string}`]: ((this: InCoreWebSocketBase, ...args: never[]) => unknown) | undefined;
}

/** Signal names of the object, its IoDevice and Object bases, and every property's change signal. */
export const INCORE_SIGNALS = [
  'binaryMessageReceived',
  'connected',
  'disconnected',
  'errorOccurred',
  'ipSocketErrorOccurred',
  'sslErrorOccurred',
  'textMessageReceived',
  'lineAvailableForRead',
  'readyRead',
  'completed',
  'autoConnectChanged',
  'errorChanged',
  'errorStringChanged',
  'stateChanged',
  'subProtocolChanged',
  'urlChanged',
  'appendChanged',
  'atEndChanged',
  'autoOpenChanged',
  'bytesAvailableChanged',
  'canReadLineChanged',
  'deviceErrorStringChanged',
  'isOpenChanged',
  'isWritableChanged',
  'nameArgumentChanged',
  'posChanged',
  'readOnlyChanged',
  'sizeChanged',
  'truncateChanged',
  'unbufferedChanged',
  'objectIdChanged',
  'parentChanged',
] as const;

// autoConnect comes before url, so restoring { url, autoConnect: false } does not connect.
const SERIALIZED: ReadonlyArray<keyof InCoreProperties> = [
  'autoConnect',
  'url',
  'subProtocol',
  'objectId',
  'autoOpen',
  'append',
  'truncate',
  'readOnly',
  'unbuffered',
  'nameArgument',
];

/** Keys of the property bag other than handlers. */
const INIT_KEYS: readonly string[] = [
  ...SERIALIZED,
  'parent',
  'reconnectDelay',
  'readBufferSize',
  'socketOptions',
];
const INIT_HINTS: Readonly<Record<string, string>> = {
  protocol: 'subProtocol',
  protocols: 'subProtocol',
  headers: 'socketOptions',
  tls: 'socketOptions',
  reconnect: 'autoConnect',
};
/** `QAbstractSocket::SocketResourceError`: the read buffer is full. */
const SOCKET_RESOURCE_ERROR = 4;
/** The handler names of the property bag, exactly as QML spells them: `onConnected`, ... */
const HANDLER_KEYS: readonly string[] = INCORE_SIGNALS.map(
  (name) => `on${name.charAt(0).toUpperCase()}${name.slice(1)}`,
);

/** A non-negative number option, or `fallback` when absent; a `RangeError` otherwise. */
function nonNegative(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    throw new RangeError(`new WebSocket(): ${name} must be a number >= 0, not ${String(value)}`);
  return value;
}

const DEFAULT_READ_BUFFER_SIZE = 16 * 1024 * 1024;
// RFC 6455 section 4.1: each subprotocol is an HTTP token (RFC 7230 section 3.2.6).
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

const TLS_CODES = new Set<WebSocketErrorCode>([
  'ERR_WS_TLS',
  'ERR_WS_TLS_CERTIFICATE',
  'ERR_WS_TLS_INTERNAL',
]);
const MAX_RECONNECT_DELAY = 30_000;
/**
 * InCore's `WebSocket` object (InCore.Foundation 2.5, Qt lineage) on wskit. Two ways to use it,
 * as the InCore documentation says: messages (`connectToHost()`, `sendTextMessage()`,
 * `textMessageReceived`...) or as an IoDevice (`open()`, then `read()`/`write()` over binary
 * messages). Every signal is a {@link Signal} with `connect`/`disconnect` and an `onX` handler
 * property; every property has an `xChanged` signal, emitted only when its value changes.
 *
 * This is the portable base; `wskit/incore` binds it to wskit's Node WebSocket and the browser
 * build to the native one.
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the merged interface declares the onX handler properties defined on the prototype below.
export class InCoreWebSocketBase {
  /** The socket implementation; set by the entry module's subclass. */
  protected static factory: SocketFactory;

  static readonly NoError = InCoreError.NoError;
  static readonly IpSocketError = InCoreError.IpSocketError;
  static readonly NotOpenError = InCoreError.NotOpenError;
  static readonly SslError = InCoreError.SslError;
  static readonly Connecting = InCoreState.Connecting;
  static readonly Open = InCoreState.Open;
  static readonly Closing = InCoreState.Closing;
  static readonly Closed = InCoreState.Closed;

  // -- signals -----------------------------------------------------------------------------------
  /** A binary message arrived (also fills the read buffer while the IoDevice is open). */
  readonly binaryMessageReceived = new Signal<[message: ArrayBuffer]>('binaryMessageReceived');
  /** The connection has been established. */
  readonly connected = new Signal('connected');
  /** The connection has been closed (emitted once per connection that was established). */
  readonly disconnected = new Signal('disconnected');
  /** An error occurred; emitted every time, even when `error` does not change. */
  readonly errorOccurred = new Signal('errorOccurred');
  /** A socket-level error occurred, with its Qt `IpSocket.Error` / `SocketError` number. */
  readonly ipSocketErrorOccurred = new Signal<[socketError: number]>('ipSocketErrorOccurred');
  /** A TLS error occurred, with its description. */
  readonly sslErrorOccurred = new Signal<[errorString: string]>('sslErrorOccurred');
  /** A text message arrived. */
  readonly textMessageReceived = new Signal<[message: string]>('textMessageReceived');
  /** IoDevice: a complete line (ending in `\n`) can be read. */
  readonly lineAvailableForRead = new Signal('lineAvailableForRead');
  /** IoDevice: new bytes can be read. */
  readonly readyRead = new Signal('readyRead');
  /** Object: construction is complete (emitted once, right after the constructor's task). */
  readonly completed = new Signal('completed');
  readonly autoConnectChanged = new Signal('autoConnectChanged');
  readonly errorChanged = new Signal('errorChanged');
  readonly errorStringChanged = new Signal('errorStringChanged');
  readonly stateChanged = new Signal('stateChanged');
  readonly subProtocolChanged = new Signal('subProtocolChanged');
  readonly urlChanged = new Signal('urlChanged');
  readonly appendChanged = new Signal('appendChanged');
  readonly atEndChanged = new Signal('atEndChanged');
  readonly autoOpenChanged = new Signal('autoOpenChanged');
  readonly bytesAvailableChanged = new Signal('bytesAvailableChanged');
  readonly canReadLineChanged = new Signal('canReadLineChanged');
  readonly deviceErrorStringChanged = new Signal('deviceErrorStringChanged');
  readonly isOpenChanged = new Signal('isOpenChanged');
  readonly isWritableChanged = new Signal('isWritableChanged');
  readonly nameArgumentChanged = new Signal('nameArgumentChanged');
  readonly posChanged = new Signal('posChanged');
  readonly readOnlyChanged = new Signal('readOnlyChanged');
  readonly sizeChanged = new Signal('sizeChanged');
  readonly truncateChanged = new Signal('truncateChanged');
  readonly unbufferedChanged = new Signal('unbufferedChanged');
  readonly objectIdChanged = new Signal('objectIdChanged');
  readonly parentChanged = new Signal('parentChanged');

  // -- state -------------------------------------------------------------------------------------
  #url = '';
  #autoConnect = true;
  #subProtocol = '';
  #state: InCoreState = InCoreState.Closed;
  #error: InCoreError = InCoreError.NoError;
  #errorString = '';
  #objectId = '';
  #parent: object | null = null;
  #autoOpen = false;
  #append = false;
  #truncate = false;
  #readOnly = false;
  #unbuffered = false;
  #nameArgument = '';
  #deviceErrorString = '';
  #isOpen = false;
  #buffer = new ReadBuffer();
  #socket: PortSocket | null = null;
  #wasConnected = false;
  #closeRequested: PortSocket | null = null;
  #isComplete = false;
  #reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  #reconnectAttempt = 0;
  #reconnectDelay: number;
  #readBufferSize: number;
  #socketOptions: Record<string, unknown> | undefined;

  /**
   * Creates the object from a QML-like property bag: properties (`url`, `autoConnect`,
   * `subProtocol`, ...) and handlers (`onConnected`, `onTextMessageReceived`, ...). Like a QML
   * component, it completes after the current task: `completed` is emitted, then, with
   * `autoConnect` (the default) and a `url`, it connects.
   */
  constructor(init: InCoreInit & ThisType<InCoreWebSocketBase> = {}) {
    if (typeof init !== 'object' || init === null)
      throw new TypeError('new WebSocket() takes a property bag: { url, onConnected, ... }');
    const handlers: Array<[string, unknown]> = [];
    for (const [key, value] of Object.entries(init)) {
      if (HANDLER_KEYS.includes(key)) {
        if (value !== undefined && value !== null && typeof value !== 'function')
          throw new TypeError(`new WebSocket(): "${key}" must be a function, not ${typeof value}`);
        handlers.push([key, value]);
      } else if (!INIT_KEYS.includes(key)) {
        throw new TypeError(
          unknownKeyMessage(
            "InCore's new WebSocket()",
            key,
            [...INIT_KEYS, ...HANDLER_KEYS],
            INIT_HINTS,
            false,
          ),
        );
      }
    }
    this.#reconnectDelay = nonNegative('reconnectDelay', init.reconnectDelay, 1000);
    this.#readBufferSize = nonNegative(
      'readBufferSize',
      init.readBufferSize,
      DEFAULT_READ_BUFFER_SIZE,
    );
    this.#socketOptions = init.socketOptions;
    if (init.parent !== undefined) this.#parent = init.parent;
    this.deserializeProperties(init);
    for (const [key, value] of handlers)
      if (value !== undefined) (this as unknown as Record<string, unknown>)[key] = value;
    queueMicrotask(() => {
      this.#isComplete = true;
      this.completed.emit();
      if (this.#autoOpen) this.open();
      else if (this.#autoConnect && this.#url !== '') this.connectToHost();
    });
  }

  // -- properties --------------------------------------------------------------------------------

  /** Connect automatically once complete, and reconnect after connection errors. Default true. */
  get autoConnect(): boolean {
    return this.#autoConnect;
  }
  set autoConnect(value: boolean) {
    if (!this.#change('autoConnect', Boolean(value))) return;
    if (!this.#autoConnect) this.#cancelReconnect();
    else if (this.#isComplete && this.#state === InCoreState.Closed && this.#url !== '')
      this.connectToHost();
  }

  /** The most recent error, or `NoError`. Repeating the same error does not change it. */
  get error(): InCoreError {
    return this.#error;
  }

  /** Human-readable text for `error`, with the reason when known. */
  get errorString(): string {
    return this.#errorString;
  }

  /**
   * The connection state. Writable: setting `Open` connects, setting `Closed` disconnects;
   * `Connecting` and `Closing` are set by the object itself.
   */
  get state(): InCoreState {
    return this.#state;
  }
  set state(value: InCoreState) {
    if (value === InCoreState.Open) this.connectToHost();
    else if (value === InCoreState.Closed) this.disconnectFromHost();
  }

  /** The subprotocol to request (RFC 6455 section 1.9); used from the next connection on. */
  get subProtocol(): string {
    return this.#subProtocol;
  }
  set subProtocol(value: string) {
    this.#change('subProtocol', String(value));
  }

  /** The server URL, e.g. `ws://ws.example.org:8000`. Changing it while connected reconnects. */
  get url(): string {
    return this.#url;
  }
  set url(value: string) {
    if (!this.#change('url', String(value))) return;
    const wasActive = this.#socket !== null;
    if (wasActive) this.#detachSocket();
    // A new URL is used at once when connected, or when autoConnect waits for one.
    if (this.#url !== '' && (wasActive || (this.#autoConnect && this.#isComplete)))
      this.connectToHost();
  }

  /** Object: an identifier for the object (free text). */
  get objectId(): string {
    return this.#objectId;
  }
  set objectId(value: string) {
    this.#change('objectId', String(value));
  }

  /** Object: the parent object, or null. */
  get parent(): object | null {
    return this.#parent;
  }
  set parent(value: object | null) {
    this.#change('parent', value ?? null);
  }

  /** IoDevice: `open()` automatically when the object completes. Default false. */
  get autoOpen(): boolean {
    return this.#autoOpen;
  }
  set autoOpen(value: boolean) {
    if (
      this.#change('autoOpen', Boolean(value)) &&
      this.#autoOpen &&
      this.#isComplete &&
      !this.#isOpen
    )
      this.open();
  }

  /**
   * IoDevice: open in append mode. A file concept; a socket is always written at its end, so it
   * has no further effect here (kept for property round trips, as `QIODevice::Append` on a socket).
   */
  get append(): boolean {
    return this.#append;
  }
  set append(value: boolean) {
    this.#change('append', Boolean(value));
  }

  /** IoDevice: truncate on open. A file concept with no effect on a socket (kept for round trips). */
  get truncate(): boolean {
    return this.#truncate;
  }
  set truncate(value: boolean) {
    this.#change('truncate', Boolean(value));
  }

  /** IoDevice: open for reading only; `write()` then fails with -1. Default false. */
  get readOnly(): boolean {
    return this.#readOnly;
  }
  set readOnly(value: boolean) {
    if (this.#change('readOnly', Boolean(value))) this.#derivedChanged();
  }

  /**
   * IoDevice: `QIODevice::Unbuffered`. Messages already arrive whole, so bypassing a buffer
   * changes nothing observable: reads still return the received bytes. Kept for round trips.
   */
  get unbuffered(): boolean {
    return this.#unbuffered;
  }
  set unbuffered(value: boolean) {
    this.#change('unbuffered', Boolean(value));
  }

  /** IoDevice: a name argument (used by file-like devices); not used by the WebSocket. */
  get nameArgument(): string {
    return this.#nameArgument;
  }
  set nameArgument(value: string) {
    this.#change('nameArgument', String(value));
  }

  /** IoDevice: the last device-level error (e.g. reading while not open), or "". */
  get deviceErrorString(): string {
    return this.#deviceErrorString;
  }

  /** IoDevice: whether `open()` was called and `close()` not since. */
  get isOpen(): boolean {
    return this.#isOpen;
  }

  /** IoDevice: open and not read-only (as `QIODevice::isWritable()`). */
  get isWritable(): boolean {
    return this.#isOpen && !this.#readOnly;
  }

  /** IoDevice: bytes waiting in the read buffer. */
  get bytesAvailable(): number {
    return this.#buffer.size;
  }

  /** IoDevice: the read buffer holds a complete line. */
  get canReadLine(): boolean {
    return this.#buffer.indexOfNewline() >= 0;
  }

  /** IoDevice: nothing is left to read (a sequential device is at its end when empty). */
  get atEnd(): boolean {
    return this.#buffer.size === 0;
  }

  /** IoDevice: always 0, as for every sequential device in Qt. */
  get pos(): number {
    return 0;
  }

  /** IoDevice: for a sequential device, the bytes available (as `QIODevice::size()`). */
  get size(): number {
    return this.#buffer.size;
  }

  // -- methods -----------------------------------------------------------------------------------

  /** Connects to `url` (called by `open()`). Does nothing while connecting or connected. */
  connectToHost(): void {
    if (this.#socket !== null) return;
    this.#cancelReconnect();
    if (this.#subProtocol !== '' && !TOKEN.test(this.#subProtocol)) {
      this.#fail(
        InCoreError.IpSocketError,
        `invalid subProtocol "${this.#subProtocol}": a subprotocol must be an HTTP token (letters, digits and !#$%&'*+-.^_\`|~, no spaces or separators)`,
        -1,
        null,
      );
      return;
    }
    let socket: PortSocket;
    try {
      const factory = (this.constructor as typeof InCoreWebSocketBase).factory;
      socket = factory(this.#url, {
        ...(this.#subProtocol !== '' ? { protocols: [this.#subProtocol] } : {}),
        ...(this.#socketOptions ? { node: this.#socketOptions } : {}),
      });
    } catch (cause) {
      this.#fail(
        InCoreError.IpSocketError,
        `invalid URL "${this.#url}": ${(cause as Error).message}`,
        socketErrorOfUrl(this.#url),
        null,
      );
      return;
    }
    this.#socket = socket;
    this.#setState(InCoreState.Connecting);
    let failure: unknown;
    socket.addEventListener('open', () => {
      if (this.#socket !== socket) return;
      this.#reconnectAttempt = 0;
      this.#wasConnected = true;
      this.#setState(InCoreState.Open);
      this.#derivedChanged();
      this.connected.emit();
    });
    socket.addEventListener('message', (event: PortMessageEvent) => {
      if (this.#socket !== socket) return;
      if (typeof event.data === 'string') {
        this.textMessageReceived.emit(event.data);
        return;
      }
      const bytes = toBytes(event.data);
      this.binaryMessageReceived.emit(toArrayBuffer(bytes));
      if (this.#isOpen && bytes.length > 0) {
        const limit = this.#readBufferSize;
        if (limit > 0 && this.#buffer.size + bytes.length > limit) {
          this.#overflow(socket, bytes.length);
          return;
        }
        const hadLine = this.canReadLine;
        this.#buffer.append(bytes.slice());
        this.#derivedChanged();
        this.readyRead.emit();
        if (!hadLine && this.canReadLine) this.lineAvailableForRead.emit();
      }
    });
    socket.addEventListener('error', (event: PortErrorEvent) => {
      if (this.#socket === socket) failure = event.error ?? event.message ?? 'connection error';
    });
    socket.addEventListener('close', (event: PortCloseEvent) => {
      if (this.#socket !== socket) return;
      this.#socket = null;
      const wasOpen = this.#wasConnected;
      this.#wasConnected = false;
      // A close this object asked for is neither an error nor retried, however the socket reports it.
      const unrequested = this.#closeRequested !== socket;
      const failed = unrequested && (failure !== undefined || !event.wasClean);
      this.#closeRequested = null;
      // A close the server began passes through Closing, as QWebSocket's state does.
      if (this.#state === InCoreState.Open) this.#setState(InCoreState.Closing);
      this.#setState(InCoreState.Closed);
      this.#derivedChanged();
      if (failed) this.#reportSocketFailure(failure, event, wasOpen);
      // Connecting or Open back to Unconnected: Qt emits disconnected() for both.
      this.disconnected.emit();
      // Every loss the application did not ask for is retried, a server's clean 1001 included.
      if (unrequested && this.#autoConnect) this.#scheduleReconnect();
    });
  }

  /** Disconnects from the server (called by `close()`); stops automatic reconnection until the next connect. */
  disconnectFromHost(): void {
    this.#cancelReconnect();
    this.#closeSocket();
  }

  /**
   * Sends a text message. Returns the number of bytes sent (UTF-8), or -1 with `error` set to
   * `NotOpenError` when the connection is not open.
   */
  sendTextMessage(message: string): number {
    const socket = this.#openSocket();
    if (!socket) return -1;
    const text = String(message);
    socket.send(text);
    return utf8Length(text);
  }

  /**
   * Sends a binary message (also what `write()` does). Returns the number of bytes sent, or -1
   * with `error` set to `NotOpenError` when the connection is not open.
   */
  sendBinaryMessage(message: ArrayBuffer | ArrayBufferView): number {
    const socket = this.#openSocket();
    if (!socket) return -1;
    const bytes = toBytes(message);
    socket.send(bytes.slice());
    return bytes.length;
  }

  /**
   * IoDevice: opens the device and connects (`connectToHost()`); from now on received binary
   * messages fill the read buffer. Returns true.
   */
  open(): boolean {
    if (!this.#isOpen) {
      this.#isOpen = true;
      this.#setDeviceError('');
      this.#derivedChanged();
    }
    if (this.#state === InCoreState.Closed) this.connectToHost();
    return true;
  }

  /** IoDevice: disconnects (`disconnectFromHost()`) and empties the read buffer. */
  close(): void {
    const wasOpen = this.#isOpen;
    this.#isOpen = false;
    this.#buffer.clear();
    if (wasOpen) this.#derivedChanged();
    this.disconnectFromHost();
  }

  /** IoDevice: reads up to `maxSize` bytes; an empty buffer when nothing is available or not open. */
  read(maxSize: number): ArrayBuffer {
    if (!this.#readable('read')) return new ArrayBuffer(0);
    const out = this.#buffer.take(Math.max(0, Math.floor(Number(maxSize) || 0)));
    this.#derivedChanged();
    return toArrayBuffer(out);
  }

  /** IoDevice: reads everything in the buffer. */
  readAll(): ArrayBuffer {
    return this.read(this.#buffer.size);
  }

  /**
   * IoDevice: reads one line, up to and including `\n`, or at most `maxSize` bytes (0 or
   * omitted: no limit); the rest of the buffer when it holds no newline.
   */
  readLine(maxSize = 0): ArrayBuffer {
    if (!this.#readable('readLine')) return new ArrayBuffer(0);
    const newline = this.#buffer.indexOfNewline();
    let n = newline >= 0 ? newline + 1 : this.#buffer.size;
    if (maxSize > 0) n = Math.min(n, maxSize);
    const out = this.#buffer.take(n);
    this.#derivedChanged();
    return toArrayBuffer(out);
  }

  /** IoDevice: everything in the buffer, left in place. */
  peekAll(): ArrayBuffer {
    if (!this.#readable('peekAll')) return new ArrayBuffer(0);
    return toArrayBuffer(this.#buffer.take(this.#buffer.size, true));
  }

  /**
   * IoDevice: sends `data` (bytes, or a string as UTF-8) as one binary message. Returns the
   * bytes written, or -1 when the device is not open for writing.
   */
  write(data: ArrayBuffer | ArrayBufferView | string): number {
    if (!this.#isOpen || this.#readOnly) {
      this.#setDeviceError(this.#isOpen ? 'device is read-only' : 'device not open');
      return -1;
    }
    return this.sendBinaryMessage(toBytes(data));
  }

  /**
   * IoDevice: pushes buffered output out. Messages are handed to the socket at once, so this
   * only reports whether the device is open for writing.
   */
  flush(): boolean {
    return this.isWritable && this.#socket !== null;
  }

  /**
   * IoDevice: whether everything written has left this process (the socket's `bufferedAmount`
   * is 0); false when not open.
   */
  sync(): boolean {
    return this.isWritable && this.#socket !== null && this.#socket.bufferedAmount === 0;
  }

  /** Object: the writable properties as a plain object (see {@link InCoreProperties}). */
  serializeProperties(): InCoreProperties {
    const out: Record<string, unknown> = {};
    for (const key of SERIALIZED) out[key] = this[key];
    return out as InCoreProperties;
  }

  /** Object: sets the writable properties found in `properties`, in declaration order. */
  deserializeProperties(properties: InCoreProperties): void {
    for (const key of SERIALIZED) {
      if (properties[key] !== undefined)
        (this as unknown as Record<string, unknown>)[key] = properties[key];
    }
  }

  /** Object: `serializeProperties()` as JSON text. */
  toJson(): string {
    return JSON.stringify(this.serializeProperties());
  }

  /** Object: restores properties from JSON text made by `toJson()`. Throws a SyntaxError for invalid JSON. */
  fromJson(json: string): void {
    const value: unknown = JSON.parse(json);
    if (typeof value !== 'object' || value === null)
      throw new TypeError('fromJson() needs a JSON object');
    this.deserializeProperties(value as InCoreProperties);
  }

  // -- internals ---------------------------------------------------------------------------------

  /** Sets a property and emits its change signal; returns whether it changed. */
  #change<
    K extends
      | 'autoConnect'
      | 'subProtocol'
      | 'url'
      | 'objectId'
      | 'parent'
      | 'autoOpen'
      | 'append'
      | 'truncate'
      | 'readOnly'
      | 'unbuffered'
      | 'nameArgument',
  >(name: K, value: unknown): boolean {
    const self = this as unknown as Record<string, unknown>;
    if (self[name] === value) return false;
    this.#write(name, value);
    (self[`${name}Changed`] as Signal).emit();
    return true;
  }

  #write(name: string, value: unknown): void {
    switch (name) {
      case 'autoConnect':
        this.#autoConnect = value as boolean;
        break;
      case 'subProtocol':
        this.#subProtocol = value as string;
        break;
      case 'url':
        this.#url = value as string;
        break;
      case 'objectId':
        this.#objectId = value as string;
        break;
      case 'parent':
        this.#parent = value as object | null;
        break;
      case 'autoOpen':
        this.#autoOpen = value as boolean;
        break;
      case 'append':
        this.#append = value as boolean;
        break;
      case 'truncate':
        this.#truncate = value as boolean;
        break;
      case 'readOnly':
        this.#readOnly = value as boolean;
        break;
      case 'unbuffered':
        this.#unbuffered = value as boolean;
        break;
      case 'nameArgument':
        this.#nameArgument = value as string;
        break;
    }
  }

  #derivedSnapshot = {
    bytesAvailable: 0,
    canReadLine: false,
    atEnd: true,
    size: 0,
    isOpen: false,
    isWritable: false,
  };

  /** Emits the change signals of the IoDevice properties that follow from the buffer and state. */
  #derivedChanged(): void {
    const before = this.#derivedSnapshot;
    const now = {
      bytesAvailable: this.bytesAvailable,
      canReadLine: this.canReadLine,
      atEnd: this.atEnd,
      size: this.size,
      isOpen: this.isOpen,
      isWritable: this.isWritable,
    };
    this.#derivedSnapshot = now;
    for (const key of Object.keys(now) as Array<keyof typeof now>) {
      if (before[key] !== now[key])
        ((this as unknown as Record<string, unknown>)[`${key}Changed`] as Signal).emit();
    }
  }

  #setState(state: InCoreState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.stateChanged.emit();
  }

  #setDeviceError(text: string): void {
    if (this.#deviceErrorString === text) return;
    this.#deviceErrorString = text;
    this.deviceErrorStringChanged.emit();
  }

  #readable(what: string): boolean {
    if (this.#isOpen) return true;
    this.#setDeviceError(`${what}(): device not open`);
    return false;
  }

  #openSocket(): PortSocket | null {
    const socket = this.#socket;
    if (socket && this.#state === InCoreState.Open && socket.readyState === 1) return socket;
    this.#fail(
      InCoreError.NotOpenError,
      'the WebSocket is not open: connect first (connectToHost() or open())',
      null,
      null,
    );
    return null;
  }

  #fail(
    error: InCoreError,
    text: string,
    socketError: number | null,
    sslText: string | null,
  ): void {
    if (this.#error !== error) {
      this.#error = error;
      this.errorChanged.emit();
    }
    if (this.#errorString !== text) {
      this.#errorString = text;
      this.errorStringChanged.emit();
    }
    this.errorOccurred.emit();
    if (socketError !== null) this.ipSocketErrorOccurred.emit(socketError);
    if (sslText !== null) this.sslErrorOccurred.emit(sslText);
  }

  #reportSocketFailure(failure: unknown, event: PortCloseEvent, opened: boolean): void {
    const code = (failure as WebSocketError | undefined)?.code;
    const message =
      failure instanceof Error
        ? failure.message
        : typeof failure === 'string'
          ? failure
          : `the connection closed abnormally (code ${event.code})`;
    if (code !== undefined && TLS_CODES.has(code)) {
      this.#fail(InCoreError.SslError, message, null, message);
    } else {
      this.#fail(InCoreError.IpSocketError, message, socketErrorOfFailure(failure, opened), null);
    }
  }

  /** A binary message would overflow the read buffer: the connection fails, with the reason. */
  #overflow(socket: PortSocket, incoming: number): void {
    const text = `the read buffer is full (${this.#buffer.size} bytes held, limit ${this.#readBufferSize}): a binary message of ${incoming} bytes cannot be buffered, so the connection was closed; read the buffer (read(), readAll(), readLine()) as data arrives, or raise readBufferSize`;
    this.#setDeviceError(text);
    this.#fail(InCoreError.IpSocketError, text, SOCKET_RESOURCE_ERROR, null);
    this.#closeRequested = socket;
    this.#setState(InCoreState.Closing);
    try {
      // 1009: the message is too big for what this endpoint can hold (RFC 6455 section 7.4.1).
      socket.close(1009, 'read buffer full');
    } catch {
      // A browser's WebSocket lets a page send only 1000 and 3000-4999.
      socket.close(1000, 'read buffer full');
    }
  }

  #scheduleReconnect(): void {
    this.#cancelReconnect();
    this.#reconnectAttempt++;
    const delay = backoff(this.#reconnectAttempt, {
      minDelay: this.#reconnectDelay,
      maxDelay: MAX_RECONNECT_DELAY,
      factor: 2,
      jitter: 0,
    });
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null;
      if (this.#autoConnect && this.#socket === null && this.#url !== '') this.connectToHost();
    }, delay);
  }

  #cancelReconnect(): void {
    if (this.#reconnectTimer !== null) clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = null;
  }

  #closeSocket(): void {
    const socket = this.#socket;
    if (socket === null) return;
    this.#closeRequested = socket;
    if (socket.readyState === 0 || socket.readyState === 1) {
      this.#setState(InCoreState.Closing);
      socket.close(1000);
    }
  }

  /** Leaves the current connection at once (closing it in the background) to open another. */
  #detachSocket(): void {
    const socket = this.#socket;
    if (socket === null) return;
    this.#socket = null;
    this.#closeRequested = socket;
    if (socket.readyState === 0 || socket.readyState === 1) socket.close(1000);
    this.#wasConnected = false;
    this.#setState(InCoreState.Closed);
    this.#derivedChanged();
    this.disconnected.emit();
  }
}

freezeStatics(InCoreWebSocketBase, [
  'NoError',
  'IpSocketError',
  'NotOpenError',
  'SslError',
  'Connecting',
  'Open',
  'Closing',
  'Closed',
]);

// `onX` handler properties for every signal: assigning a function connects it (called with
// `this` set to the object, as QML handlers are), null disconnects it.
for (const name of INCORE_SIGNALS) {
  const key = `on${name.charAt(0).toUpperCase()}${name.slice(1)}`;
  Object.defineProperty(InCoreWebSocketBase.prototype, key, {
    configurable: true,
    enumerable: false,
    get(this: InCoreWebSocketBase): Handler<never[]> {
      return handlersOf(this).get(name)?.fn ?? null;
    },
    set(this: InCoreWebSocketBase, fn: Handler<never[]>) {
      const handlers = handlersOf(this);
      const signal = (this as unknown as Record<string, Signal<never[]>>)[name]!;
      const previous = handlers.get(name);
      if (previous) signal.disconnect(previous.bound);
      if (typeof fn === 'function') {
        const bound = fn.bind(this);
        handlers.set(name, { fn, bound });
        signal.connect(bound);
      } else {
        handlers.delete(name);
      }
    },
  });
}

type HandlerEntry = { fn: (...args: never[]) => unknown; bound: (...args: never[]) => unknown };
const handlerMaps = new WeakMap<object, Map<string, HandlerEntry>>();
function handlersOf(target: object): Map<string, HandlerEntry> {
  let map = handlerMaps.get(target);
  if (!map) {
    map = new Map();
    handlerMaps.set(target, map);
  }
  return map;
}

// Handler properties in TypeScript: `onConnected`, `onTextMessageReceived`, ...
type Capitalized<S extends string> = S extends `${infer F}${infer R}` ? `${Uppercase<F>}${R}` : S;
type SignalArgs<T> = T extends Signal<infer A> ? A : never;
/** The `onX` handler properties of InCore's WebSocket, one per signal. */
export type InCoreHandlers = {
  [K in (typeof INCORE_SIGNALS)[number] as `on${Capitalized<K>}`]: Handler<
    SignalArgs<InCoreWebSocketBase[K]>
  >;
};
export interface InCoreWebSocketBase extends InCoreHandlers {}
