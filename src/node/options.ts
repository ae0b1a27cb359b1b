import type { Buffer } from 'node:buffer';
import type { Server as HttpServer, IncomingMessage } from 'node:http';
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import { checkAcceptHeaders } from '../protocol/handshake/response.js';
import { isToken } from '../protocol/http-tokens.js';
import { DEFAULT_MAX_PAYLOAD } from '../protocol/websocket-protocol.js';
import type { StandardBinaryData } from '../web/events.js';
import {
  type ReconnectOptions as PortableReconnectOptions,
  type ResolvedReconnect as PortableResolvedReconnect,
  RECONNECT_DEFAULTS,
  resolveReconnect as resolvePortableReconnect,
} from '../web/reconnect.js';
import type { Broker } from './broker.js';
import type { ClientHandshakeOptions, ClientTlsOptions } from './client-handshake.js';
import { checkDeflateOptions, type PerMessageDeflateOptions } from './deflate/zlib-compressor.js';
import { checkClientOptionNames, checkServerOptionNames } from './option-names.js';

/** How binary messages are delivered: `Blob` (standard default), `ArrayBuffer`, or Node `Buffer`. */
export type BinaryType = 'blob' | 'arraybuffer' | 'nodebuffer';

/** The binary data of a message for each {@link BinaryType}. */
export interface NodeBinaryData extends StandardBinaryData {
  nodebuffer: Buffer;
}

/**
 * The binary data of a message on a socket whose `binaryType` is `B`: `Blob`, `ArrayBuffer` or
 * `Buffer`, or any of them for the union (a socket whose binary type may change at run time).
 */
export type BinaryData<B extends BinaryType = BinaryType> = NodeBinaryData[B];

/** The `data` of a message event on a socket whose `binaryType` is `B`: text or binary data. */
export type MessageData<B extends BinaryType = BinaryType> = string | BinaryData<B>;

/**
 * Options of a client `WebSocket` in Node (the third constructor argument). `B` is the type of
 * the `binaryType` option, which types the socket's messages.
 */
export interface WebSocketOptions<B extends BinaryType = BinaryType> {
  /** Extra request headers for the opening handshake. */
  headers?: Record<string, string>;
  /** `Origin` header value. */
  origin?: string;
  /** TLS settings for `wss:`. */
  tls?: ClientTlsOptions;
  /** Milliseconds to wait for the server's handshake answer (default 30000; 0: no limit). */
  handshakeTimeout?: number;
  /** Milliseconds to wait for the peer to finish the closing handshake (default 30000; 0: no limit). */
  closeTimeout?: number;
  /** Largest incoming message in bytes (default 16 MiB; 0: no limit); larger ones close with 1009. */
  maxPayload?: number;
  /** Initial `binaryType` (default "blob"). */
  binaryType?: B;
  /** Offer permessage-deflate (RFC 7692): true (default), false, or settings. */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /** HTTP(S) proxy URL for a CONNECT tunnel; false for none. Default: HTTPS_PROXY / HTTP_PROXY / NO_PROXY. */
  proxy?: string | false;
  /** Follow HTTP redirects of the handshake (default false); never from wss: to ws:. */
  followRedirects?: boolean;
  /** Most redirects to follow (default 10). */
  maxRedirects?: number;
  /** Reconnect after connection failures and unexpected closes: true for defaults, or settings. */
  reconnect?: boolean | ReconnectOptions;
  /** Ping the peer periodically and drop the connection when no pong answers in time. */
  heartbeat?: HeartbeatOptions;
  /**
   * Milliseconds without any byte sent or received after which the connection is closed with
   * 1001 (default 0: never). Heartbeat pings count as traffic, so with `heartbeat` on this only
   * ends connections whose peer stopped answering at the TCP level.
   */
  idleTimeout?: number;
  /**
   * Most bytes `send()` may leave waiting for a peer that does not read them (default 64 MiB;
   * 0: no limit). What happens past it is `sendQueuePolicy`.
   */
  sendQueueLimit?: number;
  /**
   * Past `sendQueueLimit`: `"close"` (default) drops the connection with an `ERR_WS_BACKPRESSURE`
   * error, as the WHATWG standard closes a socket whose buffer is full; `"refuse"` makes `send()`
   * throw `ERR_WS_BACKPRESSURE` and keeps the connection.
   */
  sendQueuePolicy?: SendQueuePolicy;
  /**
   * Most pongs owed to a peer whose pings keep coming while it does not read our answers
   * (default 256); past it the connection fails with 1008. Reading from such a peer already
   * pauses while our writes do not leave; this bounds what one received chunk may queue.
   */
  maxPendingPongs?: number;
  /**
   * Let `close()` send any close code valid on the wire (such as 1001 or 1008), as sockets a
   * server accepted may, instead of the WHATWG client's 1000 and 3000-4999 only: for APIs that
   * allow it, such as Qt's (the Overte dialect). Default false.
   */
  anyValidCloseCode?: boolean;
}

/** What `send()` does past `sendQueueLimit`: drop the connection, or throw and keep it. */
export type SendQueuePolicy = 'close' | 'refuse';

/** Automatic reconnection (the `reconnect` option): the settings every runtime has, and one more. */
export interface ReconnectOptions extends PortableReconnectOptions {
  /**
   * Milliseconds a connection must stay open before the retry delays start again from
   * `minDelay` (default 5000). A server that accepts and drops every connection at once is then
   * retried with growing delays instead of every `minDelay`.
   */
  minUptime?: number;
}

/** Keep-alive pings (the `heartbeat` option, for clients and servers). */
export interface HeartbeatOptions {
  /** Milliseconds between pings. */
  interval: number;
  /** Milliseconds to wait for the pong before the peer is declared dead (default: `interval`). */
  timeout?: number;
}

/** What an `authenticate` hook returns: accept (true/undefined), 401 (false), or a refusal. */
export type AuthenticateResult =
  | boolean
  | undefined
  // biome-ignore lint/suspicious/noConfusingVoidType: lets `async () => {}` hooks accept.
  | void
  | { status: number; body?: string; headers?: Record<string, string> };

/**
 * Options of a {@link WebSocketServer}. `B` is the type of the `binaryType` option, which types
 * the accepted sockets' messages.
 */
export interface WebSocketServerOptions<B extends BinaryType = BinaryType> {
  /** Port to listen on (0 picks a free one). Creates an HTTP server owned by this server. */
  port?: number;
  /** Host to bind (default: all interfaces). */
  host?: string;
  /** Length of the pending-connection queue, as `net.Server#listen()` takes it. */
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
   * Extra headers of every 101 answer, e.g. `{ Server: 'my-app/1.0' }`. Checked when the server
   * is made: a name or value HTTP does not allow, or a header the handshake writes itself
   * (`Upgrade`, `Sec-WebSocket-*`, ...), is a TypeError.
   */
  headers?: Record<string, string>;
  /**
   * Decides whether to accept a connection, possibly asynchronously: return true (or nothing) to
   * accept, false for 401, or `{ status, body, headers }` to refuse with that answer.
   */
  authenticate?: (request: IncomingMessage) => AuthenticateResult | Promise<AuthenticateResult>;
  /** Picks one of the offered subprotocols, or false for none. Default: the first offered. */
  handleProtocols?: (protocols: Set<string>, request: IncomingMessage) => string | false;
  /** Largest incoming message in bytes (default 16 MiB; 0: no limit). */
  maxPayload?: number;
  /** `binaryType` of accepted sockets (default "nodebuffer"). */
  binaryType?: B;
  /** Track accepted sockets in `clients` (default true). */
  clientTracking?: boolean;
  /** Milliseconds to wait for a client to finish the closing handshake (default 30000; 0: no limit). */
  closeTimeout?: number;
  /** Most request headers accepted in an upgrade request (default 100); more get 431. */
  maxHeaders?: number;
  /** Accept permessage-deflate (RFC 7692): false (default), true, or settings. */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /** Ping every client periodically; clients that miss the pong are dropped (and leave `clients`). */
  heartbeat?: HeartbeatOptions;
  /** Carries `publish` to other servers (`wskit/redis`, `InProcessBroker`); closed with the server. */
  broker?: Broker;
  /**
   * Milliseconds a client has to complete its opening handshake (default 10000; 0: no limit):
   * from its TCP connection when this server owns the HTTP server, from the upgrade request
   * otherwise, to the 101 answer. Slow or silent clients are disconnected.
   */
  handshakeTimeout?: number;
  /**
   * Milliseconds the `authenticate` hook has to decide (default 5000; 0: no limit); past it the
   * client gets 503 and an `error` event says which hook was late.
   */
  authenticateTimeout?: number;
  /**
   * Milliseconds without any byte sent or received after which the connection is closed with
   * 1001 (default 0: never). Heartbeat pings count as traffic, so with `heartbeat` on this only
   * ends connections whose peer stopped answering at the TCP level.
   */
  idleTimeout?: number;
  /**
   * Most bytes `send()` may leave waiting for a peer that does not read them (default 64 MiB;
   * 0: no limit). What happens past it is `sendQueuePolicy`.
   */
  sendQueueLimit?: number;
  /**
   * Past `sendQueueLimit`: `"close"` (default) drops the connection with an `ERR_WS_BACKPRESSURE`
   * error, as the WHATWG standard closes a socket whose buffer is full; `"refuse"` makes `send()`
   * throw `ERR_WS_BACKPRESSURE` and keeps the connection.
   */
  sendQueuePolicy?: SendQueuePolicy;
  /**
   * Most pongs owed to a peer whose pings keep coming while it does not read our answers
   * (default 256); past it the connection fails with 1008. Reading from such a peer already
   * pauses while our writes do not leave; this bounds what one received chunk may queue.
   */
  maxPendingPongs?: number;
}

/** Every default of the client and server options, in one place. */
export const DEFAULTS = Object.freeze({
  handshakeTimeout: 30_000,
  closeTimeout: 30_000,
  maxPayload: DEFAULT_MAX_PAYLOAD,
  serverHandshakeTimeout: 10_000,
  authenticateTimeout: 5_000,
  idleTimeout: 0,
  sendQueueLimit: 64 * 1024 * 1024,
  sendQueuePolicy: 'close' as SendQueuePolicy,
  maxPendingPongs: 256,
  clientBinaryType: 'blob' as BinaryType,
  serverBinaryType: 'nodebuffer' as BinaryType,
  /** Clients offer permessage-deflate unless told not to; servers accept it only when told to. */
  clientPerMessageDeflate: true,
  serverPerMessageDeflate: false,
  maxRedirects: 10,
  maxHeaders: 100,
  clientTracking: true,
  reconnect: Object.freeze({ ...RECONNECT_DEFAULTS, minUptime: 5000 }),
});

/** A heartbeat with its timeout filled in. */
export interface ResolvedHeartbeat {
  interval: number;
  timeout: number;
}

/** The retry policy of a reconnecting Node client, every field filled in. */
export interface ResolvedReconnect extends PortableResolvedReconnect {
  /** Milliseconds of uptime after which a loss counts attempts from 1 again. */
  minUptime: number;
}

/** What one open connection needs, on either side. */
export interface ConnectionSettings {
  maxPayload: number;
  /** Milliseconds to wait for the closing handshake to finish; 0 for no limit. */
  closeTimeout: number;
  heartbeat: ResolvedHeartbeat | null;
  /** Milliseconds without traffic before closing with 1001; 0 for never. */
  idleTimeout: number;
  /** Bytes that may wait for the peer to read them; 0 for no limit. */
  sendQueueLimit: number;
  sendQueuePolicy: SendQueuePolicy;
  /** Pongs that may be owed to a peer that does not read before failing with 1008. */
  maxPendingControl: number;
}

const settingsCache = new Map<string, ConnectionSettings>();

/**
 * The connection part of `options`, as one object shared by every connection with the same
 * values: a connection keeps it for its life, and a client's resolved options hold much more
 * (headers, TLS, the handshake) that is not needed once open.
 */
export function connectionSettings(options: ConnectionSettings): ConnectionSettings {
  const { maxPayload, closeTimeout, heartbeat, idleTimeout } = options;
  const { sendQueueLimit, sendQueuePolicy, maxPendingControl } = options;
  const key = [
    maxPayload,
    closeTimeout,
    heartbeat?.interval,
    heartbeat?.timeout,
    idleTimeout,
    sendQueueLimit,
    sendQueuePolicy,
    maxPendingControl,
  ].join();
  let settings = settingsCache.get(key);
  if (settings === undefined) {
    settings = Object.freeze({
      maxPayload,
      closeTimeout,
      heartbeat,
      idleTimeout,
      sendQueueLimit,
      sendQueuePolicy,
      maxPendingControl,
    });
    // A bounded cache: a process with many different settings still gets correct ones.
    if (settingsCache.size < 64) settingsCache.set(key, settings);
  }
  return settings;
}

/** Client options after defaults and validation. */
export interface ResolvedClientOptions extends ConnectionSettings {
  binaryType: BinaryType;
  /** Settings of the permessage-deflate offer, or null to offer nothing. */
  perMessageDeflate: PerMessageDeflateOptions | null;
  reconnect: ResolvedReconnect | null;
  handshake: ClientHandshakeOptions;
}

/** Server options after defaults and validation. */
export interface ResolvedServerOptions extends ConnectionSettings {
  binaryType: BinaryType;
  /** Settings for accepting permessage-deflate, or null to decline every offer. */
  perMessageDeflate: PerMessageDeflateOptions | null;
  maxHeaders: number;
  clientTracking: boolean;
  /** Milliseconds to complete the opening handshake; 0 for no limit. */
  handshakeTimeout: number;
  /** Milliseconds the `authenticate` hook may take; 0 for no limit. */
  authenticateTimeout: number;
  /** Extra headers of every 101 answer, already checked. */
  headers: Readonly<Record<string, string>> | null;
}

/**
 * The subprotocol list of `new WebSocket(url, protocols)`. WHATWG: each must be a token
 * (RFC 6455 section 4.1) listed once (`SyntaxError` DOMException otherwise). Options passed in
 * the protocols' place, as `ws` allows, get a TypeError that says where they go.
 */
export function resolveProtocols(protocols: unknown): string[] {
  let list: string[];
  if (protocols === undefined) list = [];
  else if (typeof protocols === 'string') list = [protocols];
  else if (typeof protocols === 'object' && protocols !== null && Symbol.iterator in protocols)
    list = [...(protocols as Iterable<string>)];
  else if (typeof protocols === 'object' && protocols !== null)
    throw new TypeError(
      'new WebSocket(url, protocols, options): the second argument is the subprotocols (a string or an array of strings); options go third, e.g. new WebSocket(url, [], { headers })',
    );
  else
    throw new TypeError(
      `protocols must be a string or an array of strings (got ${protocols === null ? 'null' : typeof protocols})`,
    );
  for (let i = 0; i < list.length; i++) {
    const p = list[i]!;
    if (!isToken(p))
      throw new DOMException(`invalid subprotocol "${p}": it must be an HTTP token`, 'SyntaxError');
    // Subprotocol names compare case-insensitively for duplicates (as browsers check them).
    const lower = p.toLowerCase();
    if (list.findIndex((q) => q.toLowerCase() === lower) !== i)
      throw new DOMException(`subprotocol "${p}" is listed twice`, 'SyntaxError');
  }
  return list;
}

/** Validates the options of `new WebSocket(url, protocols, options)` and fills in defaults. */
export function resolveClientOptions(
  options: WebSocketOptions,
  protocols: readonly string[],
): ResolvedClientOptions {
  checkClientOptionNames(options);
  const deflate = resolveDeflate(options.perMessageDeflate, DEFAULTS.clientPerMessageDeflate);
  return {
    binaryType: resolveBinaryType(options.binaryType, DEFAULTS.clientBinaryType),
    maxPayload: nonNegative('maxPayload', options.maxPayload, DEFAULTS.maxPayload),
    closeTimeout: nonNegative('closeTimeout', options.closeTimeout, DEFAULTS.closeTimeout),
    heartbeat: resolveHeartbeat(options.heartbeat),
    ...resolveLimits(options),
    perMessageDeflate: deflate,
    reconnect: resolveReconnect(options.reconnect),
    handshake: {
      protocols,
      handshakeTimeout: nonNegative(
        'handshakeTimeout',
        options.handshakeTimeout,
        DEFAULTS.handshakeTimeout,
      ),
      ...(options.headers ? { headers: options.headers } : {}),
      ...(options.origin !== undefined ? { origin: options.origin } : {}),
      ...(options.tls ? { tls: options.tls } : {}),
      perMessageDeflate: deflate,
      ...(options.proxy !== undefined ? { proxy: options.proxy } : {}),
      followRedirects: options.followRedirects === true,
      maxRedirects: nonNegative('maxRedirects', options.maxRedirects, DEFAULTS.maxRedirects),
    },
  };
}

/** Validates the options of `new WebSocketServer(options)` and fills in defaults. */
export function resolveServerOptions(options: WebSocketServerOptions): ResolvedServerOptions {
  checkServerOptionNames(options);
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
  const maxHeaders = nonNegative('maxHeaders', options.maxHeaders, DEFAULTS.maxHeaders);
  return {
    binaryType: resolveBinaryType(options.binaryType, DEFAULTS.serverBinaryType),
    maxPayload: nonNegative('maxPayload', options.maxPayload, DEFAULTS.maxPayload),
    closeTimeout: nonNegative('closeTimeout', options.closeTimeout, DEFAULTS.closeTimeout),
    heartbeat: resolveHeartbeat(options.heartbeat),
    ...resolveLimits(options),
    handshakeTimeout: nonNegative(
      'handshakeTimeout',
      options.handshakeTimeout,
      DEFAULTS.serverHandshakeTimeout,
    ),
    authenticateTimeout: nonNegative(
      'authenticateTimeout',
      options.authenticateTimeout,
      DEFAULTS.authenticateTimeout,
    ),
    perMessageDeflate: resolveDeflate(options.perMessageDeflate, DEFAULTS.serverPerMessageDeflate),
    maxHeaders,
    clientTracking: options.clientTracking ?? DEFAULTS.clientTracking,
    headers: resolveResponseHeaders(options.headers),
  };
}

function resolveResponseHeaders(
  headers: Record<string, string> | undefined,
): Readonly<Record<string, string>> | null {
  if (headers === undefined) return null;
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) {
    throw new TypeError('headers must be an object of header names to values');
  }
  const copy = Object.freeze({ ...headers });
  checkAcceptHeaders(copy);
  return copy;
}

/** The resource limits both sides share. */
function resolveLimits(options: {
  idleTimeout?: number;
  sendQueueLimit?: number;
  sendQueuePolicy?: SendQueuePolicy;
  maxPendingPongs?: number;
}): Pick<
  ConnectionSettings,
  'idleTimeout' | 'sendQueueLimit' | 'sendQueuePolicy' | 'maxPendingControl'
> {
  const policy = options.sendQueuePolicy ?? DEFAULTS.sendQueuePolicy;
  if (policy !== 'close' && policy !== 'refuse') {
    throw new TypeError(`sendQueuePolicy must be "close" or "refuse" (got ${String(policy)})`);
  }
  return {
    idleTimeout: nonNegative('idleTimeout', options.idleTimeout, DEFAULTS.idleTimeout),
    sendQueueLimit: nonNegative('sendQueueLimit', options.sendQueueLimit, DEFAULTS.sendQueueLimit),
    sendQueuePolicy: policy,
    maxPendingControl: positiveInteger(
      'maxPendingPongs',
      options.maxPendingPongs,
      DEFAULTS.maxPendingPongs,
    ),
  };
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new TypeError(`${name} must be a whole number >= 1 (got ${String(value)})`);
  }
  return value;
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value >= 0)) {
    throw new TypeError(`${name} must be a number >= 0 (got ${String(value)})`);
  }
  return value;
}

function resolveBinaryType(value: BinaryType | undefined, fallback: BinaryType): BinaryType {
  if (value === undefined) return fallback;
  if (value !== 'blob' && value !== 'arraybuffer' && value !== 'nodebuffer') {
    throw new TypeError(
      `binaryType must be "blob", "arraybuffer" or "nodebuffer" (got ${String(value)})`,
    );
  }
  return value;
}

function resolveDeflate(
  option: boolean | PerMessageDeflateOptions | undefined,
  fallback: boolean,
): PerMessageDeflateOptions | null {
  const value = option ?? fallback;
  if (value === false) return null;
  if (value === true) return {};
  checkDeflateOptions(value);
  return value;
}

function resolveHeartbeat(option: HeartbeatOptions | undefined): ResolvedHeartbeat | null {
  if (!option) return null;
  if (!(option.interval > 0) || (option.timeout !== undefined && !(option.timeout > 0))) {
    throw new TypeError('heartbeat: interval and timeout must be positive numbers of milliseconds');
  }
  return { interval: option.interval, timeout: option.timeout ?? option.interval };
}

function resolveReconnect(
  option: boolean | ReconnectOptions | undefined,
): ResolvedReconnect | null {
  const portable = resolvePortableReconnect(option);
  if (portable === null) return null;
  const minUptime =
    (typeof option === 'object' ? option.minUptime : undefined) ?? DEFAULTS.reconnect.minUptime;
  if (!(minUptime >= 0)) throw new TypeError('reconnect: minUptime must be a number >= 0');
  return { ...portable, minUptime };
}
