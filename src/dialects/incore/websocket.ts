import type { Signal } from '../qt/signal.js';
import { socketErrorOfUrl } from '../qt/socket-error.js';
import { freezeStatics, toArrayBuffer, toBytes, utf8Length } from '../shared.js';
import type {
  PortCloseEvent,
  PortErrorEvent,
  PortMessageEvent,
  PortSocket,
  SocketFactory,
} from '../socket-port.js';
import { InCoreError, InCoreState } from './enums.js';
import { type InCoreFailure, overflowFailure, socketFailure } from './failure.js';
import { type InCoreInit, type InCoreProperties, readInit, SERIALIZED } from './init.js';
import { IoDevice } from './io-device.js';
import { Reconnect } from './reconnect.js';
import { type InCoreHandlers, InCoreSignals } from './signals.js';

// RFC 6455 section 4.1: each subprotocol is an HTTP token (RFC 7230 section 3.2.6).
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** The writable properties and `parent`, each with its change signal. */
type Props = Required<InCoreProperties> & { parent: object | null };

/** Properties a setter only converts and stores (no effect beyond their change signal). */
const PLAIN_PROPERTIES = {
  subProtocol: String,
  objectId: String,
  append: Boolean,
  truncate: Boolean,
  unbuffered: Boolean,
  nameArgument: String,
} as const;

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
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the merged interface declares the onX handler properties defined on the prototype of InCoreSignals.
export class InCoreWebSocketBase extends InCoreSignals {
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

  /** The subprotocol to request (RFC 6455 section 1.9); used from the next connection on. */
  declare subProtocol: string;
  /** Object: an identifier for the object (free text). */
  declare objectId: string;
  /**
   * IoDevice: open in append mode. A file concept; a socket is always written at its end, so it
   * has no further effect here (kept for property round trips, as `QIODevice::Append` on a socket).
   */
  declare append: boolean;
  /** IoDevice: truncate on open. A file concept with no effect on a socket (kept for round trips). */
  declare truncate: boolean;
  /**
   * IoDevice: `QIODevice::Unbuffered`. Messages already arrive whole, so bypassing a buffer
   * changes nothing observable: reads still return the received bytes. Kept for round trips.
   */
  declare unbuffered: boolean;
  /** IoDevice: a name argument (used by file-like devices); not used by the WebSocket. */
  declare nameArgument: string;

  static {
    for (const [name, convert] of Object.entries(PLAIN_PROPERTIES)) {
      // biome-ignore lint/complexity/noThisInStatic: the compiled static block runs before the class name is bound
      Object.defineProperty(this.prototype, name, {
        configurable: true,
        get(this: InCoreWebSocketBase) {
          return this.#props[name as keyof typeof PLAIN_PROPERTIES];
        },
        set(this: InCoreWebSocketBase, value: unknown) {
          this.#change(name as keyof typeof PLAIN_PROPERTIES, convert(value));
        },
      });
    }
  }

  // -- state -------------------------------------------------------------------------------------
  #props: Props = {
    url: '',
    autoConnect: true,
    subProtocol: '',
    objectId: '',
    parent: null,
    autoOpen: false,
    append: false,
    truncate: false,
    readOnly: false,
    unbuffered: false,
    nameArgument: '',
  };
  #state: InCoreState = InCoreState.Closed;
  #error: InCoreError = InCoreError.NoError;
  #errorString = '';
  #device = new IoDevice(this, () => this.#props.readOnly);
  #socket: PortSocket | null = null;
  #wasConnected = false;
  #closeRequested: PortSocket | null = null;
  #isComplete = false;
  #reconnect: Reconnect;
  #readBufferSize: number;
  #socketOptions: Record<string, unknown> | undefined;

  /**
   * Creates the object from a QML-like property bag: properties (`url`, `autoConnect`,
   * `subProtocol`, ...) and handlers (`onConnected`, `onTextMessageReceived`, ...). Like a QML
   * component, it completes after the current task: `completed` is emitted, then, with
   * `autoConnect` (the default) and a `url`, it connects.
   */
  constructor(init: InCoreInit & ThisType<InCoreWebSocketBase> = {}) {
    super();
    const settings = readInit(init);
    this.#reconnect = new Reconnect(settings.reconnectDelay);
    this.#readBufferSize = settings.readBufferSize;
    this.#socketOptions = settings.socketOptions;
    if (init.parent !== undefined) this.#props.parent = init.parent;
    this.deserializeProperties(init);
    for (const [key, value] of settings.handlers)
      if (value !== undefined) (this as unknown as Record<string, unknown>)[key] = value;
    queueMicrotask(() => {
      this.#isComplete = true;
      this.completed.emit();
      if (this.#props.autoOpen) this.open();
      else if (this.#props.autoConnect && this.#props.url !== '') this.connectToHost();
    });
  }

  // -- properties --------------------------------------------------------------------------------

  /** Connect automatically once complete, and reconnect after connection errors. Default true. */
  get autoConnect(): boolean {
    return this.#props.autoConnect;
  }
  set autoConnect(value: boolean) {
    if (!this.#change('autoConnect', Boolean(value))) return;
    if (!this.#props.autoConnect) this.#reconnect.cancel();
    else if (this.#isComplete && this.#state === InCoreState.Closed && this.#props.url !== '')
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

  /** The server URL, e.g. `ws://ws.example.org:8000`. Changing it while connected reconnects. */
  get url(): string {
    return this.#props.url;
  }
  set url(value: string) {
    if (!this.#change('url', String(value))) return;
    const wasActive = this.#socket !== null;
    if (wasActive) this.#detachSocket();
    // A new URL is used at once when connected, or when autoConnect waits for one.
    if (this.#props.url !== '' && (wasActive || (this.#props.autoConnect && this.#isComplete)))
      this.connectToHost();
  }

  /** Object: the parent object, or null. */
  get parent(): object | null {
    return this.#props.parent;
  }
  set parent(value: object | null) {
    this.#change('parent', value ?? null);
  }

  /** IoDevice: `open()` automatically when the object completes. Default false. */
  get autoOpen(): boolean {
    return this.#props.autoOpen;
  }
  set autoOpen(value: boolean) {
    if (
      this.#change('autoOpen', Boolean(value)) &&
      value &&
      this.#isComplete &&
      !this.#device.isOpen
    )
      this.open();
  }

  /** IoDevice: open for reading only; `write()` then fails with -1. Default false. */
  get readOnly(): boolean {
    return this.#props.readOnly;
  }
  set readOnly(value: boolean) {
    if (this.#change('readOnly', Boolean(value))) this.#device.changed();
  }

  /** IoDevice: the last device-level error (e.g. reading while not open), or "". */
  get deviceErrorString(): string {
    return this.#device.errorString;
  }

  /** IoDevice: whether `open()` was called and `close()` not since. */
  get isOpen(): boolean {
    return this.#device.isOpen;
  }

  /** IoDevice: open and not read-only (as `QIODevice::isWritable()`). */
  get isWritable(): boolean {
    return this.#device.isWritable;
  }

  /** IoDevice: bytes waiting in the read buffer. */
  get bytesAvailable(): number {
    return this.#device.size;
  }

  /** IoDevice: the read buffer holds a complete line. */
  get canReadLine(): boolean {
    return this.#device.canReadLine;
  }

  /** IoDevice: nothing is left to read (a sequential device is at its end when empty). */
  get atEnd(): boolean {
    return this.#device.size === 0;
  }

  /** IoDevice: always 0, as for every sequential device in Qt. */
  get pos(): number {
    return 0;
  }

  /** IoDevice: for a sequential device, the bytes available (as `QIODevice::size()`). */
  get size(): number {
    return this.#device.size;
  }

  // -- methods -----------------------------------------------------------------------------------

  /** Connects to `url` (called by `open()`). Does nothing while connecting or connected. */
  connectToHost(): void {
    if (this.#socket !== null) return;
    this.#reconnect.cancel();
    const { url, subProtocol } = this.#props;
    if (subProtocol !== '' && !TOKEN.test(subProtocol)) {
      this.#failWith(
        `invalid subProtocol "${subProtocol}": a subprotocol must be an HTTP token (letters, digits and !#$%&'*+-.^_\`|~, no spaces or separators)`,
        -1,
      );
      return;
    }
    let socket: PortSocket;
    try {
      const factory = (this.constructor as typeof InCoreWebSocketBase).factory;
      socket = factory(url, {
        ...(subProtocol !== '' ? { protocols: [subProtocol] } : {}),
        ...(this.#socketOptions ? { node: this.#socketOptions } : {}),
      });
    } catch (cause) {
      this.#failWith(`invalid URL "${url}": ${(cause as Error).message}`, socketErrorOfUrl(url));
      return;
    }
    this.#socket = socket;
    this.#setState(InCoreState.Connecting);
    let failure: unknown;
    socket.addEventListener('open', () => {
      if (this.#socket !== socket) return;
      this.#reconnect.reset();
      this.#wasConnected = true;
      this.#setState(InCoreState.Open);
      this.#device.changed();
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
      if (!this.#device.receive(bytes, this.#readBufferSize)) this.#overflow(socket, bytes.length);
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
      this.#device.changed();
      if (failed) this.#fail(socketFailure(failure, event, wasOpen));
      // Connecting or Open back to Unconnected: Qt emits disconnected() for both.
      this.disconnected.emit();
      // Every loss the application did not ask for is retried, a server's clean 1001 included.
      if (unrequested && this.#props.autoConnect) this.#scheduleReconnect();
    });
  }

  /** Disconnects from the server (called by `close()`); stops automatic reconnection until the next connect. */
  disconnectFromHost(): void {
    this.#reconnect.cancel();
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
    this.#device.open();
    if (this.#state === InCoreState.Closed) this.connectToHost();
    return true;
  }

  /** IoDevice: disconnects (`disconnectFromHost()`) and empties the read buffer. */
  close(): void {
    this.#device.close();
    this.disconnectFromHost();
  }

  /** IoDevice: reads up to `maxSize` bytes; an empty buffer when nothing is available or not open. */
  read(maxSize: number): ArrayBuffer {
    return this.#device.read(maxSize);
  }

  /** IoDevice: reads everything in the buffer. */
  readAll(): ArrayBuffer {
    return this.read(this.#device.size);
  }

  /**
   * IoDevice: reads one line, up to and including `\n`, or at most `maxSize` bytes (0 or
   * omitted: no limit); the rest of the buffer when it holds no newline.
   */
  readLine(maxSize = 0): ArrayBuffer {
    return this.#device.readLine(maxSize);
  }

  /** IoDevice: everything in the buffer, left in place. */
  peekAll(): ArrayBuffer {
    return this.#device.peekAll();
  }

  /**
   * IoDevice: sends `data` (bytes, or a string as UTF-8) as one binary message. Returns the
   * bytes written, or -1 when the device is not open for writing.
   */
  write(data: ArrayBuffer | ArrayBufferView | string): number {
    if (!this.#device.isWritable) {
      this.#device.setError(this.#device.isOpen ? 'device is read-only' : 'device not open');
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
    for (const key of SERIALIZED) out[key] = this.#props[key];
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
  #change<K extends keyof Props>(name: K, value: Props[K]): boolean {
    if (this.#props[name] === value) return false;
    this.#props[name] = value;
    ((this as unknown as Record<string, unknown>)[`${name}Changed`] as Signal).emit();
    return true;
  }

  #setState(state: InCoreState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.stateChanged.emit();
  }

  #openSocket(): PortSocket | null {
    const socket = this.#socket;
    if (socket && this.#state === InCoreState.Open && socket.readyState === 1) return socket;
    this.#fail({
      error: InCoreError.NotOpenError,
      text: 'the WebSocket is not open: connect first (connectToHost() or open())',
      socketError: null,
      sslText: null,
    });
    return null;
  }

  /** Sets `error` and `errorString` (emitting what changed), then the error signals. */
  #fail(failure: InCoreFailure): void {
    const { error, text, socketError, sslText } = failure;
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

  /** A connection that could not start: `IpSocketError` with the Qt socket error number. */
  #failWith(text: string, socketError: number): void {
    this.#fail({ error: InCoreError.IpSocketError, text, socketError, sslText: null });
  }

  /** A binary message would overflow the read buffer: the connection fails, with the reason. */
  #overflow(socket: PortSocket, incoming: number): void {
    const failure = overflowFailure(this.#device.size, this.#readBufferSize, incoming);
    this.#device.setError(failure.text);
    this.#fail(failure);
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
    this.#reconnect.schedule(() => {
      if (this.#props.autoConnect && this.#socket === null && this.#props.url !== '')
        this.connectToHost();
    });
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
    this.#device.changed();
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

export interface InCoreWebSocketBase extends InCoreHandlers {}
