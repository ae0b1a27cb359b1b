/** The server's answer to the opening handshake: built by the server, checked by the client. */
import { HandshakeError } from '../../errors.js';
import { listHasToken } from '../http-tokens.js';
import type { Platform } from '../platform.js';
import { computeAccept } from './keys.js';
import { checkHeader } from './request.js';

/** What the client asked for, against which the server's answer is checked (RFC 6455 section 4.1). */
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

/** What a server's 101 answer carries besides the accept key: subprotocol and extensions. */
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
  if (options.headers) checkAcceptHeaders(options.headers);
  for (const [name, value] of Object.entries(options.headers ?? {}))
    lines.push(`${name}: ${value}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** Header names the 101 answer carries itself; extra response headers may not replace them. */
const RESERVED_RESPONSE_HEADERS = new Set([
  'upgrade',
  'connection',
  'sec-websocket-accept',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
  'content-length',
  'transfer-encoding',
]);

/**
 * Throws a TypeError unless every one of `headers` may go into a 101 answer: a token name, a
 * valid value, and none of the headers the handshake writes itself (RFC 6455 section 4.2.2) or
 * that would give the 101 a body (RFC 9110 section 15.2: a 1xx answer has none).
 */
export function checkAcceptHeaders(headers: Readonly<Record<string, string>>): void {
  for (const [name, value] of Object.entries(headers)) {
    checkHeader(name, value);
    if (RESERVED_RESPONSE_HEADERS.has(name.toLowerCase())) {
      throw new TypeError(
        `header "${name}" is set by the WebSocket handshake and cannot be overridden`,
      );
    }
  }
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
