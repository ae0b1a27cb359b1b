import type { Server as HttpServer, IncomingMessage } from 'node:http';
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import { CloseCode } from '../protocol/close-codes.js';
import { DEFAULT_MAX_PAYLOAD } from '../protocol/websocket-protocol.js';
import type { BackoffPolicy } from '../web/backoff.js';
import type { ClientHandshakeOptions, ClientTlsOptions } from './client-handshake.js';
import { checkDeflateOptions, type PerMessageDeflateOptions } from './deflate/zlib-compressor.js';

/** How binary messages are delivered: `Blob` (standard default), `ArrayBuffer`, or Node `Buffer`. */
export type BinaryType = 'blob' | 'arraybuffer' | 'nodebuffer';

/** Options of a client `WebSocket` in Node (the third constructor argument). */
export interface WebSocketOptions {
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
  /** Largest incoming message in bytes (default 100 MiB; 0: no limit); larger ones close with 1009. */
  maxPayload?: number;
  /** Initial `binaryType` (default "blob"). */
  binaryType?: BinaryType;
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
   * Let `close()` send any close code valid on the wire (such as 1001 or 1008), as sockets a
   * server accepted may, instead of the WHATWG client's 1000 and 3000-4999 only: for APIs that
   * allow it, such as Qt's (the Overte dialect). Default false.
   */
  anyValidCloseCode?: boolean;
}

/** Automatic reconnection (the `reconnect` option). */
export interface ReconnectOptions {
  /** Delay before the first retry, in ms (default 500). */
  minDelay?: number;
  /** Longest delay between retries, in ms (default 30000). */
  maxDelay?: number;
  /** Growth of the delay per failed attempt (default 2). */
  factor?: number;
  /** Fraction of each delay that is randomised, 0-1 (default 0.5): spreads reconnect storms. */
  jitter?: number;
  /** Retries before giving up (default: unlimited). */
  maxRetries?: number;
  /** Messages `send()` may queue while disconnected (default 1000); beyond, send throws. */
  queueLimit?: number;
  /** Close codes after which no retry is made, in addition to 1008 (policy violation). */
  stopCodes?: readonly number[];
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

/** Options of a {@link WebSocketServer}. */
export interface WebSocketServerOptions {
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
  /** Milliseconds to wait for a client to finish the closing handshake (default 30000; 0: no limit). */
  closeTimeout?: number;
  /** Most request headers accepted in an upgrade request (default 100); more get 431. */
  maxHeaders?: number;
  /** Accept permessage-deflate (RFC 7692): false (default), true, or settings. */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /** Ping every client periodically; clients that miss the pong are dropped (and leave `clients`). */
  heartbeat?: HeartbeatOptions;
}

/** Every default of the client and server options, in one place. */
export const DEFAULTS = Object.freeze({
  handshakeTimeout: 30_000,
  closeTimeout: 30_000,
  maxPayload: DEFAULT_MAX_PAYLOAD,
  clientBinaryType: 'blob' as BinaryType,
  serverBinaryType: 'nodebuffer' as BinaryType,
  /** Clients offer permessage-deflate unless told not to; servers accept it only when told to. */
  clientPerMessageDeflate: true,
  serverPerMessageDeflate: false,
  maxRedirects: 10,
  maxHeaders: 100,
  clientTracking: true,
  reconnect: Object.freeze({
    minDelay: 500,
    maxDelay: 30_000,
    factor: 2,
    jitter: 0.5,
    maxRetries: Number.POSITIVE_INFINITY,
    queueLimit: 1000,
  }),
});

/** A heartbeat with its timeout filled in. */
export interface ResolvedHeartbeat {
  interval: number;
  timeout: number;
}

/** The retry policy of a reconnecting client, every field filled in. */
export interface ResolvedReconnect extends BackoffPolicy {
  maxRetries: number;
  queueLimit: number;
  /** Close codes after which no retry is made (1008 always among them). */
  stopCodes: ReadonlySet<number>;
}

/** What one open connection needs, on either side. */
export interface ConnectionSettings {
  maxPayload: number;
  /** Milliseconds to wait for the closing handshake to finish; 0 for no limit. */
  closeTimeout: number;
  heartbeat: ResolvedHeartbeat | null;
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
}

/** Validates the options of `new WebSocket(url, protocols, options)` and fills in defaults. */
export function resolveClientOptions(
  options: WebSocketOptions,
  protocols: readonly string[],
): ResolvedClientOptions {
  const deflate = resolveDeflate(options.perMessageDeflate, DEFAULTS.clientPerMessageDeflate);
  return {
    binaryType: resolveBinaryType(options.binaryType, DEFAULTS.clientBinaryType),
    maxPayload: nonNegative('maxPayload', options.maxPayload, DEFAULTS.maxPayload),
    closeTimeout: nonNegative('closeTimeout', options.closeTimeout, DEFAULTS.closeTimeout),
    heartbeat: resolveHeartbeat(options.heartbeat),
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
    perMessageDeflate: resolveDeflate(options.perMessageDeflate, DEFAULTS.serverPerMessageDeflate),
    maxHeaders,
    clientTracking: options.clientTracking ?? DEFAULTS.clientTracking,
  };
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
  if (!option) return null;
  const o = option === true ? {} : option;
  const d = DEFAULTS.reconnect;
  const r: ResolvedReconnect = {
    minDelay: o.minDelay ?? d.minDelay,
    maxDelay: o.maxDelay ?? d.maxDelay,
    factor: o.factor ?? d.factor,
    jitter: o.jitter ?? d.jitter,
    maxRetries: o.maxRetries ?? d.maxRetries,
    queueLimit: o.queueLimit ?? d.queueLimit,
    stopCodes: new Set([CloseCode.PolicyViolation, ...(o.stopCodes ?? [])]),
  };
  if (
    !(r.minDelay >= 0) ||
    !(r.maxDelay >= r.minDelay) ||
    !(r.factor >= 1) ||
    !(r.jitter >= 0 && r.jitter <= 1)
  ) {
    throw new TypeError(
      'reconnect: need 0 <= minDelay <= maxDelay, factor >= 1 and 0 <= jitter <= 1',
    );
  }
  if (!(r.maxRetries >= 0) || !(r.queueLimit >= 0)) {
    throw new TypeError('reconnect: maxRetries and queueLimit must be numbers >= 0');
  }
  return r;
}
