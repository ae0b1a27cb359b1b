import type { ClientTlsOptions } from './client-handshake.js';
import type { PerMessageDeflateOptions } from './deflate/zlib-compressor.js';
import type {
  HeartbeatOptions,
  ReconnectOptions,
  WebSocketOptions,
  WebSocketServerOptions,
} from './options.js';

// Every name an options bag may carry. Typed as records so that an option added to an interface
// and forgotten here fails to compile instead of being refused at run time.
const CLIENT: Record<keyof WebSocketOptions, true> = {
  headers: true,
  origin: true,
  tls: true,
  handshakeTimeout: true,
  closeTimeout: true,
  maxPayload: true,
  binaryType: true,
  perMessageDeflate: true,
  proxy: true,
  followRedirects: true,
  maxRedirects: true,
  reconnect: true,
  heartbeat: true,
  idleTimeout: true,
  sendQueueLimit: true,
  sendQueuePolicy: true,
  maxPendingPongs: true,
  anyValidCloseCode: true,
};
const SERVER: Record<keyof WebSocketServerOptions, true> = {
  port: true,
  host: true,
  backlog: true,
  tls: true,
  server: true,
  noServer: true,
  path: true,
  headers: true,
  authenticate: true,
  handleProtocols: true,
  maxPayload: true,
  binaryType: true,
  clientTracking: true,
  closeTimeout: true,
  maxHeaders: true,
  perMessageDeflate: true,
  heartbeat: true,
  handshakeTimeout: true,
  authenticateTimeout: true,
  broker: true,
  idleTimeout: true,
  sendQueueLimit: true,
  sendQueuePolicy: true,
  maxPendingPongs: true,
};
const RECONNECT: Record<keyof ReconnectOptions, true> = {
  minDelay: true,
  maxDelay: true,
  factor: true,
  jitter: true,
  maxRetries: true,
  queueLimit: true,
  stopCodes: true,
  minUptime: true,
};
const HEARTBEAT: Record<keyof HeartbeatOptions, true> = { interval: true, timeout: true };
const CLIENT_TLS: Record<keyof ClientTlsOptions, true> = {
  ca: true,
  cert: true,
  key: true,
  passphrase: true,
  servername: true,
  rejectUnauthorized: true,
};
const DEFLATE: Record<keyof PerMessageDeflateOptions, true> = {
  serverNoContextTakeover: true,
  clientNoContextTakeover: true,
  serverMaxWindowBits: true,
  clientMaxWindowBits: true,
  threshold: true,
  level: true,
  memLevel: true,
  concurrencyLimit: true,
};

/** TLS settings `ws` takes at the top level of a server's options (Node's https options). */
const SERVER_TLS_NAMES = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'ciphers', 'requestCert'];
const ALWAYS_UTF8 =
  'wskit always validates text as UTF-8, as RFC 6455 section 8.1 requires; there is no switch';
const ALWAYS_PONG =
  'wskit always answers a ping with a pong (RFC 6455 section 5.5.2); listen to "ping" events to see them';

/** What `ws` users pass to a client, and what wskit has instead. */
const CLIENT_HINTS: Readonly<Record<string, string>> = {
  skipUTF8Validation: ALWAYS_UTF8,
  autoPong: ALWAYS_PONG,
  agent: 'wskit opens its own connections; for an HTTP(S) proxy use the proxy option',
  createConnection: 'wskit opens its own connections (TCP, TLS or ws+unix: URLs) and has no hook',
  finishRequest: 'set request headers with the headers option',
  generateMask: 'wskit draws masking keys from the system CSPRNG and has no hook',
  protocolVersion: 'wskit speaks WebSocket version 13 (RFC 6455) only',
  allowSynchronousEvents: 'wskit dispatches events as they arrive and has no switch',
  timeout: 'use handshakeTimeout (milliseconds to wait for the handshake)',
  auth: 'put credentials in the URL (ws://user:pass@host/) or an Authorization header',
  protocols: 'pass subprotocols as the second argument: new WebSocket(url, protocols, options)',
  protocol: 'pass subprotocols as the second argument: new WebSocket(url, protocols, options)',
  host: 'the host comes from the URL',
  port: 'the port comes from the URL',
  path: 'the path comes from the URL',
  localAddress: 'wskit has no equivalent',
  family: 'wskit has no equivalent',
  lookup: 'wskit has no equivalent',
  maxHeaders: 'wskit has no client equivalent',
  ...Object.fromEntries(
    Object.keys(CLIENT_TLS).map((n) => [
      n,
      `TLS settings go in the tls option: { tls: { ${n}: ... } }`,
    ]),
  ),
};

/** What `ws` users pass to a server, and what wskit has instead. */
const SERVER_HINTS: Readonly<Record<string, string>> = {
  verifyClient:
    'use authenticate(request), which returns (or resolves to) true to accept, false for 401, or { status, body, headers } to refuse',
  skipUTF8Validation: ALWAYS_UTF8,
  autoPong: ALWAYS_PONG,
  allowSynchronousEvents: 'wskit dispatches events as they arrive and has no switch',
  WebSocket: 'accepted sockets are always wskit WebSocket objects; wrap them if you need more',
  ...Object.fromEntries(
    SERVER_TLS_NAMES.map((n) => [
      n,
      `TLS settings of a standalone server go in the tls option: { port, tls: { ${n}: ... } }`,
    ]),
  ),
};

const DEFLATE_HINTS: Readonly<Record<string, string>> = {
  zlibDeflateOptions: 'use level and memLevel',
  zlibInflateOptions: 'wskit has no equivalent; inflated size is bounded by maxPayload',
};

/** A bag of options and the names it may carry: what {@link checkOptionNames} checks. */
type Known = Readonly<Record<string, true>>;

function closest(name: string, known: Known): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of Object.keys(known)) {
    const d = distance(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  return best;
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
    }
    previous = current;
  }
  return previous[b.length]!;
}

function check(
  where: string,
  options: unknown,
  known: Known,
  hints: Readonly<Record<string, string>> = {},
): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`${where} must be an object (got ${describe(options)})`);
  }
  for (const [name, value] of Object.entries(options)) {
    // An absent option written as `name: undefined` changes nothing, so it is not refused.
    if (value === undefined || Object.hasOwn(known, name)) continue;
    const hint = Object.hasOwn(hints, name) ? hints[name] : undefined;
    const suggestion = hint === undefined ? closest(name, known) : undefined;
    throw new TypeError(
      `${where}: unknown option "${name}"` +
        (hint !== undefined
          ? ` (an option of ws): ${hint}`
          : suggestion !== undefined
            ? `; did you mean "${suggestion}"?`
            : `; the options are ${Object.keys(known).join(', ')}`),
    );
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

/**
 * Throws a TypeError for any option of `new WebSocket(url, protocols, options)` wskit does not
 * have (nested ones included), naming it and, for `ws`'s options, what wskit has instead: an
 * option is never accepted and silently ignored.
 */
export function checkClientOptionNames(options: WebSocketOptions): void {
  check('WebSocket options', options, CLIENT, CLIENT_HINTS);
  if (typeof options.reconnect === 'object') check('reconnect', options.reconnect, RECONNECT);
  check('heartbeat', options.heartbeat, HEARTBEAT);
  check('tls', options.tls, CLIENT_TLS);
  if (typeof options.perMessageDeflate === 'object')
    check('perMessageDeflate', options.perMessageDeflate, DEFLATE, DEFLATE_HINTS);
}

/** The same as {@link checkClientOptionNames} for `new WebSocketServer(options)`. */
export function checkServerOptionNames(options: WebSocketServerOptions): void {
  check('WebSocketServer options', options, SERVER, SERVER_HINTS);
  check('heartbeat', options.heartbeat, HEARTBEAT);
  if (typeof options.perMessageDeflate === 'object')
    check('perMessageDeflate', options.perMessageDeflate, DEFLATE, DEFLATE_HINTS);
}
