/** The client's opening handshake request: built by the client, checked by the server. */
import { isToken, isValidHeaderValue, listHasToken, splitList } from '../http-tokens.js';
import { isValidKey } from './keys.js';

/** Header names the library writes itself; a caller's `headers` may not replace them. */
const RESERVED_REQUEST_HEADERS = new Set([
  'host',
  'upgrade',
  'connection',
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
]);

export interface ClientRequestOptions {
  /** `host[:port]` for the `Host` header. */
  host: string;
  /** Path and query of the request target. */
  path: string;
  key: string;
  protocols?: readonly string[];
  /** The `Sec-WebSocket-Extensions` offer, if any. */
  extensions?: string;
  origin?: string;
  headers?: Readonly<Record<string, string>>;
}

/** Builds the opening handshake request (RFC 6455 section 4.1). */
export function buildClientRequest(options: ClientRequestOptions): string {
  const lines = [
    `GET ${options.path} HTTP/1.1`,
    `Host: ${options.host}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${options.key}`,
    'Sec-WebSocket-Version: 13',
  ];
  if (options.protocols && options.protocols.length > 0) {
    lines.push(`Sec-WebSocket-Protocol: ${options.protocols.join(', ')}`);
  }
  if (options.extensions) lines.push(`Sec-WebSocket-Extensions: ${options.extensions}`);
  if (options.origin !== undefined) {
    checkHeader('Origin', options.origin);
    lines.push(`Origin: ${options.origin}`);
  }
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    checkHeader(name, value);
    if (RESERVED_REQUEST_HEADERS.has(name.toLowerCase())) {
      throw new TypeError(
        `header "${name}" is set by the WebSocket handshake and cannot be overridden`,
      );
    }
    lines.push(`${name}: ${value}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** Throws a TypeError unless `name` is a token and `value` a valid header value. */
export function checkHeader(name: string, value: string): void {
  if (!isToken(name)) throw new TypeError(`invalid header name ${JSON.stringify(name)}`);
  if (typeof value !== 'string' || !isValidHeaderValue(value)) {
    throw new TypeError(`invalid value for header "${name}": CR, LF and NUL are not allowed`);
  }
}

/** The parts of an HTTP request the server-side handshake looks at. */
export interface UpgradeRequest {
  method: string;
  httpVersion: string;
  /** Lower-cased header names, as Node's `IncomingMessage.headers`. */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** How many header lines the request had, when known (checked against a server's limit). */
  headerCount?: number;
}

export type UpgradeCheck =
  | { ok: true; key: string; protocols: string[]; extensions: string | undefined }
  | { ok: false; status: number; message: string; headers?: Record<string, string> };

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

/** Validates a client's opening handshake on the server (RFC 6455 section 4.2.1). */
export function checkUpgradeRequest(request: UpgradeRequest): UpgradeCheck {
  const h = request.headers;
  if (request.method !== 'GET') {
    return {
      ok: false,
      status: 405,
      message: 'WebSocket upgrades must use GET',
      headers: { Allow: 'GET' },
    };
  }
  const [major, minor] = request.httpVersion.split('.').map(Number);
  if (!(major! > 1 || (major === 1 && minor! >= 1))) {
    return { ok: false, status: 400, message: 'WebSocket upgrades need HTTP/1.1 or later' };
  }
  if (!single(h.host)) return { ok: false, status: 400, message: 'missing Host header' };
  if (!listHasToken(single(h.upgrade), 'websocket')) {
    return {
      ok: false,
      status: 400,
      message: 'missing or invalid Upgrade header: expected "websocket"',
    };
  }
  if (!listHasToken(single(h.connection), 'upgrade')) {
    return {
      ok: false,
      status: 400,
      message: 'missing or invalid Connection header: expected "Upgrade"',
    };
  }
  // RFC 6455 section 4.4: an unsupported version is answered with 426 and the versions we speak.
  if (single(h['sec-websocket-version']) !== '13') {
    return {
      ok: false,
      status: 426,
      message: 'unsupported WebSocket version: only 13 is supported',
      headers: { 'Sec-WebSocket-Version': '13' },
    };
  }
  const key = single(h['sec-websocket-key']);
  if (key === undefined || !isValidKey(key)) {
    return { ok: false, status: 400, message: 'missing or invalid Sec-WebSocket-Key' };
  }
  const protocols: string[] = [];
  const protocolHeader = single(h['sec-websocket-protocol']);
  if (protocolHeader !== undefined) {
    // A set, not a scan of the list so far: the duplicate check stays linear in the header.
    const seen = new Set<string>();
    for (const p of splitList(protocolHeader)) {
      if (!isToken(p) || seen.has(p)) {
        return { ok: false, status: 400, message: 'invalid Sec-WebSocket-Protocol header' };
      }
      seen.add(p);
      protocols.push(p);
    }
  }
  return { ok: true, key, protocols, extensions: single(h['sec-websocket-extensions']) };
}
