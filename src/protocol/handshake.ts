import { HandshakeError } from '../errors.js';
import { isToken, isValidHeaderValue, listHasToken, splitList } from './http-tokens.js';
import type { Platform } from './platform.js';

/** The GUID of RFC 6455 section 1.3, appended to the key before hashing. */
export const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** A fresh `Sec-WebSocket-Key`: 16 random bytes in base64 (RFC 6455 section 4.1). */
export function generateKey(platform: Platform): string {
  const bytes = new Uint8Array(16);
  platform.randomFill(bytes);
  return toBase64(bytes);
}

/** The `Sec-WebSocket-Accept` value that answers `key` (RFC 6455 section 4.2.2). */
export function computeAccept(key: string, platform: Platform): string {
  return platform.sha1Base64(key + WEBSOCKET_GUID);
}

const BASE64_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Whether `key` is base64 that decodes to exactly 16 bytes (RFC 6455 section 4.2.1 item 5). */
export function isValidKey(key: string): boolean {
  if (key.length !== 24 || key[22] !== '=' || key[23] !== '=') return false;
  for (let i = 0; i < 22; i++) if (BASE64_CHARS.indexOf(key[i]!) < 0) return false;
  // The last sextet carries 2 bits of the 16th byte; the 4 bits after them must be zero.
  return (BASE64_CHARS.indexOf(key[21]!) & 0x0f) === 0;
}

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

/** What goes into a client's opening handshake request. */
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

function checkHeader(name: string, value: string): void {
  if (!isToken(name)) throw new TypeError(`invalid header name ${JSON.stringify(name)}`);
  if (typeof value !== 'string' || !isValidHeaderValue(value)) {
    throw new TypeError(`invalid value for header "${name}": CR, LF and NUL are not allowed`);
  }
}

/** What a client expects of the server's handshake answer. */
export interface ExpectedResponse {
  /** The key the request carried. */
  key: string;
  /** Subprotocols the request offered. */
  protocols: readonly string[];
  /**
   * Checks the server's `Sec-WebSocket-Extensions` answer against what was offered and returns
   * the agreed value; throws a HandshakeError to refuse. Without it, any extension is refused.
   */
  acceptExtensions?: (header: string) => string;
}

/** Validates the server's handshake response (RFC 6455 section 4.1, client requirements 1-6). */
export function validateServerResponse(
  response: { status: number; headers: Readonly<Record<string, string>> },
  expected: ExpectedResponse,
  platform: Platform,
): { protocol: string; extensions: string } {
  const { status, headers } = response;
  if (status !== 101) {
    throw new HandshakeError(`the server refused the WebSocket upgrade with HTTP ${status}`, {
      status,
      headers: { ...headers },
    });
  }
  const fail = (message: string) =>
    new HandshakeError(message, { status, headers: { ...headers } });
  if (!listHasToken(headers.upgrade, 'websocket'))
    throw fail('the server answered 101 without "Upgrade: websocket"');
  if (!listHasToken(headers.connection, 'upgrade'))
    throw fail('the server answered 101 without "Connection: Upgrade"');
  if (headers['sec-websocket-accept'] !== computeAccept(expected.key, platform)) {
    throw fail('the server sent a wrong Sec-WebSocket-Accept');
  }
  let protocol = '';
  const protocolHeader = headers['sec-websocket-protocol'];
  if (protocolHeader !== undefined) {
    // RFC 6455 section 4.1 item 6: the server may only pick one of the offered subprotocols.
    if (!expected.protocols.includes(protocolHeader)) {
      throw fail(
        expected.protocols.length === 0
          ? `the server selected subprotocol "${protocolHeader}" but none was requested`
          : `the server selected subprotocol "${protocolHeader}", which was not offered`,
      );
    }
    protocol = protocolHeader;
  }
  let extensions = '';
  const extensionHeader = headers['sec-websocket-extensions'];
  if (extensionHeader !== undefined) {
    // RFC 6455 section 4.1 item 5: an extension the client did not offer fails the connection.
    if (!expected.acceptExtensions) {
      throw fail(`the server accepted extension "${extensionHeader}", which was not offered`);
    }
    extensions = expected.acceptExtensions(extensionHeader);
  }
  return { protocol, extensions };
}

/** The parts of an HTTP request the server-side handshake looks at. */
export interface UpgradeRequest {
  method: string;
  httpVersion: string;
  /** Lower-cased header names, as Node's `IncomingMessage.headers`. */
  headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** The result of checking an upgrade request: accepted, or refused with a status and reason. */
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
    for (const p of splitList(protocolHeader)) {
      if (!isToken(p) || protocols.includes(p)) {
        return { ok: false, status: 400, message: 'invalid Sec-WebSocket-Protocol header' };
      }
      protocols.push(p);
    }
  }
  return { ok: true, key, protocols, extensions: single(h['sec-websocket-extensions']) };
}

/** What goes into a server's `101 Switching Protocols` answer. */
export interface AcceptResponseOptions {
  protocol?: string;
  extensions?: string;
  headers?: Readonly<Record<string, string>>;
}

/** Builds the server's 101 answer (RFC 6455 section 4.2.2). */
export function buildAcceptResponse(
  key: string,
  platform: Platform,
  options: AcceptResponseOptions = {},
): string {
  const lines = [
    'HTTP/1.1 101 Switching Protocols',
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Accept: ${computeAccept(key, platform)}`,
  ];
  if (options.protocol) lines.push(`Sec-WebSocket-Protocol: ${options.protocol}`);
  if (options.extensions) lines.push(`Sec-WebSocket-Extensions: ${options.extensions}`);
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    checkHeader(name, value);
    lines.push(`${name}: ${value}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  426: 'Upgrade Required',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Builds a refusal: an HTTP error response that closes the connection. */
export function buildRejectResponse(
  status: number,
  body: string,
  headers: Readonly<Record<string, string>> = {},
): string {
  const text = STATUS_TEXT[status] ?? 'Error';
  const bodyBytes = new TextEncoder().encode(body).length;
  const lines = [
    `HTTP/1.1 ${status} ${text}`,
    'Connection: close',
    'Content-Type: text/plain; charset=utf-8',
  ];
  lines.push(`Content-Length: ${bodyBytes}`);
  for (const [name, value] of Object.entries(headers)) {
    checkHeader(name, value);
    lines.push(`${name}: ${value}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}
