import type {
  Agent,
  ClientRequest,
  Server as HttpServer,
  IncomingMessage,
  OutgoingHttpHeaders,
} from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { SecureContextOptions } from 'node:tls';
import type { PerMessageDeflateOptions as CoreDeflateOptions } from '../node/deflate/zlib-compressor.js';
import type { WebSocket } from './websocket.js';

/** `perMessageDeflate` settings with `ws`'s names. */
export interface PerMessageDeflateOptions {
  serverNoContextTakeover?: boolean | undefined;
  clientNoContextTakeover?: boolean | undefined;
  /** Window bits (9-15) of the server's compressor. */
  serverMaxWindowBits?: number | undefined;
  /** Window bits (9-15) of the client's compressor. */
  clientMaxWindowBits?: number | undefined;
  /** Of zlib's options only `level` and `memLevel` apply to permessage-deflate here. */
  zlibDeflateOptions?: { level?: number | undefined; memLevel?: number | undefined } | undefined;
  /** zlib inflate options: none are taken (the window is set by the negotiation). */
  zlibInflateOptions?: Record<string, never> | undefined;
  /** Messages shorter than this many bytes are sent uncompressed (default 1024). */
  threshold?: number | undefined;
  /** Most zlib jobs at once in this process (default 10). */
  concurrencyLimit?: number | undefined;
}

/** Called with the request before it is sent, instead of `request.end()`. */
export type FinishRequestCallback = (request: ClientRequest, websocket: WebSocket) => void;

/** Options of `new WebSocket(address, protocols?, options?)`, as `ws` names them. */
export interface ClientOptions extends SecureContextOptions {
  protocol?: string | undefined;
  followRedirects?: boolean | undefined;
  handshakeTimeout?: number | undefined;
  maxRedirects?: number | undefined;
  perMessageDeflate?: boolean | PerMessageDeflateOptions | undefined;
  localAddress?: string | undefined;
  protocolVersion?: number | undefined;
  headers?: { [key: string]: string } | OutgoingHttpHeaders | undefined;
  origin?: string | undefined;
  agent?: Agent | undefined;
  host?: string | undefined;
  family?: number | undefined;
  /** TLS: checks the server's certificate against the host name (Node's `tls.connect` option). */
  checkServerIdentity?: ((servername: string, cert: unknown) => Error | undefined) | undefined;
  rejectUnauthorized?: boolean | undefined;
  servername?: string | undefined;
  /** Only `true` (the default): events are emitted as soon as a frame is parsed. */
  allowSynchronousEvents?: boolean | undefined;
  autoPong?: boolean | undefined;
  closeTimeout?: number | undefined;
  maxPayload?: number | undefined;
  skipUTF8Validation?: boolean | undefined;
  /** Opens the connection instead of `net`/`tls.connect` (for example over a custom transport). */
  createConnection?: ((options: object, callback?: () => void) => Socket) | undefined;
  finishRequest?: FinishRequestCallback | undefined;
}

/** What `verifyClient` is given. */
export interface VerifyClientInfo<Request extends IncomingMessage = IncomingMessage> {
  origin: string;
  secure: boolean;
  req: Request;
}
/** Synchronous `verifyClient`: return false to refuse with 401. */
export type VerifyClientCallbackSync<Request extends IncomingMessage = IncomingMessage> = (
  info: VerifyClientInfo<Request>,
) => boolean;
/** Asynchronous `verifyClient`: call back with false (and a status, message, headers) to refuse. */
export type VerifyClientCallbackAsync<Request extends IncomingMessage = IncomingMessage> = (
  info: VerifyClientInfo<Request>,
  callback: (res: boolean, code?: number, message?: string, headers?: OutgoingHttpHeaders) => void,
) => void;

/** Options of `new WebSocketServer(options, callback?)`, as `ws` names them. */
export interface ServerOptions<
  T extends typeof WebSocket = typeof WebSocket,
  V extends typeof IncomingMessage = typeof IncomingMessage,
> {
  host?: string | undefined;
  port?: number | undefined;
  backlog?: number | undefined;
  server?: HttpServer<V> | HttpsServer<V> | undefined;
  verifyClient?:
    | VerifyClientCallbackAsync<InstanceType<V>>
    | VerifyClientCallbackSync<InstanceType<V>>
    | undefined;
  /** Picks the subprotocol from those the client offered, or false for none. */
  handleProtocols?: (protocols: Set<string>, request: InstanceType<V>) => string | false;
  path?: string | undefined;
  noServer?: boolean | undefined;
  allowSynchronousEvents?: boolean | undefined;
  autoPong?: boolean | undefined;
  clientTracking?: boolean | undefined;
  closeTimeout?: number | undefined;
  perMessageDeflate?: boolean | PerMessageDeflateOptions | undefined;
  maxPayload?: number | undefined;
  skipUTF8Validation?: boolean | undefined;
  WebSocket?: T | undefined;
}

/** Options `ws` takes that wskit/ws cannot honour, with what to do instead. */
const UNSUPPORTED: Readonly<Record<string, string>> = {
  generateMask:
    'wskit masks every client frame with keys from its own random pool (RFC 6455 section 5.3); remove the option',
  maxBufferedChunks:
    'wskit bounds incoming data with maxPayload; remove the option or set maxPayload',
  maxFragments: 'wskit bounds incoming data with maxPayload; remove the option or set maxPayload',
};

/** Options of ws's own. */
const WS_CLIENT = [
  'allowSynchronousEvents',
  'autoPong',
  'closeTimeout',
  'finishRequest',
  'followRedirects',
  'handshakeTimeout',
  'maxPayload',
  'maxRedirects',
  'origin',
  'perMessageDeflate',
  'protocolVersion',
  'skipUTF8Validation',
];
/** Options of `http.request()` and `net.connect()`, which ws passes on. */
const HTTP_REQUEST = [
  'agent',
  'auth',
  'createConnection',
  'defaultPort',
  'family',
  'headers',
  'hints',
  'host',
  'hostname',
  'insecureHTTPParser',
  'joinDuplicateHeaders',
  'localAddress',
  'localPort',
  'lookup',
  'maxHeaderSize',
  'method',
  'path',
  'port',
  'protocol',
  'setDefaultHeaders',
  'setHost',
  'signal',
  'socketPath',
  'timeout',
  'uniqueHeaders',
  'keepAlive',
  'keepAliveInitialDelay',
  'noDelay',
  'autoSelectFamily',
  'autoSelectFamilyAttemptTimeout',
];
/** Options of `tls.connect()` and secure contexts, which ws passes on for `wss:`. */
const TLS_CONNECT = [
  'ALPNProtocols',
  'ca',
  'cert',
  'checkServerIdentity',
  'ciphers',
  'clientCertEngine',
  'crl',
  'dhparam',
  'ecdhCurve',
  'enableTrace',
  'honorCipherOrder',
  'key',
  'maxVersion',
  'minDHSize',
  'minVersion',
  'passphrase',
  'pfx',
  'privateKeyEngine',
  'privateKeyIdentifier',
  'pskCallback',
  'rejectUnauthorized',
  'requestOCSP',
  'secureContext',
  'secureOptions',
  'secureProtocol',
  'servername',
  'session',
  'sessionIdContext',
  'sigalgs',
  'ticketKeys',
  'highWaterMark',
];
const CLIENT_OPTIONS = new Set([...WS_CLIENT, ...HTTP_REQUEST, ...TLS_CONNECT]);

const SERVER_OPTIONS = new Set([
  'allowSynchronousEvents',
  'autoPong',
  'backlog',
  'clientTracking',
  'closeTimeout',
  'handleProtocols',
  'host',
  'maxPayload',
  'noServer',
  'path',
  'perMessageDeflate',
  'port',
  'server',
  'skipUTF8Validation',
  'verifyClient',
  'WebSocket',
]);

/** Options that belong to the other side, to say so instead of "unknown". */
const CLIENT_ONLY = new Set(
  [...WS_CLIENT, 'headers', 'agent', 'origin'].filter((n) => !SERVER_OPTIONS.has(n)),
);
const SERVER_ONLY = new Set([...SERVER_OPTIONS].filter((n) => !CLIENT_OPTIONS.has(n)));

const DEFLATE_OPTIONS = new Set([
  'serverNoContextTakeover',
  'clientNoContextTakeover',
  'serverMaxWindowBits',
  'clientMaxWindowBits',
  'zlibDeflateOptions',
  'zlibInflateOptions',
  'threshold',
  'concurrencyLimit',
]);

function rejectOption(where: string, name: string, misplaced: string | null): never {
  const why = UNSUPPORTED[name];
  if (why !== undefined) throw new TypeError(`${where}: option "${name}" is not supported: ${why}`);
  if (misplaced !== null) throw new TypeError(`${where}: option "${name}" ${misplaced}`);
  throw new TypeError(
    `${where}: unknown option "${name}"; see the README section "Coming from ws" for the options wskit/ws takes`,
  );
}

function checkSynchronousEvents(where: string, value: unknown): void {
  if (value !== undefined && value !== true) {
    throw new TypeError(
      `${where}: option "allowSynchronousEvents" can only be true: wskit/ws emits each event as soon as its frame is parsed`,
    );
  }
}

/** Throws a TypeError naming the first option of a client that wskit/ws does not honour. */
export function checkClientOptions(options: object): void {
  const where = 'new WebSocket()';
  for (const name of Object.keys(options)) {
    if (CLIENT_OPTIONS.has(name)) continue;
    rejectOption(where, name, SERVER_ONLY.has(name) ? 'is a WebSocketServer option' : null);
  }
  checkSynchronousEvents(
    where,
    (options as { allowSynchronousEvents?: unknown }).allowSynchronousEvents,
  );
}

/** Throws a TypeError naming the first option of a server that wskit/ws does not honour. */
export function checkServerOptions(options: object): void {
  const where = 'new WebSocketServer()';
  for (const name of Object.keys(options)) {
    if (SERVER_OPTIONS.has(name)) continue;
    rejectOption(
      where,
      name,
      CLIENT_ONLY.has(name) ? 'is a client (new WebSocket()) option' : null,
    );
  }
  checkSynchronousEvents(
    where,
    (options as { allowSynchronousEvents?: unknown }).allowSynchronousEvents,
  );
}

/**
 * Maps `ws`'s `perMessageDeflate` settings to wskit's, throwing a TypeError for a setting that
 * would otherwise be ignored. `null` when compression is off.
 */
export function deflateOptionsOf(
  value: boolean | PerMessageDeflateOptions | undefined | null,
): CoreDeflateOptions | null {
  if (value === undefined || value === null || value === false) return null;
  if (value === true) return {};
  if (typeof value !== 'object') {
    throw new TypeError('perMessageDeflate must be a boolean or an object of settings');
  }
  for (const name of Object.keys(value)) {
    if (!DEFLATE_OPTIONS.has(name)) {
      throw new TypeError(`perMessageDeflate: unknown option "${name}"`);
    }
  }
  const out: CoreDeflateOptions = {};
  if (value.serverNoContextTakeover) out.serverNoContextTakeover = true;
  if (value.clientNoContextTakeover) out.clientNoContextTakeover = true;
  if (typeof value.serverMaxWindowBits === 'number')
    out.serverMaxWindowBits = value.serverMaxWindowBits;
  const clientBits = value.clientMaxWindowBits as number | boolean | undefined;
  if (typeof clientBits === 'number') out.clientMaxWindowBits = clientBits;
  if (value.threshold !== undefined) out.threshold = value.threshold;
  if (value.concurrencyLimit !== undefined) out.concurrencyLimit = value.concurrencyLimit;
  const zlib = value.zlibDeflateOptions ?? {};
  for (const name of Object.keys(zlib)) {
    if (name !== 'level' && name !== 'memLevel') {
      throw new TypeError(
        `perMessageDeflate.zlibDeflateOptions: option "${name}" is not supported; only level and memLevel are (the window comes from the negotiation)`,
      );
    }
  }
  if (zlib.level !== undefined) out.level = zlib.level;
  if (zlib.memLevel !== undefined) out.memLevel = zlib.memLevel;
  const inflate = value.zlibInflateOptions ?? {};
  for (const name of Object.keys(inflate)) {
    throw new TypeError(
      `perMessageDeflate.zlibInflateOptions: option "${name}" is not supported; inflation is bounded by maxPayload`,
    );
  }
  return out;
}
