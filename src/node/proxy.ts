import { Buffer } from 'node:buffer';
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { ConnectionError, type WebSocketErrorCode } from '../errors.js';
import { HttpHeadParser } from '../protocol/http-head-parser.js';
import { isValidHeaderValue } from '../protocol/http-tokens.js';
import type { ConnectTarget } from '../web/url.js';

/** An HTTP proxy to tunnel through with CONNECT. */
export interface ProxyTarget {
  url: URL;
  secure: boolean;
  hostname: string;
  port: number;
  /** `Proxy-Authorization` value from the URL's credentials (Basic). */
  authorization?: string;
}

function env(name: string): string | undefined {
  const value = process.env[name] ?? process.env[name.toLowerCase()];
  return value === undefined || value === '' ? undefined : value;
}

/**
 * Whether `NO_PROXY` exempts the host: a comma- or space-separated list of host names, domain
 * suffixes (`.example.org` or `example.org` also covers subdomains), IP addresses, optional
 * `:port`, or `*` for everything.
 */
export function isProxyExempt(
  hostname: string,
  port: number,
  noProxy: string | undefined,
): boolean {
  if (!noProxy) return false;
  const host = (hostname.startsWith('[') ? hostname.slice(1, -1) : hostname).toLowerCase();
  for (const raw of noProxy.split(/[\s,]+/)) {
    const item = raw.trim().toLowerCase();
    if (item === '') continue;
    if (item === '*') return true;
    let entry = item;
    let entryPort: number | undefined;
    if (entry.startsWith('[')) {
      // [v6-address] or [v6-address]:port
      const close = entry.indexOf(']');
      if (close < 0) continue;
      const after = entry.slice(close + 1);
      if (after.startsWith(':')) entryPort = Number(after.slice(1));
      else if (after !== '') continue;
      entry = entry.slice(1, close);
    } else if (isIP(entry) !== 6) {
      const colon = entry.lastIndexOf(':');
      if (colon > 0) {
        entryPort = Number(entry.slice(colon + 1));
        entry = entry.slice(0, colon);
      }
    }
    if (entryPort !== undefined && entryPort !== port) continue;
    // Addresses match exactly; names also cover their subdomains.
    if (isIP(entry) !== 0 || isIP(host) !== 0) {
      if (host === entry) return true;
      continue;
    }
    if (entry.startsWith('*.')) entry = entry.slice(1);
    const bare = entry.startsWith('.') ? entry.slice(1) : entry;
    if (host === bare || host.endsWith(`.${bare}`)) return true;
  }
  return false;
}

/**
 * The proxy for a connection: the `proxy` option when given (false: none), otherwise
 * `HTTPS_PROXY` for `wss:` and `HTTP_PROXY` for `ws:` (lower-case forms too), unless `NO_PROXY`
 * exempts the host. Unix-socket targets never use a proxy.
 */
export function resolveProxy(
  target: ConnectTarget,
  option: string | false | undefined,
): ProxyTarget | null {
  if (option === false || target.socketPath) return null;
  let raw = option;
  if (raw === undefined) {
    raw = target.secure ? (env('HTTPS_PROXY') ?? env('HTTP_PROXY')) : env('HTTP_PROXY');
    if (raw === undefined || isProxyExempt(target.hostname, target.port, env('NO_PROXY')))
      return null;
  }
  let url: URL;
  try {
    url = new URL(raw.includes('://') ? raw : `http://${raw}`);
  } catch (cause) {
    throw new ConnectionError('ERR_WS_PROXY', `invalid proxy URL "${raw}"`, { cause });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConnectionError(
      'ERR_WS_PROXY',
      `unsupported proxy scheme "${url.protocol}": use http: or https:`,
    );
  }
  const secure = url.protocol === 'https:';
  const proxy: ProxyTarget = {
    url,
    secure,
    hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
    port: url.port === '' ? (secure ? 443 : 80) : Number(url.port),
  };
  if (url.username !== '' || url.password !== '') {
    const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    proxy.authorization = `Basic ${Buffer.from(credentials).toString('base64')}`;
  }
  return proxy;
}

const PROXY_ERRNO: Record<string, [WebSocketErrorCode, string]> = {
  ECONNREFUSED: ['ERR_WS_PROXY_REFUSED', 'the proxy refused the connection'],
  ENOTFOUND: ['ERR_WS_PROXY_NOT_FOUND', 'the proxy host name could not be resolved'],
  EAI_AGAIN: ['ERR_WS_PROXY_NOT_FOUND', 'the proxy host name could not be resolved'],
  ECONNRESET: ['ERR_WS_PROXY_CLOSED', 'the proxy reset the connection'],
  ETIMEDOUT: ['ERR_WS_PROXY_TIMEOUT', 'the connection to the proxy timed out'],
};

/** Interim (1xx) answers accepted before a proxy's final answer to CONNECT; more is an attack. */
const MAX_INTERIM_RESPONSES = 8;

/**
 * Opens a tunnel to `target` through `proxy` with `CONNECT host:port` (RFC 9110 section 9.3.6).
 * Calls `done` once with the tunnel socket, or with a ConnectionError whose code says which
 * proxy failure it was. Returns a function that aborts the attempt.
 */
export function connectThroughProxy(
  proxy: ProxyTarget,
  target: ConnectTarget,
  done: (error: ConnectionError | null, socket?: Socket) => void,
): (error: ConnectionError) => void {
  const label = `proxy ${proxy.hostname}:${proxy.port}`;
  const socket = proxy.secure
    ? tlsConnect({
        host: proxy.hostname,
        port: proxy.port,
        ALPNProtocols: ['http/1.1'],
        servername: proxy.hostname,
      })
    : netConnect({ host: proxy.hostname, port: proxy.port });
  let parser = new HttpHeadParser();
  let interim = 0;
  let settled = false;
  const authority = target.hostname.includes(':')
    ? `[${target.hostname}]:${target.port}`
    : `${target.hostname}:${target.port}`;

  const finish = (error: ConnectionError | null) => {
    if (settled) return;
    settled = true;
    socket.removeListener('data', onData);
    socket.removeListener('error', onError);
    socket.removeListener('close', onClose);
    if (error) {
      socket.on('error', () => {});
      socket.destroy();
      done(error);
    } else {
      done(null, socket);
    }
  };
  const onData = (chunk: Buffer) => {
    let parsed: ReturnType<HttpHeadParser['push']>;
    try {
      parsed = parser.push(chunk);
    } catch (cause) {
      finish(
        new ConnectionError('ERR_WS_PROXY', `${label} sent a response that is not valid HTTP`, {
          cause,
        }),
      );
      return;
    }
    if (!parsed) return;
    const { head, rest } = parsed;
    // RFC 9110 §15.2: a client must accept interim (1xx) answers before the final one. 101 is
    // not interim here: a proxy cannot switch protocols on CONNECT, so it falls to the refusal.
    if (head.status >= 100 && head.status < 200 && head.status !== 101) {
      if (++interim > MAX_INTERIM_RESPONSES) {
        finish(
          new ConnectionError(
            'ERR_WS_PROXY',
            `${label} sent more than ${MAX_INTERIM_RESPONSES} interim (1xx) responses`,
          ),
        );
        return;
      }
      parser = new HttpHeadParser();
      if (rest.length > 0) onData(Buffer.from(rest.buffer, rest.byteOffset, rest.length));
      return;
    }
    if (head.status === 407) {
      finish(
        new ConnectionError(
          'ERR_WS_PROXY_AUTH',
          `${label} requires authentication (HTTP 407)${proxy.authorization ? ': the credentials were refused' : ': put user:password in the proxy URL'}`,
        ),
      );
      return;
    }
    if (head.status < 200 || head.status > 299) {
      finish(
        new ConnectionError(
          'ERR_WS_PROXY',
          `${label} refused to tunnel to ${authority}: HTTP ${head.status} ${head.statusText}`.trimEnd(),
        ),
      );
      return;
    }
    if (rest.length > 0) socket.unshift(Buffer.from(rest.buffer, rest.byteOffset, rest.length));
    finish(null);
  };
  const onError = (error: NodeJS.ErrnoException) => {
    const known = PROXY_ERRNO[error.code ?? ''];
    finish(
      known
        ? new ConnectionError(known[0], `${label}: ${known[1]} (${error.code})`, { cause: error })
        : new ConnectionError('ERR_WS_PROXY', `${label}: ${error.message}`, { cause: error }),
    );
  };
  const onClose = () =>
    finish(
      new ConnectionError(
        'ERR_WS_PROXY_CLOSED',
        `${label} closed the connection before the tunnel was open`,
      ),
    );

  socket.on('data', onData);
  socket.on('error', onError);
  socket.on('close', onClose);
  socket.once(proxy.secure ? 'secureConnect' : 'connect', () => {
    const lines = [`CONNECT ${authority} HTTP/1.1`, `Host: ${authority}`];
    if (proxy.authorization && isValidHeaderValue(proxy.authorization)) {
      lines.push(`Proxy-Authorization: ${proxy.authorization}`);
    }
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  });
  return (error) => finish(error);
}
