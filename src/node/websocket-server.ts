import { Buffer } from 'node:buffer';
import { EventEmitter } from 'node:events';
import {
  createServer as createHttpServer,
  type Server as HttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import {
  createServer as createHttpsServer,
  type ServerOptions as HttpsServerOptions,
} from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { ConnectionError } from '../errors.js';
import { acceptDeflateOffer } from '../protocol/extensions/permessage-deflate.js';
import {
  buildAcceptResponse,
  buildRejectResponse,
  checkUpgradeRequest,
} from '../protocol/handshake.js';
import { Opcode } from '../protocol/opcodes.js';
import { DEFAULT_MAX_PAYLOAD, WebSocketProtocol } from '../protocol/websocket-protocol.js';
import type { Broker } from './broker.js';
import {
  checkDeflateOptions,
  NodeDeflateCompressor,
  type PerMessageDeflateOptions,
} from './deflate/zlib-compressor.js';
import { connectionErrorFrom } from './error-map.js';
import { nodePlatform } from './node-platform.js';
import { type PublishOptions, Topics, toTopicPayload } from './topics.js';
import {
  type BinaryType,
  type HeartbeatOptions,
  kAccept,
  kCloseWith,
  kFeed,
  kOnClosed,
  kSendRaw,
  kTopics,
  WebSocket,
} from './websocket.js';

/** What an `authenticate` hook returns: accept (true/undefined), 401 (false), or a refusal. */
export type AuthenticateResult =
  | boolean
  | undefined
  // biome-ignore lint/suspicious/noConfusingVoidType: lets `async () => {}` hooks accept.
  | void
  | { status: number; body?: string; headers?: Record<string, string> };

export interface WebSocketServerOptions {
  /** Port to listen on (0 picks a free one). Creates an HTTP server owned by this server. */
  port?: number;
  /** Host to bind (default: all interfaces). */
  host?: string;
  backlog?: number;
  /** TLS options (`cert`, `key`, ...) for a standalone `wss:` server on `port`. */
  tls?: HttpsServerOptions;
  /** Attach to an existing `http`/`https` server instead of listening. */
  server?: HttpServer;
  /** Handle no HTTP server at all: call `handleUpgrade` yourself. */
  noServer?: boolean;
  /** Only accept upgrades for this path (the query string is ignored). */
  path?: string;
  /**
   * Decides whether to accept a connection, possibly asynchronously: return true (or nothing) to
   * accept, false for 401, or `{ status, body, headers }` to refuse with that answer.
   */
  authenticate?: (request: IncomingMessage) => AuthenticateResult | Promise<AuthenticateResult>;
  /** Picks one of the offered subprotocols, or false for none. Default: the first offered. */
  handleProtocols?: (protocols: Set<string>, request: IncomingMessage) => string | false;
  /** Largest incoming message in bytes (default 100 MiB; 0: no limit). */
  maxPayload?: number;
  /** `binaryType` of accepted sockets (default "nodebuffer"). */
  binaryType?: BinaryType;
  /** Track accepted sockets in `clients` (default true). */
  clientTracking?: boolean;
  /** Milliseconds to wait for a client to finish the closing handshake (default 30000). */
  closeTimeout?: number;
  /** Most request headers accepted in an upgrade request (default 100); more get 431. */
  maxHeaders?: number;
  /** Accept permessage-deflate (RFC 7692): false (default), true, or settings. */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /** Ping every client periodically; clients that miss the pong are dropped (and leave `clients`). */
  heartbeat?: HeartbeatOptions;
  /** Carries `publish` to other servers (`wskit/redis`, `InProcessBroker`); closed with the server. */
  broker?: Broker;
}

export interface BroadcastOptions {
  /** Send as a binary message even when `data` is a string. */
  binary?: boolean;
  /** Skip this socket (typically the sender). */
  except?: WebSocket;
  /** Send only to sockets for which this returns true. */
  filter?: (socket: WebSocket) => boolean;
}

interface ServerEvents {
  listening: [];
  connection: [socket: WebSocket, request: IncomingMessage];
  error: [error: Error];
  close: [];
  gap: [topic: string, missed: number];
}

/**
 * A WebSocket server, an `EventEmitter` like `ws`'s: standalone on a port, attached to an
 * existing HTTP(S) server, or with `noServer` fed by `handleUpgrade`. Accepted sockets are
 * standard {@link WebSocket} objects.
 */
export class WebSocketServer extends EventEmitter<ServerEvents> {
  /** Accepted sockets that are not closed yet (when `clientTracking` is on). */
  readonly clients = new Set<WebSocket>();
  readonly options: Readonly<WebSocketServerOptions>;
  #server: HttpServer | null = null;
  #ownsServer = false;
  #state: 'running' | 'closing' | 'closed' = 'running';
  #onUpgrade: ((req: IncomingMessage, socket: Socket, head: Buffer) => void) | null = null;
  #pendingHandshakes = new Set<Socket>();
  readonly #topics: Topics;

  constructor(options: WebSocketServerOptions, onListening?: () => void) {
    super();
    const modes = [
      options.port !== undefined,
      options.server !== undefined,
      options.noServer === true,
    ].filter(Boolean).length;
    if (modes !== 1) {
      throw new TypeError(
        'WebSocketServer needs exactly one of the options port, server or noServer',
      );
    }
    if (typeof options.perMessageDeflate === 'object')
      checkDeflateOptions(options.perMessageDeflate);
    this.options = { ...options };
    this.#topics = new Topics(
      options.broker ?? null,
      typeof options.perMessageDeflate === 'object' ? options.perMessageDeflate : null,
      (topic, missed) => this.emit('gap', topic, missed),
      (error) => {
        if (this.listenerCount('error') > 0) this.emit('error', error);
        else process.emitWarning(error.message, { code: (error as { code?: string }).code });
      },
    );
    if (options.noServer) return;

    let server: HttpServer;
    if (options.port !== undefined) {
      const handler = (_req: IncomingMessage, res: ServerResponse) => {
        const body = 'Upgrade Required: this is a WebSocket endpoint\n';
        res.writeHead(426, {
          'Content-Type': 'text/plain',
          'Content-Length': Buffer.byteLength(body),
          Upgrade: 'websocket',
        });
        res.end(body);
      };
      server = options.tls ? createHttpsServer(options.tls, handler) : createHttpServer(handler);
      // One more than allowed, so that an upgrade with too many headers is seen and refused.
      server.maxHeadersCount = (options.maxHeaders ?? 100) + 1;
      this.#ownsServer = true;
      server.listen(options.port, options.host, options.backlog);
    } else {
      server = options.server!;
    }
    this.#server = server;
    this.#onUpgrade = (req, socket, head) => {
      if (!this.shouldHandle(req)) {
        // Another upgrade listener (another WebSocketServer with another path) may take it;
        // when there is none, answer rather than leave the client hanging.
        if (this.#ownsServer || server.listenerCount('upgrade') === 1) {
          this.#reject(socket, 400, 'no WebSocket endpoint at this path');
        }
        return;
      }
      this.handleUpgrade(req, socket, head, (ws, request) => this.emit('connection', ws, request));
    };
    server.on('upgrade', this.#onUpgrade);
    server.on('listening', this.#onListening);
    server.on('error', this.#onError);
    if (onListening) this.once('listening', onListening);
    if (this.#ownsServer === false && server.listening)
      queueMicrotask(() => this.emit('listening'));
  }

  #onListening = () => this.emit('listening');
  #onError = (error: Error) => {
    const mapped = connectionErrorFrom(error, 'WebSocketServer');
    if (this.listenerCount('error') > 0) this.emit('error', mapped);
    else process.emitWarning(mapped.message, { code: mapped.code });
  };

  /** The bound address, as `net.Server#address()` gives it; null with `noServer` or before listening. */
  address(): AddressInfo | string | null {
    return this.#server?.address() ?? null;
  }

  /** Whether `request` is for this server's `path` (always true without one). */
  shouldHandle(request: IncomingMessage): boolean {
    if (this.options.path === undefined) return true;
    const url = request.url ?? '/';
    const q = url.indexOf('?');
    return (q >= 0 ? url.slice(0, q) : url) === this.options.path;
  }

  /**
   * Completes the opening handshake for an HTTP upgrade request and calls `callback` with the
   * open socket. Invalid or refused requests are answered with an HTTP error and closed.
   */
  handleUpgrade(
    request: IncomingMessage,
    socket: Socket,
    head: Buffer,
    callback: (socket: WebSocket, request: IncomingMessage) => void,
  ): void {
    socket.on('error', onHandshakeSocketError);
    if (this.#state !== 'running') {
      this.#reject(socket, 503, 'the server is shutting down');
      return;
    }
    const maxHeaders = this.options.maxHeaders ?? 100;
    if (request.rawHeaders.length / 2 > maxHeaders) {
      this.#reject(socket, 431, `too many request headers (more than ${maxHeaders})`);
      return;
    }
    const check = checkUpgradeRequest({
      method: request.method ?? '',
      httpVersion: request.httpVersion,
      headers: request.headers,
    });
    if (!check.ok) {
      this.#reject(socket, check.status, check.message, check.headers);
      return;
    }
    let protocol = '';
    if (check.protocols.length > 0) {
      let chosen: string | false | undefined;
      try {
        chosen = this.options.handleProtocols
          ? this.options.handleProtocols(new Set(check.protocols), request)
          : check.protocols[0]!;
      } catch (error) {
        this.#hookFailed(socket, 'handleProtocols', error);
        return;
      }
      if (chosen !== false && chosen !== undefined) {
        if (!check.protocols.includes(chosen)) {
          this.#reject(socket, 500, 'handleProtocols chose a subprotocol the client did not offer');
          return;
        }
        protocol = chosen;
      }
    }
    const complete = () => {
      this.#pendingHandshakes.delete(socket);
      if (socket.destroyed) return;
      if (this.#state !== 'running') {
        this.#reject(socket, 503, 'the server is shutting down');
        return;
      }
      const deflateOption = this.options.perMessageDeflate;
      const deflateOptions = typeof deflateOption === 'object' ? deflateOption : {};
      const deflate = deflateOption ? acceptDeflateOffer(check.extensions, deflateOptions) : null;
      const response = buildAcceptResponse(check.key, nodePlatform, {
        ...(protocol ? { protocol } : {}),
        ...(deflate ? { extensions: deflate.response } : {}),
      });
      socket.removeListener('error', onHandshakeSocketError);
      socket.setNoDelay(true);
      socket.setTimeout(0);
      socket.write(response);
      const ws = WebSocket[kAccept]({
        socket,
        url: `${(socket as TLSSocket).encrypted ? 'wss' : 'ws'}://${request.headers.host ?? 'localhost'}${request.url ?? '/'}`,
        protocol,
        extensions: deflate?.response ?? '',
        compressor: deflate
          ? new NodeDeflateCompressor(deflate.agreement, 'server', deflateOptions)
          : null,
        maxPayload: this.options.maxPayload ?? DEFAULT_MAX_PAYLOAD,
        binaryType: this.options.binaryType ?? 'nodebuffer',
        closeTimeout: this.options.closeTimeout ?? 30_000,
        heartbeat: this.options.heartbeat ?? null,
      });
      ws[kTopics] = this.#topics;
      this.#topics.adopt(ws, deflate?.agreement ?? null, deflateOptions.threshold ?? 1024);
      if (this.options.clientTracking !== false) this.#track(ws);
      else ws[kOnClosed] = this.#topics.drop;
      callback(ws, request);
      ws[kFeed](head);
    };
    const authenticate = this.options.authenticate;
    if (!authenticate) {
      complete();
      return;
    }
    this.#pendingHandshakes.add(socket);
    let result: AuthenticateResult | Promise<AuthenticateResult>;
    try {
      result = authenticate(request);
    } catch (error) {
      this.#pendingHandshakes.delete(socket);
      this.#hookFailed(socket, 'authenticate', error);
      return;
    }
    Promise.resolve(result).then(
      (verdict) => {
        if (verdict === true || verdict === undefined) return complete();
        this.#pendingHandshakes.delete(socket);
        if (verdict === false) return this.#reject(socket, 401, 'authentication failed');
        try {
          this.#reject(socket, verdict.status, verdict.body ?? '', verdict.headers);
        } catch (error) {
          this.#hookFailed(socket, 'authenticate', error);
        }
      },
      (error: unknown) => {
        this.#pendingHandshakes.delete(socket);
        this.#hookFailed(socket, 'authenticate', error);
      },
    );
  }

  /**
   * Sends one message to every open client; the frame is encoded once. Returns how many
   * clients it was written to.
   */
  broadcast(
    data: string | ArrayBufferLike | ArrayBufferView,
    options: BroadcastOptions = {},
  ): number {
    let payload: Uint8Array | string;
    if (typeof data === 'string') payload = options.binary ? Buffer.from(data) : data;
    else if (ArrayBuffer.isView(data))
      payload = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    else if (data instanceof ArrayBuffer || data instanceof SharedArrayBuffer)
      payload = new Uint8Array(data);
    else throw new TypeError('broadcast() takes a string, an ArrayBuffer or a typed array');
    const opcode = typeof payload === 'string' ? Opcode.Text : Opcode.Binary;
    const frame = WebSocketProtocol.encodeFrame(opcode, payload, nodePlatform);
    let count = 0;
    for (const client of this.clients) {
      if (client === options.except || (options.filter && !options.filter(client))) continue;
      if (client[kSendRaw](frame, payload)) count++;
    }
    return count;
  }

  /**
   * Sends one message to every socket subscribed to `topic` here, and through the broker to the
   * subscribers on every other node. The frame is encoded (and compressed) once. Returns how many
   * local sockets it was written to; throws a `BrokerError` if the broker refuses it.
   */
  publish(
    topic: string,
    data: string | ArrayBufferLike | ArrayBufferView,
    options: PublishOptions = {},
  ): number {
    return this.#topics.publish(topic, toTopicPayload(data, options.binary), options.except);
  }

  /** How many sockets of this server are subscribed to `topic`. */
  subscriberCount(topic: string): number {
    return this.#topics.count(topic);
  }

  /** Resolves once the broker is connected and every subscribe and publish so far took effect. */
  brokerReady(): Promise<void> {
    return this.#topics.ready();
  }

  /**
   * Stops accepting connections and closes every client with 1001 (going away). Emits `close`
   * (and calls `callback`) once all clients and the owned HTTP server are closed.
   */
  close(callback?: (error?: Error) => void): void {
    if (callback) this.once('close', () => callback());
    if (this.#state !== 'running') {
      if (this.#state === 'closed') queueMicrotask(() => callback?.());
      return;
    }
    this.#state = 'closing';
    const server = this.#server;
    if (server) {
      server.removeListener('upgrade', this.#onUpgrade!);
      server.removeListener('listening', this.#onListening);
      if (this.#ownsServer) {
        this.#serverOpen = true;
        server.close(() => {
          this.#serverOpen = false;
          server.removeListener('error', this.#onError);
          this.#maybeFinishClose();
        });
        server.closeIdleConnections?.();
      } else {
        server.removeListener('error', this.#onError);
      }
    }
    this.#brokerOpen = true;
    void this.#topics.close().finally(() => {
      this.#brokerOpen = false;
      this.#maybeFinishClose();
    });
    for (const socket of this.#pendingHandshakes) socket.destroy();
    for (const client of this.clients) client[kCloseWith](1001, 'server shutting down');
    this.#maybeFinishClose();
  }

  #serverOpen = false;
  #brokerOpen = false;

  /** Tracks `ws` in `clients` until it closes (kept out of handleUpgrade's closure, so the
   * request and its buffers are not retained for the connection's lifetime). */
  #track(ws: WebSocket): void {
    this.clients.add(ws);
    ws[kOnClosed] = this.#untrack;
  }

  /** One function for every tracked socket: no closure per connection. */
  #untrack = (ws: WebSocket): void => {
    this.clients.delete(ws);
    this.#topics.drop(ws);
    this.#maybeFinishClose();
  };

  #maybeFinishClose(): void {
    if (this.#state !== 'closing' || this.clients.size > 0 || this.#serverOpen || this.#brokerOpen)
      return;
    this.#state = 'closed';
    queueMicrotask(() => this.emit('close'));
  }

  /** A user hook threw or returned something unusable: answer 500 and report it. */
  #hookFailed(socket: Socket, hook: string, error: unknown): void {
    this.#pendingHandshakes.delete(socket);
    this.#reject(socket, 500, 'internal server error');
    const wrapped = new ConnectionError(
      'ERR_WS_HANDSHAKE',
      `the ${hook} hook failed: ${error instanceof Error ? error.message : String(error)}`,
      {
        cause: error,
      },
    );
    if (this.listenerCount('error') > 0) this.emit('error', wrapped);
  }

  #reject(socket: Socket, status: number, body: string, headers?: Record<string, string>): void {
    if (socket.destroyed) return;
    socket.on('error', onHandshakeSocketError);
    socket.end(buildRejectResponse(status, body, headers));
    // Give the answer a moment to leave, then free the socket whatever the client does.
    setTimeout(() => socket.destroy(), 1000).unref();
  }
}

function onHandshakeSocketError(this: Socket): void {
  this.destroy();
}
