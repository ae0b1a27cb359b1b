import { WebSocketServer as CoreWebSocketServer } from '../../node/websocket-server.js';
import { Signal } from '../qt/signal.js';
import { WebSocket } from './node-websocket.js';

/** The options of {@link WebSocketServer}. */
export interface WebSocketServerOptions {
  port?: number;
}

function ignore(): void {}

/**
 * Overte's `WebSocketServer` (Node only): listens for WebSocket connections and hands each one
 * out through the `newConnection` signal as an Overte {@link WebSocket}, on which `onmessage`,
 * `send()`, `close()` and the rest work as on a client.
 *
 * ```ts
 * const server = new WebSocketServer();
 * server.newConnection.connect((webSocket) => {
 *   webSocket.onmessage = (message) => webSocket.send(message.data);
 * });
 * await server.ready; // wskit: binding is asynchronous
 * console.log(server.url);
 * ```
 *
 * Differences from Overte: it binds 127.0.0.1 unless given another `host` (Overte binds every
 * interface: pass `'0.0.0.0'` or `'::'` for that); `ready` and `listeningChanged` tell when the
 * port is bound; `close()` returns a promise.
 */
export class WebSocketServer {
  /** Emitted with an Overte {@link WebSocket}, already open, for every accepted connection. */
  readonly newConnection = new Signal<[webSocket: WebSocket]>();
  /** wskit: emitted with the new value of `listening` when the server starts or stops listening. */
  readonly listeningChanged = new Signal<[listening: boolean]>();
  /**
   * wskit: resolves once the server listens (`port` is then the bound port); rejects with a
   * wskit `ConnectionError` when it cannot bind (e.g. `ERR_WS_ADDRESS_IN_USE`, whose
   * `socketErrorOf()` is 8, `AddressInUseError`).
   */
  readonly ready: Promise<void>;

  #core: CoreWebSocketServer;
  #host: string;
  #port: number;
  #listening = false;
  #closing: Promise<void> | null = null;

  /**
   * Starts listening on `port` (default 0: any free port) of `host` (wskit addition, default
   * `'127.0.0.1'`). Throws a `RangeError` for a port outside 0-65535.
   */
  constructor(port = 0, host = '127.0.0.1') {
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new RangeError(`invalid port ${port}: use an integer from 0 (any free port) to 65535`);
    }
    this.#host = host;
    this.#port = port;
    const core = new CoreWebSocketServer({ port, host, binaryType: 'arraybuffer' });
    this.#core = core;
    this.ready = new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => {
        core.removeListener('listening', onListening);
        reject(error);
      };
      const onListening = () => {
        core.removeListener('error', onError);
        const address = core.address();
        if (address !== null && typeof address === 'object') this.#port = address.port;
        if (this.#closing === null) {
          this.#listening = true;
          this.listeningChanged.emit(true);
        }
        resolve();
      };
      core.once('error', onError);
      core.once('listening', onListening);
    });
    // The rejection is for those who await `ready`; nobody awaiting it is not an error.
    this.ready.catch(ignore);
    core.on('connection', (socket) => {
      this.newConnection.emit(new WebSocket(socket));
    });
  }

  /** The server's URL, `ws://host:port` (IPv6 hosts in brackets). Read-only. */
  get url(): string {
    const host = this.#host.includes(':') ? `[${this.#host}]` : this.#host;
    return `ws://${host}:${this.#port}`;
  }

  /**
   * The port: the bound one once listening (and after `close()`), the requested one before
   * (0 when none was given). Read-only.
   */
  get port(): number {
    return this.#port;
  }

  /** Whether the server is listening for connections. Read-only. */
  get listening(): boolean {
    return this.#listening;
  }

  /**
   * Stops listening and closes every connection with 1001 (`CloseCode.GoingAway`). wskit: returns
   * a promise that resolves once every connection and the listening socket are closed. Calling it
   * again returns the same promise.
   */
  close(): Promise<void> {
    if (this.#closing !== null) return this.#closing;
    const wasListening = this.#listening;
    this.#listening = false;
    // Closing before the port is bound would race with the bind: wait for it to settle.
    this.#closing = this.ready
      .then(ignore, ignore)
      .then(() => new Promise<void>((resolve) => this.#core.close(() => resolve())));
    if (wasListening) this.listeningChanged.emit(false);
    return this.#closing;
  }
}
