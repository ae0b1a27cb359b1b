import { Buffer } from 'node:buffer';
import { EventEmitter } from 'node:events';
import http, { type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  checkDeflateOptions,
  NodeDeflateCompressor,
  type PerMessageDeflateOptions,
} from '../node/deflate/zlib-compressor.js';
import { nodePlatform } from '../node/node-platform.js';
import { parseExtensions } from '../protocol/extensions/extension-header.js';
import {
  acceptDeflateOffer,
  type DeflateAgreement,
} from '../protocol/extensions/permessage-deflate.js';
import { computeAccept } from '../protocol/handshake/keys.js';
import { isToken } from '../protocol/http-tokens.js';
import { DEFAULT_MAX_PAYLOAD } from '../protocol/websocket-protocol.js';
import { kAccepted, kSetSocket } from './internal.js';
import {
  checkServerOptions,
  deflateOptionsOf,
  type ServerOptions,
  type VerifyClientCallbackAsync,
  type VerifyClientCallbackSync,
} from './options.js';
import { WebSocket } from './websocket.js';

const KEY = /^[+/0-9A-Za-z]{22}==$/;
const RUNNING = 0;
const CLOSING = 1;
const CLOSED = 2;
const kUpgraded = Symbol('wskit.ws.upgraded');

/** The events of a `wskit/ws` server, with their arguments. */
export interface WebSocketServerEvents<
  T extends WebSocket = WebSocket,
  R extends IncomingMessage = IncomingMessage,
> {
  connection: [socket: T, request: R];
  error: [error: Error];
  headers: [headers: string[], request: R];
  close: [];
  listening: [];
  wsClientError: [error: Error, socket: Duplex, request: R];
}

/**
 * `ws`'s `WebSocketServer` on wskit's engine: standalone on a port, on an existing `http`/`https`
 * server, or `noServer` with {@link handleUpgrade}; `verifyClient` (sync and async),
 * `handleProtocols`, `path`, `clientTracking`, `perMessageDeflate`, and the `'connection'`,
 * `'headers'`, `'wsClientError'`, `'listening'`, `'error'` and `'close'` events.
 */
export class WebSocketServer<
  T extends typeof WebSocket = typeof WebSocket,
  U extends typeof IncomingMessage = typeof IncomingMessage,
> extends EventEmitter<WebSocketServerEvents<InstanceType<T>, InstanceType<U>>> {
  /** The options, with `ws`'s defaults filled in. */
  readonly options: ServerOptions<T, U> & {
    maxPayload: number;
    clientTracking: boolean;
    WebSocket: T;
  };
  /** Connected clients, when `clientTracking` is on (the default). */
  clients!: Set<InstanceType<T>>;
  /** The http server listened on (own or given), until `close()`. */
  _server: http.Server | null = null;
  /** 0 running, 1 closing, 2 closed (ws's `_state`). */
  _state = RUNNING;
  #removeListeners: (() => void) | null = null;
  #shouldEmitClose = false;
  #deflate: PerMessageDeflateOptions | null;

  constructor(options: ServerOptions<T, U>, callback?: () => void) {
    super();
    options ??= {};
    if (typeof options !== 'object') {
      throw new TypeError('new WebSocketServer() takes an options object');
    }
    checkServerOptions(options);
    const o = {
      maxPayload: DEFAULT_MAX_PAYLOAD,
      skipUTF8Validation: false,
      perMessageDeflate: false,
      handleProtocols: null,
      clientTracking: true,
      verifyClient: null,
      noServer: false,
      backlog: null,
      server: null,
      host: null,
      path: null,
      port: null,
      WebSocket,
      ...options,
    } as unknown as WebSocketServer<T, U>['options'];
    if (
      (o.port == null && !o.server && !o.noServer) ||
      (o.port != null && (o.server || o.noServer)) ||
      (o.server && o.noServer)
    ) {
      throw new TypeError(
        'One and only one of the "port", "server", or "noServer" options must be specified',
      );
    }
    this.#deflate = deflateOptionsOf(o.perMessageDeflate);
    if (this.#deflate !== null) checkDeflateOptions(this.#deflate);
    if (o.port != null) {
      this._server = http.createServer((_req, res) => {
        const body = http.STATUS_CODES[426]!;
        res.writeHead(426, { 'Content-Length': body.length, 'Content-Type': 'text/plain' });
        res.end(body);
      });
      this._server.listen(o.port, o.host ?? undefined, o.backlog ?? undefined, callback);
    } else if (o.server) {
      this._server = o.server as http.Server;
    }
    if (this._server) {
      const server = this._server;
      const listeners = {
        listening: () => this.emit('listening' as 'close'),
        error: (error: Error) => (this.emit as (e: 'error', x: Error) => boolean)('error', error),
        upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => {
          this.handleUpgrade(req as InstanceType<U>, socket, head, (ws, request) => {
            (this.emit as (e: 'connection', w: unknown, r: unknown) => boolean)(
              'connection',
              ws,
              request,
            );
          });
        },
      };
      for (const [event, listener] of Object.entries(listeners)) server.on(event, listener);
      this.#removeListeners = () => {
        for (const [event, listener] of Object.entries(listeners)) {
          server.removeListener(event, listener);
        }
      };
    }
    if (o.clientTracking) this.clients = new Set();
    this.options = o;
  }

  /** The bound address of the server listened on; throws in `noServer` mode. */
  address(): AddressInfo | string | null {
    if (this.options.noServer) throw new Error('The server is operating in "noServer" mode');
    if (!this._server) return null;
    return this._server.address();
  }

  /**
   * Stops accepting connections. An own http server is closed; existing connections are left
   * open, as with `ws` (close them through {@link clients}). `'close'` follows.
   */
  close(cb?: (error?: Error) => void): void {
    if (this._state === CLOSED) {
      if (cb) this.once('close', () => cb(new Error('The server is not running')));
      process.nextTick(() => this.#emitClose());
      return;
    }
    if (cb) this.once('close', cb);
    if (this._state === CLOSING) return;
    this._state = CLOSING;
    if (this.options.noServer || this.options.server) {
      if (this._server) {
        this.#removeListeners?.();
        this.#removeListeners = null;
        this._server = null;
      }
      if (this.clients && this.clients.size > 0) this.#shouldEmitClose = true;
      else process.nextTick(() => this.#emitClose());
    } else {
      const server = this._server!;
      this.#removeListeners?.();
      this.#removeListeners = null;
      this._server = null;
      server.close(() => this.#emitClose());
    }
  }

  /** Whether this server takes the request (its `path` option). */
  shouldHandle(req: InstanceType<U>): boolean | Promise<boolean> {
    const path = this.options.path;
    if (path) {
      const url = req.url ?? '';
      const q = url.indexOf('?');
      if ((q === -1 ? url : url.slice(0, q)) !== path) return false;
    }
    return true;
  }

  /**
   * Completes the opening handshake on a socket Node's `'upgrade'` event gave (RFC 6455
   * section 4.2): checks the request, runs `verifyClient` and `handleProtocols`, answers 101,
   * and calls `cb` with the new socket. A request that is not acceptable gets its HTTP error.
   */
  handleUpgrade(
    req: InstanceType<U>,
    socket: Duplex,
    head: Buffer,
    cb: (client: InstanceType<T>, request: InstanceType<U>) => void,
  ): void {
    socket.on('error', destroyOnError);
    const key = req.headers['sec-websocket-key'];
    const upgrade = req.headers.upgrade;
    const version = Number(req.headers['sec-websocket-version']);

    if (req.method !== 'GET') {
      this.#refuse(req, socket, 405, 'Invalid HTTP method');
      return;
    }
    if (upgrade === undefined || upgrade.toLowerCase() !== 'websocket') {
      this.#refuse(req, socket, 400, 'Invalid Upgrade header');
      return;
    }
    if (key === undefined || !KEY.test(key)) {
      this.#refuse(req, socket, 400, 'Missing or invalid Sec-WebSocket-Key header');
      return;
    }
    if (version !== 13 && version !== 8) {
      this.#refuse(req, socket, 400, 'Missing or invalid Sec-WebSocket-Version header', {
        'Sec-WebSocket-Version': '13, 8',
      });
      return;
    }
    if (!this.shouldHandle(req)) {
      abortHandshake(socket, 400);
      return;
    }
    const protocolHeader = req.headers['sec-websocket-protocol'];
    let protocols = new Set<string>();
    if (protocolHeader !== undefined) {
      const parsed = parseProtocols(protocolHeader);
      if (parsed === null) {
        this.#refuse(req, socket, 400, 'Invalid Sec-WebSocket-Protocol header');
        return;
      }
      protocols = parsed;
    }
    const extensionsHeader = req.headers['sec-websocket-extensions'];
    let deflate: { response: string; agreement: DeflateAgreement } | null = null;
    if (this.#deflate !== null && extensionsHeader !== undefined) {
      if (!isValidDeflateOfferList(extensionsHeader)) {
        this.#refuse(req, socket, 400, 'Invalid or unacceptable Sec-WebSocket-Extensions header');
        return;
      }
      deflate = acceptDeflateOffer(extensionsHeader, this.#deflate);
    }

    const verify = this.options.verifyClient;
    if (verify) {
      const info = {
        origin: req.headers[version === 8 ? 'sec-websocket-origin' : 'origin'] as string,
        secure: Boolean(
          (req.socket as { authorized?: boolean }).authorized ||
            (req.socket as { encrypted?: boolean }).encrypted,
        ),
        req,
      };
      if (verify.length === 2) {
        (verify as VerifyClientCallbackAsync<InstanceType<U>>)(
          info,
          (verified, code, message, headers) => {
            if (!verified) {
              abortHandshake(socket, code || 401, message, headers);
              return;
            }
            this.#complete(deflate, key, protocols, req, socket, head, cb);
          },
        );
        return;
      }
      if (!(verify as VerifyClientCallbackSync<InstanceType<U>>)(info)) {
        abortHandshake(socket, 401);
        return;
      }
    }
    this.#complete(deflate, key, protocols, req, socket, head, cb);
  }

  #complete(
    deflate: { response: string; agreement: DeflateAgreement } | null,
    key: string,
    protocols: Set<string>,
    req: InstanceType<U>,
    socket: Duplex,
    head: Buffer,
    cb: (client: InstanceType<T>, request: InstanceType<U>) => void,
  ): void {
    if (!socket.readable || !socket.writable) {
      socket.destroy();
      return;
    }
    const marked = socket as Duplex & { [kUpgraded]?: boolean };
    if (marked[kUpgraded]) {
      throw new Error(
        'server.handleUpgrade() was called more than once with the same socket, possibly due to a misconfiguration',
      );
    }
    if (this._state > RUNNING) {
      abortHandshake(socket, 503);
      return;
    }
    const headers = [
      'HTTP/1.1 101 Switching Protocols',
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Accept: ${computeAccept(key, nodePlatform)}`,
    ];
    const Ctor = this.options.WebSocket as unknown as new (
      address: null,
      protocols: undefined,
      options: object,
    ) => InstanceType<T>;
    const ws = new Ctor(null, undefined, this.options);
    let protocol = '';
    if (protocols.size > 0) {
      const chosen = this.options.handleProtocols
        ? this.options.handleProtocols(protocols, req)
        : protocols.values().next().value;
      if (chosen) {
        headers.push(`Sec-WebSocket-Protocol: ${chosen}`);
        protocol = chosen;
      }
    }
    let compressor: NodeDeflateCompressor | null = null;
    if (deflate !== null) {
      headers.push(`Sec-WebSocket-Extensions: ${deflate.response}`);
      compressor = new NodeDeflateCompressor(deflate.agreement, 'server', this.#deflate ?? {});
    }
    ws[kAccepted](protocol, compressor ? 'permessage-deflate' : '');
    (this.emit as (e: 'headers', h: string[], r: unknown) => boolean)('headers', headers, req);
    socket.write(headers.concat('\r\n').join('\r\n'));
    socket.removeListener('error', destroyOnError);
    marked[kUpgraded] = true;
    ws[kSetSocket](socket, head, {
      maxPayload: this.options.maxPayload,
      skipUTF8Validation: this.options.skipUTF8Validation === true,
      compressor,
    });
    if (this.clients) {
      this.clients.add(ws);
      ws.on('close', () => {
        this.clients.delete(ws);
        if (this.#shouldEmitClose && this.clients.size === 0) {
          process.nextTick(() => this.#emitClose());
        }
      });
    }
    cb(ws, req);
  }

  #refuse(
    req: InstanceType<U>,
    socket: Duplex,
    code: number,
    message: string,
    headers?: OutgoingHttpHeaders,
  ): void {
    if (this.listenerCount('wsClientError') > 0) {
      const error = new Error(message);
      (this.emit as (e: 'wsClientError', x: Error, s: Duplex, r: unknown) => boolean)(
        'wsClientError',
        error,
        socket,
        req,
      );
    } else {
      abortHandshake(socket, code, message, headers);
    }
  }

  #emitClose(): void {
    this._state = CLOSED;
    this.emit('close' as 'listening');
  }
}

function destroyOnError(this: Duplex): void {
  this.destroy();
}

/** `Sec-WebSocket-Protocol`: comma-separated tokens, none repeated; null when malformed. */
function parseProtocols(header: string): Set<string> | null {
  const set = new Set<string>();
  for (const part of header.split(',')) {
    const name = part.trim();
    if (!isToken(name) || set.has(name)) return null;
    set.add(name);
  }
  return set;
}

/**
 * Whether a `Sec-WebSocket-Extensions` header parses and each permessage-deflate offer in it has
 * only known parameters with valid values (RFC 7692 section 7.1); ws refuses the handshake with
 * 400 otherwise, and so does wskit/ws.
 */
function isValidDeflateOfferList(header: string): boolean {
  const offers = parseExtensions(header);
  if (offers === null) return false;
  for (const offer of offers) {
    if (offer.name.toLowerCase() !== 'permessage-deflate') continue;
    const seen = new Set<string>();
    for (const [name, value] of offer.params) {
      if (seen.has(name)) return false;
      seen.add(name);
      if (name === 'server_no_context_takeover' || name === 'client_no_context_takeover') {
        if (value !== true) return false;
      } else if (name === 'server_max_window_bits' || name === 'client_max_window_bits') {
        if (value === true) {
          if (name === 'server_max_window_bits') return false;
        } else if (!/^(?:[89]|1[0-5])$/.test(value)) return false;
      } else return false;
    }
  }
  return true;
}

/** Answers a refused upgrade with an HTTP error and closes the socket. */
function abortHandshake(
  socket: Duplex,
  code: number,
  message?: string,
  headers?: OutgoingHttpHeaders,
): void {
  const body = message || http.STATUS_CODES[code] || '';
  const all: OutgoingHttpHeaders = {
    Connection: 'close',
    'Content-Type': 'text/html',
    'Content-Length': Buffer.byteLength(body),
    ...headers,
  };
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${code} ${http.STATUS_CODES[code]}\r\n${Object.keys(all)
      .map((h) => `${h}: ${all[h]}`)
      .join('\r\n')}\r\n\r\n${body}`,
  );
}
