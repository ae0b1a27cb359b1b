/** Where a client connects, derived from its URL. */
export interface ConnectTarget {
  /** The URL as the `url` attribute reports it (`http:` mapped to `ws:`, `https:` to `wss:`). */
  href: string;
  secure: boolean;
  /** Host name or address without IPv6 brackets. */
  hostname: string;
  port: number;
  /** `Host` header value. */
  hostHeader: string;
  /** Path and query of the request. */
  path: string;
  /** Unix domain socket path for `ws+unix:` URLs. */
  socketPath?: string;
  /** Basic credentials from the URL, if any. */
  auth?: string;
}

function syntaxError(message: string): DOMException {
  return new DOMException(message, 'SyntaxError');
}

/**
 * Parses a WebSocket URL as the WHATWG WebSockets Standard does for `new WebSocket(url)`:
 * `http:` and `https:` map to `ws:` and `wss:`, other schemes and fragments throw `SyntaxError`.
 * `ws+unix:/path/to/socket:/request/path` is a Node extension for Unix domain sockets.
 */
export function parseWebSocketUrl(input: string | URL, base?: string): ConnectTarget {
  let url: URL;
  try {
    url = new URL(String(input), base);
  } catch (cause) {
    const error = syntaxError(`"${String(input)}" is not a valid URL`);
    (error as { cause?: unknown }).cause = cause;
    throw error;
  }
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.hash !== '' || String(input).includes('#')) {
    throw syntaxError(`WebSocket URLs cannot have a fragment: "${String(input)}"`);
  }
  const auth =
    url.username !== '' || url.password !== ''
      ? `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`
      : undefined;
  if (url.protocol === 'ws+unix:') {
    // ws+unix:/tmp/app.sock:/chat?x=1 -> socket /tmp/app.sock, request path /chat?x=1
    const full = decodeURIComponent(url.pathname);
    const colon = full.indexOf(':');
    const socketPath = colon >= 0 ? full.slice(0, colon) : full;
    const requestPath = (colon >= 0 ? full.slice(colon + 1) : '') || '/';
    if (socketPath === '') throw syntaxError(`ws+unix: URL has no socket path: "${url.href}"`);
    return {
      href: url.href,
      secure: false,
      hostname: 'localhost',
      port: 0,
      hostHeader: 'localhost',
      path: requestPath + url.search,
      socketPath,
      ...(auth ? { auth } : {}),
    };
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw syntaxError(
      `unsupported URL scheme "${url.protocol}": use ws:, wss:, http:, https: or ws+unix:`,
    );
  }
  const secure = url.protocol === 'wss:';
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return {
    href: url.href,
    secure,
    hostname,
    port: url.port === '' ? (secure ? 443 : 80) : Number(url.port),
    hostHeader: url.host,
    path: (url.pathname || '/') + url.search,
    ...(auth ? { auth } : {}),
  };
}
