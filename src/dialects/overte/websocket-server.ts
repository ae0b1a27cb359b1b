import { createServer, type Server } from 'node:http';
import { connectionErrorFrom } from '../../node/error-map.js';
import { WebSocketServer as CoreWebSocketServer } from '../../node/websocket-server.js';
import { checkOptions } from '../options.js';
import { Signal } from '../qt/signal.js';
import { WebSocket } from './node-websocket.js';

/** What `new WebSocketServer({ ... })` takes: Overte's two options and one of wskit. */
export interface WebSocketServerOptions {
  /** Port to listen on; 0 or none: any free port. */
  port?: number;
  /**
   * Overte: the server's name (default "HighFidelity - Scripted WebSocket Listener"), readable
   * as `serverName`, and sent as the `Server` header of every answer, as Qt does. A name with a
   * character HTTP headers do not allow (CR, LF, NUL) is a TypeError.
   */
  serverName?: string;
  /**
   * wskit: the address to bind. Default: every interface, as Overte listens. Binding to a given
   * host completes a moment later (a name lookup): `port`, `url` and `listening` are then right
   * once `ready` resolves, not when the constructor returns.
   */
  host?: string;
}

const DEFAULT_SERVER_NAME = 'HighFidelity - Scripted WebSocket Listener';
const SERVER_OPTIONS: readonly string[] = ['port', 'serverName', 'host'];

function ignore(): void {}

/**
 * Overte's `WebSocketServer` (Node only): listens for WebSocket connections and hands each one
 * out through the `newConnection` signal as an Overte {@link WebSocket}, on which `onmessage`,
 * `send()`, `close()` and the rest work as on a client.
 *
 * As in Overte, it listens on every interface and is listening when the constructor returns:
 * `url` (`ws://127.0.0.1:<port>`), `port` and `listening` are right at once, so a script can
 * print the URL and connect to it on the next line.
 *
 * ```ts
 * const server = new WebSocketServer();
 * server.newConnection.connect((webSocket) => {
 *   webSocket.onmessage = (message) => webSocket.send(message.data);
 * });
 * console.log(server.url);
 * ```
 */
export class WebSocketServer {
  /** Emitted with an Overte {@link WebSocket}, already open, for every accepted connection. */
  readonly newConnection = new Signal<[webSocket: WebSocket]>('newConnection');
  /** wskit: emitted with the new value of `listening` when the server starts or stops listening. */
  readonly listeningChanged = new Signal<[listening: boolean]>('listeningChanged');
  /**
   * wskit: resolves once the server listens; rejects with a wskit `ConnectionError` when it
   * cannot bind (e.g. `ERR_WS_ADDRESS_IN_USE`, whose `socketErrorOf()` is 8, `AddressInUseError`).
   * Nobody awaiting it is not an error.
   */
  readonly ready: Promise<void>;
  /** Overte: the name given to the constructor. Read-only. */
  readonly serverName: string;

  #http: Server;
  #core: CoreWebSocketServer<'arraybuffer'>;
  #host: string | undefined;
  #port = 0;
  #listening = false;
  #closing: Promise<void> | null = null;

  /**
   * Starts listening: `new WebSocketServer()` (any free port), `new WebSocketServer(port)`, or
   * Overte's own form `new WebSocketServer({ port, serverName })` (plus wskit's `host`). A port
   * that is taken is reported as Overte reports it: `listening` stays false, `port` 0 and `url`
   * "" (and `ready` rejects). Throws a `RangeError` for a port outside 0-65535 and a `TypeError`
   * for an unknown option.
   */
  constructor(portOrOptions: number | WebSocketServerOptions = {}, host?: string) {
    const options: WebSocketServerOptions =
      typeof portOrOptions === 'number'
        ? { port: portOrOptions, ...(host !== undefined ? { host } : {}) }
        : portOrOptions;
    if (typeof options !== 'object' || options === null) {
      throw new TypeError('new WebSocketServer() takes a port number or { port, serverName }');
    }
    checkOptions('WebSocketServer', options, SERVER_OPTIONS, {
      hostname: 'host',
      address: 'host',
      name: 'serverName',
    });
    const port = options.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new RangeError(`invalid port ${port}: use an integer from 0 (any free port) to 65535`);
    }
    this.serverName =
      options.serverName === undefined ? DEFAULT_SERVER_NAME : String(options.serverName);
    this.#host = options.host;
    const http = createServer((_request, response) => {
      response.writeHead(426, {
        Upgrade: 'websocket',
        'Content-Type': 'text/plain',
        Server: this.serverName,
      });
      response.end('this is a WebSocket server: connect with a WebSocket client\n');
    });
    this.#http = http;
    const core = new CoreWebSocketServer({
      server: http,
      binaryType: 'arraybuffer',
      headers: { Server: this.serverName },
    });
    this.#core = core;
    core.on('connection', (socket) => {
      this.newConnection.emit(new WebSocket(socket));
    });
    // The core server reports the attached server's errors too; bind errors are handled below.
    core.on('error', ignore);
    this.ready = new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => {
        http.removeListener('listening', onListening);
        this.#setListening(false);
        this.#port = 0;
        reject(connectionErrorFrom(error, `port ${port}`));
      };
      const onListening = () => {
        http.removeListener('error', onError);
        this.#bound();
        resolve();
      };
      http.once('error', onError);
      http.once('listening', onListening);
    });
    this.ready.catch(ignore);
    // Without a host, Node binds synchronously: the port is known when listen() returns, as
    // after Qt's listen(). A bind error is known now too (no handle), and reported on the next tick.
    if (this.#host === undefined) http.listen(port);
    else http.listen(port, this.#host);
    if (http.listening) this.#bound();
  }

  /**
   * The server's URL while listening: `ws://127.0.0.1:<port>` when listening on every interface
   * (as Qt's `serverUrl()`), else `ws://<host>:<port>` (IPv6 hosts in brackets); "" when not
   * listening. Read-only.
   */
  get url(): string {
    if (!this.#listening) return '';
    const host =
      this.#host === undefined || this.#host === '0.0.0.0' || this.#host === '::'
        ? '127.0.0.1'
        : this.#host;
    return `ws://${host.includes(':') ? `[${host}]` : host}:${this.#port}`;
  }

  /** The port listened on; 0 when not listening (before a host binds, after a failure or close). Read-only. */
  get port(): number {
    return this.#listening ? this.#port : 0;
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
    this.#setListening(false);
    const http = this.#http;
    this.#closing = this.ready
      .then(ignore, ignore)
      .then(() => new Promise<void>((resolve) => this.#core.close(() => resolve())))
      .then(
        () =>
          new Promise<void>((resolve) => {
            if (!http.listening) {
              resolve();
              return;
            }
            http.close(() => resolve());
            http.closeAllConnections();
          }),
      );
    return this.#closing;
  }

  #bound(): void {
    if (this.#closing !== null || this.#listening) return;
    const address = this.#http.address();
    if (address !== null && typeof address === 'object') this.#port = address.port;
    this.#setListening(true);
  }

  #setListening(value: boolean): void {
    if (this.#listening === value) return;
    this.#listening = value;
    this.listeningChanged.emit(value);
  }
}
