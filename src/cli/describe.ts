/**
 * One-line explanations of what went wrong, with what to try, built from the stable `code` of
 * wskit's errors (and the `status` of a refused handshake).
 */
import { STATUS_CODES } from 'node:http';
import { HandshakeError, WebSocketError } from '../index.js';
import { UsageError } from './args.js';

/** Where a client connects, for error messages: `host:port` and whether it used TLS. */
interface Endpoint {
  hostPort: string;
  hostname: string;
  secure: boolean;
}

function endpointOf(url: string): Endpoint {
  try {
    const u = new URL(url);
    const secure = u.protocol === 'wss:' || u.protocol === 'https:';
    const port = u.port || (secure ? '443' : '80');
    return { hostPort: `${u.hostname}:${port}`, hostname: u.hostname, secure };
  } catch {
    return { hostPort: url, hostname: url, secure: false };
  }
}

/** The `code` of the error's cause (a Node or OpenSSL code such as `DEPTH_ZERO_SELF_SIGNED_CERT`). */
function causeCode(error: WebSocketError): string | undefined {
  const cause: unknown = error.cause;
  if (typeof cause === 'object' && cause !== null && 'code' in cause) {
    const { code } = cause as { code: unknown };
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/** What the command line asked for that changes the advice. */
export interface DescribeContext {
  /** -L was given: a redirect answer means the redirect itself could not be followed. */
  followRedirects?: boolean;
}

function statusHint(status: number, error: HandshakeError, context: DescribeContext): string {
  if (status === 401 || status === 403)
    return 'the server wants credentials or another origin: try -H "Authorization: ..." or --origin';
  if (status === 404) return 'check the path of the URL';
  if (status >= 300 && status < 400) {
    // With -L the error's message says why the redirect was not followed.
    if (context.followRedirects) {
      const why = error.message
        .replace(/^\S+: /, '')
        .replace('(maxRedirects)', '(--max-redirects)');
      return `not followed: ${why}`;
    }
    const location = error.headers?.location;
    return location
      ? `it redirects to ${location}: connect there, or follow it with -L`
      : 'it answered with a redirect';
  }
  if (status === 400 || status === 426) return 'is this a WebSocket endpoint? check the URL';
  if (status === 407) return 'the proxy wants credentials: put them in the --proxy URL';
  if (status >= 500) return 'the server failed; try again later or check its logs';
  return 'check the URL and the request headers';
}

/**
 * Explains why connecting to `url` failed (or why an open connection broke), in one line
 * without the `wskit:` prefix, from the error's `code`.
 */
export function describeError(error: unknown, url: string, context: DescribeContext = {}): string {
  if (error instanceof UsageError) return error.message;
  if (!(error instanceof WebSocketError)) {
    return error instanceof Error ? error.message : String(error);
  }
  const at = endpointOf(url);
  const code = error.code;
  switch (code) {
    case 'ERR_WS_CONNECTION_REFUSED':
      return `cannot connect to ${at.hostPort}: connection refused (${code}); is a server listening on that host and port?`;
    case 'ERR_WS_HOST_NOT_FOUND':
      return `cannot resolve the host "${at.hostname}" (${code}); check the URL, or set --proxy if you need a proxy`;
    case 'ERR_WS_HANDSHAKE_TIMEOUT':
      return `${at.hostPort} did not answer the handshake in time (${code}); is it a WebSocket server? (--timeout waits longer)`;
    case 'ERR_WS_TIMEOUT':
      return `the connection to ${at.hostPort} timed out (${code}): ${error.message}`;
    case 'ERR_WS_NETWORK':
      return `cannot reach ${at.hostPort}: ${error.message} (${code}); check the network or use --proxy`;
    case 'ERR_WS_TLS_CERTIFICATE': {
      const reason = causeCode(error);
      return `the server's TLS certificate was refused${reason ? ` (${reason})` : ''} (${code}); pass its CA certificate with --ca <file>, or --insecure to skip verification (testing only)`;
    }
    case 'ERR_WS_TLS':
    case 'ERR_WS_TLS_INTERNAL':
      return `the TLS handshake with ${at.hostPort} failed (${causeCode(error) ?? code}); ${at.secure ? 'if the server does not use TLS, use ws:// instead of wss://' : 'check the server'}`;
    case 'ERR_WS_CONNECTION_RESET':
    case 'ERR_WS_CONNECTION_CLOSED':
      return `${error.message} (${code})${at.secure ? '' : '; if the server uses TLS, use wss://'}`;
    case 'ERR_WS_PROXY':
    case 'ERR_WS_PROXY_AUTH':
    case 'ERR_WS_PROXY_REFUSED':
    case 'ERR_WS_PROXY_CLOSED':
    case 'ERR_WS_PROXY_TIMEOUT':
    case 'ERR_WS_PROXY_NOT_FOUND':
      return `proxy: ${error.message} (${code}); check --proxy (or HTTPS_PROXY / HTTP_PROXY / NO_PROXY)`;
    case 'ERR_WS_HANDSHAKE': {
      const status = error instanceof HandshakeError ? error.status : undefined;
      if (status !== undefined && status !== 101 && error instanceof HandshakeError) {
        const text = STATUS_CODES[status] ?? '';
        const body = error.body?.trim().split('\n')[0]?.slice(0, 200);
        return `server refused the upgrade: HTTP ${status}${text ? ` ${text}` : ''}${body ? ` (${body})` : ''}; ${statusHint(status, error, context)}`;
      }
      return `the handshake with ${at.hostPort} failed (${code}): ${error.message}`;
    }
    case 'ERR_WS_PROTOCOL':
    case 'ERR_WS_INVALID_UTF8':
    case 'ERR_WS_MESSAGE_TOO_BIG':
      return `the connection was failed: ${error.message} (${code})`;
    default:
      return `${error.message} (${code})`;
  }
}
