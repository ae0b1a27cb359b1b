import { Buffer } from 'node:buffer';
import { EventEmitter } from 'node:events';
import {
  createServer as createHttpServer,
  type Server as HttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { ConnectionError } from '../errors.js';
import { buildRejectResponse } from '../protocol/handshake/response.js';
import { ServerHandshake } from '../protocol/handshake/server.js';
import { flatCopy } from './bytes.js';
import { NodeDeflateCompressor } from './deflate/zlib-compressor.js';
import { connectionErrorFrom } from './error-map.js';
import { nodePlatform } from './node-platform.js';
import {
  type AuthenticateResult,
  type BinaryType,
  type ResolvedServerOptions,
  resolveServerOptions,
  type WebSocketServerOptions,
} from './options.js';
import { type PublishOptions, Topics, toTopicPayload } from './topics.js';
import { type AcceptingServer, acceptWebSocket, kConnection, type WebSocket } from './websocket.js';

export type { AuthenticateResult, WebSocketServerOptions } from './options.js';

/** Options of `WebSocketServer.broadcast()`, for a server whose sockets have `binaryType` `B`. */
export interface BroadcastOptions<B extends BinaryType = BinaryType> {
  /** Send as a binary message even when `data` is a string. */
  binary?: boolean;
  /** Skip this socket (typically the sender). */
  except?: WebSocket<B>;
  /** Send only to sockets for which this returns true. */
  filter?(socket: WebSocket<B>): boolean;
}

/** The events of a {@link WebSocketServer} whose sockets have `binaryType` `B`. */
export interface WebSocketServerEvents<B extends BinaryType> {
  listening: [];
  connection: [socket: WebSocket<B>, request: IncomingMessage];
  error: [error: Error];
  close: [];
  gap: [topic: string, missed: number];
}

/**
 * A WebSocket server, an `EventEmitter` like `ws`'s: standalone on a port, attached to an
 * existing HTTP(S) server, or with `noServer` fed by `handleUpgrade`. Accepted sockets are
 * standard {@link WebSocket} objects, of `binaryType` `B`: "nodebuffer" unless the
 * `binaryType` option says otherwise, so that `data` is typed by it.
 */
export class WebSocketServer<B extends BinaryType = 'nodebuffer'> extends EventEmitter<
  WebSocketServerEvents<B>
> {
  /** Accepted sockets that are not closed yet (when `clientTracking` is on). */
  readonly clients = new Set<WebSocket<B>>();
  readonly options: Readonly<WebSocketServerOptions<B>>;
  readonly #settings: ResolvedServerOptions;
  #server: HttpServer | null = null;
  #ownsServer = false;
  #state: 'running' | 'closing' | 'closed' = 'running';
  #onUpgrade: ((req: IncomingMessage, socket: Duplex, head: Buffer) => void) | null = null;
  #pendingHandshakes = new Set<Duplex>();
  /** Sockets still in their opening handshake, each with the timer that bounds it. */
  #handshakeTimers = new Map<Duplex, NodeJS.Timeout>();
  readonly #topics: Topics;
  /** What every accepted socket shares: the tracking callback and the topic index. */
  readonly #accepting: AcceptingServer;
  /** The URL of the last accepted socket: sockets of the same URL share the string. */
  #lastUrl = '';

  constructor(options: WebSocketServerOptions<B>, onListening?: () => void) {
    super();
    this.#settings = resolveServerOptions(options);
    this.options = { ...options };
    this.#topics = new Topics(
      options.broker ?? null,
      this.#settings.perMessageDeflate,
      (topic, missed) => this.emit('gap', topic, missed),
      (error) => {
        if (this.listenerCount('error') > 0) this.emit('error', error);
        else process.emitWarning(error.message, { code: (error as { code?: string }).code });
      },
    );
    this.#accepting = {
      onClosed: this.#settings.clientTracking ? this.#untrack : this.#topics.drop,
      topics: this.#topics,
    };
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
      server.maxHeadersCount = this.#settings.maxHeaders + 1;
      this.#ownsServer = true;
      // The handshake clock starts at the TCP connection: a client that sends its request head
      // slowly, or never, is dropped after handshakeTimeout instead of Node's own, much later
      // header timeout.
      if (this.#settings.handshakeTimeout > 0) server.on('connection', this.#armHandshakeTimer);
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

  #armHandshakeTimer = (socket: Duplex): void => {
    if (this.#handshakeTimers.has(socket)) return;
    const timer = setTimeout(this.#handshakeTimedOut, this.#settings.handshakeTimeout, socket);
    timer.unref();
    this.#handshakeTimers.set(socket, timer);
  };

  #handshakeTimedOut = (socket: Duplex): void => {
    this.#handshakeTimers.delete(socket);
    this.#pendingHandshakes.delete(socket);
    socket.destroy();
  };

  #handshakeDone(socket: Duplex): void {
    const timer = this.#handshakeTimers.get(socket);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.#handshakeTimers.delete(socket);
  }
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
   * `socket` is what Node's `'upgrade'` event gives: a `net.Socket` or `tls.TLSSocket`, or any
   * other `Duplex` carrying the connection's bytes (the socket options of TCP are then skipped).
   * Throws a TypeError for such a `Duplex` when `idleTimeout` is set: that option arms the
   * idle timer of a `net.Socket`.
   */
  handleUpgrade(
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    callback: (socket: WebSocket<B>, request: IncomingMessage) => void,
  ): void {
    if (
      this.#settings.idleTimeout > 0 &&
      typeof (socket as Partial<Socket>).setTimeout !== 'function'
    ) {
      throw new TypeError(
        'idleTimeout needs a net.Socket (it arms socket.setTimeout()), and handleUpgrade() was given another Duplex: set idleTimeout to 0 and drop dead peers with the heartbeat option',
      );
    }
    socket.on('error', onHandshakeSocketError);
    if (this.#settings.handshakeTimeout > 0) this.#armHandshakeTimer(socket);
    if (this.#state !== 'running') {
      this.#reject(socket, 503, 'the server is shutting down');
      return;
    }
    const settings = this.#settings;
    const deflateOptions = settings.perMessageDeflate;
    const handshake = new ServerHandshake({
      platform: nodePlatform,
      maxHeaders: settings.maxHeaders,
      perMessageDeflate: deflateOptions,
    });
    const event = handshake.receiveRequest({
      method: request.method ?? '',
      httpVersion: request.httpVersion,
      headers: request.headers,
      headerCount: request.rawHeaders.length / 2,
    });
    if (event.type === 'rejected') {
      this.#endWith(socket, handshake.dataToSend());
      return;
    }
    let protocol: string | false = false;
    if (event.protocols.length > 0) {
      let chosen: string | false | undefined;
      try {
        chosen = this.options.handleProtocols
          ? this.options.handleProtocols(new Set(event.protocols), request)
          : event.protocols[0]!;
      } catch (error) {
        this.#hookFailed(socket, 'handleProtocols', error);
        return;
      }
      if (chosen !== false && chosen !== undefined) {
        if (!event.protocols.includes(chosen)) {
          handshake.reject(500, 'handleProtocols chose a subprotocol the client did not offer');
          this.#endWith(socket, handshake.dataToSend());
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
      this.#handshakeDone(socket);
      const accepted = handshake.accept({
        protocol,
        ...(settings.headers ? { headers: settings.headers } : {}),
      });
      socket.removeListener('error', onHandshakeSocketError);
      // TCP settings, for a net.Socket; another Duplex has neither Nagle nor an idle timer.
      const tcp = socket as Partial<Socket>;
      tcp.setNoDelay?.(true);
      tcp.setTimeout?.(0);
      socket.write(handshake.dataToSend());
      const url = `${(socket as TLSSocket).encrypted ? 'wss' : 'ws'}://${request.headers.host ?? 'localhost'}${request.url ?? '/'}`;
      if (url !== this.#lastUrl) this.#lastUrl = flatCopy(url);
      const ws = acceptWebSocket<B>({
        socket,
        url: this.#lastUrl,
        protocol: accepted.protocol,
        extensions: accepted.extensions,
        compressor: accepted.deflate
          ? new NodeDeflateCompressor(accepted.deflate, 'server', deflateOptions ?? {})
          : null,
        // resolveServerOptions checked the option: it is B, or B's default "nodebuffer".
        binaryType: settings.binaryType as B,
        settings,
        server: this.#accepting,
      });
      this.#topics.adopt(ws, accepted.deflate ?? null, deflateOptions?.threshold ?? 1024);
      if (settings.clientTracking) this.clients.add(ws);
      callback(ws, request);
      ws[kConnection]?.receive(head);
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
    let decided = false;
    const limit = this.#settings.authenticateTimeout;
    const timer =
      limit > 0 && result instanceof Promise
        ? setTimeout(() => {
            if (decided) return;
            decided = true;
            this.#pendingHandshakes.delete(socket);
            this.#reject(socket, 503, 'authentication did not answer in time');
            const error = new ConnectionError(
              'ERR_WS_TIMEOUT',
              `the authenticate hook did not decide within ${limit} ms (authenticateTimeout); ` +
                'the client was answered 503',
            );
            if (this.listenerCount('error') > 0) this.emit('error', error);
          }, limit)
        : null;
    timer?.unref();
    const decide = (): boolean => {
      if (decided) return false;
      decided = true;
      if (timer) clearTimeout(timer);
      return true;
    };
    Promise.resolve(result).then(
      (verdict) => {
        if (!decide()) return;
        if (verdict === true || verdict === undefined) return complete();
        this.#pendingHandshakes.delete(socket);
        try {
          if (verdict === false) handshake.reject(401, 'authentication failed');
          else handshake.reject(verdict.status, verdict.body ?? '', verdict.headers);
          this.#endWith(socket, handshake.dataToSend());
        } catch (error) {
          this.#hookFailed(socket, 'authenticate', error);
        }
      },
      (error: unknown) => {
        if (!decide()) return;
        this.#pendingHandshakes.delete(socket);
        this.#hookFailed(socket, 'authenticate', error);
      },
    );
  }

  /**
   * Sends one message to every open client; the frame is encoded once, and with
   * permessage-deflate compressed once per window size for the clients whose agreement allows
   * sharing it (the others compress it on their own). Returns how many clients it was written to.
   */
  broadcast(
    data: string | ArrayBufferLike | ArrayBufferView,
    options: BroadcastOptions<B> = {},
  ): number {
    const payload = toTopicPayload(data, options.binary, 'broadcast');
    const { except, filter } = options;
    const skip =
      except || filter
        ? (ws: WebSocket<B>) => ws === except || (filter ? !filter(ws) : false)
        : null;
    return this.#topics.send(this.clients, payload, skip);
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
    for (const timer of this.#handshakeTimers.values()) clearTimeout(timer);
    this.#handshakeTimers.clear();
    for (const client of this.clients) client.close(1001, 'server shutting down');
    this.#maybeFinishClose();
  }

  #serverOpen = false;
  #brokerOpen = false;

  /** One function for every tracked socket: no closure per connection. */
  #untrack = (ws: WebSocket): void => {
    this.clients.delete(ws as WebSocket<B>);
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
  #hookFailed(socket: Duplex, hook: string, error: unknown): void {
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

  #reject(socket: Duplex, status: number, body: string, headers?: Record<string, string>): void {
    this.#endWith(socket, buildRejectResponse(status, body, headers));
  }

  /** Writes a refusal and closes the socket. */
  #endWith(socket: Duplex, response: string): void {
    this.#handshakeDone(socket);
    if (socket.destroyed) return;
    socket.on('error', onHandshakeSocketError);
    socket.end(response);
    // Give the answer a moment to leave, then free the socket whatever the client does.
    setTimeout(() => socket.destroy(), 1000).unref();
  }
}

function onHandshakeSocketError(this: Duplex): void {
  this.destroy();
}
