import { Buffer } from 'node:buffer';
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { type ConnectionOptions, connect as tlsConnect } from 'node:tls';
import { ConnectionError, HandshakeError, type WebSocketError } from '../errors.js';
import {
  acceptDeflateResponse,
  buildDeflateOffer,
  type DeflateAgreement,
} from '../protocol/extensions/permessage-deflate.js';
import { ClientHandshake } from '../protocol/handshake/client.js';
import type { HttpResponseHead } from '../protocol/http-head-parser.js';
import { type ConnectTarget, parseWebSocketUrl } from '../web/url.js';
import type { PerMessageDeflateOptions } from './deflate/zlib-compressor.js';
import { connectionErrorFrom } from './error-map.js';
import { nodePlatform } from './node-platform.js';
import { connectThroughProxy, resolveProxy } from './proxy.js';

/** TLS settings of a `wss:` client. */
export interface ClientTlsOptions {
  /** Trusted CA certificates (PEM), replacing the default roots. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Client certificate (PEM) for mutual TLS. */
  cert?: string | Buffer | Array<string | Buffer>;
  /** Client private key (PEM) for mutual TLS. */
  key?: string | Buffer | Array<string | Buffer>;
  passphrase?: string;
  /** SNI and certificate host name; defaults to the URL's host. */
  servername?: string;
  /** Verify the server's certificate (default true). Turn off only for testing. */
  rejectUnauthorized?: boolean;
}

export interface ClientHandshakeOptions {
  protocols: readonly string[];
  headers?: Readonly<Record<string, string>>;
  origin?: string;
  tls?: ClientTlsOptions;
  /** Milliseconds from the start of the attempt to the server's 101; 0 for none. */
  handshakeTimeout: number;
  maxHeaderBytes?: number;
  maxHeaders?: number;
  /** Offer permessage-deflate with these settings; null to offer nothing. */
  perMessageDeflate: PerMessageDeflateOptions | null;
  /** Proxy URL, false for none, undefined to follow HTTPS_PROXY / HTTP_PROXY / NO_PROXY. */
  proxy?: string | false;
  /** Follow 301/302/303/307/308 answers, at most `maxRedirects` times. */
  followRedirects: boolean;
  maxRedirects: number;
}

export interface HandshakeResult {
  socket: Socket;
  /** Bytes that followed the response head: already WebSocket frames. */
  rest: Buffer;
  protocol: string;
  extensions: string;
  /** The permessage-deflate agreement, when the server accepted the offer. */
  deflate: DeflateAgreement | null;
  /** Where the connection ended up after redirects. */
  target: ConnectTarget;
}

/** Request headers that carry credentials: never sent on to another host after a redirect. */
const CREDENTIAL_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization']);
/**
 * How long a refusal's body may take once its head has arrived. The status already says the
 * upgrade failed; the body only explains it, so a server that neither finishes nor closes does
 * not hold the error back until the handshake timeout (or forever without one).
 */
const REFUSAL_BODY_WAIT_MS = 2000;

function labelOf(target: ConnectTarget): string {
  return target.socketPath ? `unix:${target.socketPath}` : `${target.hostname}:${target.port}`;
}

/**
 * The handshake machine for one attempt at `target`; throws a TypeError for invalid headers, so
 * the constructor can report bad input synchronously.
 */
function handshakeFor(
  target: ConnectTarget,
  options: ClientHandshakeOptions,
  headers: Readonly<Record<string, string>>,
  key?: string,
): { handshake: ClientHandshake; deflate: () => DeflateAgreement | null } {
  const all: Record<string, string> = { ...headers };
  if (target.auth && !Object.keys(all).some((h) => h.toLowerCase() === 'authorization')) {
    all.Authorization = `Basic ${Buffer.from(target.auth).toString('base64')}`;
  }
  const offered = options.perMessageDeflate;
  let deflate: DeflateAgreement | null = null;
  const handshake = new ClientHandshake({
    platform: nodePlatform,
    host: target.hostHeader,
    path: target.path,
    ...(key !== undefined ? { key } : {}),
    protocols: options.protocols,
    ...(offered
      ? {
          extensions: buildDeflateOffer(offered),
          acceptExtensions: (header: string) => {
            deflate = acceptDeflateResponse(header, offered);
            return header;
          },
        }
      : {}),
    ...(options.origin !== undefined ? { origin: options.origin } : {}),
    headers: all,
    ...(options.maxHeaderBytes !== undefined ? { maxHeaderBytes: options.maxHeaderBytes } : {}),
    ...(options.maxHeaders !== undefined ? { maxHeaders: options.maxHeaders } : {}),
    followRedirects: options.followRedirects,
    peer: labelOf(target),
  });
  return { handshake, deflate: () => deflate };
}

/**
 * Builds the handshake request for `target`; throws a TypeError for invalid headers, so the
 * constructor can report bad input synchronously.
 */
export function buildRequest(
  target: ConnectTarget,
  options: ClientHandshakeOptions,
  key: string,
  headers: Readonly<Record<string, string>>,
): string {
  return handshakeFor(target, options, headers, key).handshake.dataToSend();
}

function openSocket(target: ConnectTarget, tls: ClientTlsOptions, tunnel: Socket | null): Socket {
  if (target.socketPath) return netConnect({ path: target.socketPath });
  if (target.secure) {
    const options: ConnectionOptions = {
      ALPNProtocols: ['http/1.1'],
      rejectUnauthorized: tls.rejectUnauthorized ?? true,
    };
    if (tunnel) options.socket = tunnel;
    else {
      options.host = target.hostname;
      options.port = target.port;
    }
    const servername = tls.servername ?? (isIP(target.hostname) ? undefined : target.hostname);
    if (servername) options.servername = servername;
    if (tls.ca !== undefined) options.ca = tls.ca;
    if (tls.cert !== undefined) options.cert = tls.cert;
    if (tls.key !== undefined) options.key = tls.key;
    if (tls.passphrase !== undefined) options.passphrase = tls.passphrase;
    return tlsConnect(options);
  }
  return tunnel ?? netConnect({ host: target.hostname, port: target.port });
}

/**
 * Connects (directly, through an HTTP CONNECT proxy, or over a Unix socket), adds TLS for
 * `wss:`, performs the opening handshake (RFC 6455 section 4.1) and follows redirects when asked.
 * Calls `done` exactly once. Returns a function that aborts the attempt.
 */
export function clientHandshake(
  initial: ConnectTarget,
  options: ClientHandshakeOptions,
  done: (error: WebSocketError | null, result?: HandshakeResult) => void,
): (reason: WebSocketError) => void {
  let settled = false;
  let abortStage: ((error: WebSocketError) => void) | null = null;
  let refusalSoFar: (() => WebSocketError | null) | null = null;
  let redirects = 0;
  let headers: Record<string, string> = { ...(options.headers ?? {}) };
  let stage: 'proxy' | 'server' = 'server';
  let timer: NodeJS.Timeout | undefined;

  const finish = (error: WebSocketError | null, result?: HandshakeResult) => {
    if (settled) return;
    settled = true;
    if (timer) clearTimeout(timer);
    done(error, result);
  };

  if (options.handshakeTimeout > 0) {
    timer = setTimeout(() => {
      const error =
        stage === 'proxy'
          ? new ConnectionError(
              'ERR_WS_PROXY_TIMEOUT',
              `the proxy did not open a tunnel within ${options.handshakeTimeout} ms (handshakeTimeout)`,
            )
          : new ConnectionError(
              'ERR_WS_HANDSHAKE_TIMEOUT',
              `${labelOf(initial)}: no handshake response within ${options.handshakeTimeout} ms (handshakeTimeout)`,
            );
      const reported = (stage === 'server' ? refusalSoFar?.() : null) ?? error;
      abortStage?.(reported);
      finish(reported);
    }, options.handshakeTimeout);
  }

  const attempt = (target: ConnectTarget) => {
    let proxy: ReturnType<typeof resolveProxy>;
    try {
      proxy = resolveProxy(target, options.proxy);
    } catch (error) {
      queueMicrotask(() => finish(error as WebSocketError));
      return;
    }
    if (!proxy) {
      upgrade(target, openSocket(target, options.tls ?? {}, null), false);
      return;
    }
    stage = 'proxy';
    abortStage = connectThroughProxy(proxy, target, (error, tunnel) => {
      abortStage = null;
      if (error || !tunnel) {
        finish(error ?? new ConnectionError('ERR_WS_PROXY', 'the proxy tunnel failed'));
        return;
      }
      if (settled) {
        tunnel.destroy();
        return;
      }
      stage = 'server';
      upgrade(target, openSocket(target, options.tls ?? {}, tunnel), !target.secure);
    });
  };

  const upgrade = (target: ConnectTarget, socket: Socket, connected: boolean) => {
    const label = labelOf(target);
    socket.setNoDelay(true);
    const { handshake, deflate } = handshakeFor(target, options, headers);
    let over = false;
    let bodyTimer: NodeJS.Timeout | undefined;
    const end = (error: WebSocketError | null, result?: HandshakeResult) => {
      if (over) return;
      over = true;
      abortStage = null;
      clearTimeout(bodyTimer);
      socket.removeListener('data', onData);
      socket.removeListener('error', onError);
      socket.removeListener('close', onClose);
      if (error || !result) {
        socket.on('error', () => {});
        socket.destroy();
      }
      if (error) finish(error);
      else if (result) finish(null, result);
    };
    abortStage = (error) => end(error);
    // Once a refusal's head has arrived, giving up on its body (timeout, reset) still reports it.
    refusalSoFar = () => (handshake.state === 'body' ? handshake.receiveEof().error : null);

    const onData = (chunk: Buffer) => {
      const event = handshake.receiveData(chunk);
      if (!event) {
        if (handshake.state === 'body' && bodyTimer === undefined) {
          bodyTimer = setTimeout(() => end(handshake.receiveEof().error), REFUSAL_BODY_WAIT_MS);
        }
        return;
      }
      if (event.type === 'failed') {
        end(event.error);
        return;
      }
      if (event.type === 'open') {
        const { rest } = event;
        end(null, {
          socket,
          rest: Buffer.from(rest.buffer, rest.byteOffset, rest.length),
          protocol: event.protocol,
          extensions: event.extensions,
          deflate: deflate(),
          target,
        });
        return;
      }
      const head = event.response;
      const next = redirectTarget(target, head, label);
      if (next instanceof HandshakeError) {
        end(next);
        return;
      }
      if (++redirects > options.maxRedirects) {
        end(
          new HandshakeError(
            `${label}: more than ${options.maxRedirects} redirects (maxRedirects)`,
            {
              status: head.status,
              headers: head.headers,
            },
          ),
        );
        return;
      }
      if (
        next.hostname !== target.hostname ||
        next.port !== target.port ||
        next.socketPath !== target.socketPath
      ) {
        // Credentials belong to the host they were given for.
        headers = Object.fromEntries(
          Object.entries(headers).filter(([name]) => !CREDENTIAL_HEADERS.has(name.toLowerCase())),
        );
        delete next.auth;
      }
      over = true;
      socket.removeListener('data', onData);
      socket.removeListener('error', onError);
      socket.removeListener('close', onClose);
      socket.on('error', () => {});
      socket.destroy();
      attempt(next);
    };
    const onError = (error: Error) => end(refusalSoFar?.() ?? connectionErrorFrom(error, label));
    const onClose = () => end(handshake.receiveEof().error);
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    const request = handshake.dataToSend();
    if (connected) socket.write(request);
    else
      socket.once(target.secure && !target.socketPath ? 'secureConnect' : 'connect', () =>
        socket.write(request),
      );
  };

  attempt(initial);
  return (reason) => {
    abortStage?.(reason);
    finish(reason);
  };
}

/** Where a redirect points, or why it must not be followed. */
function redirectTarget(
  from: ConnectTarget,
  head: HttpResponseHead,
  label: string,
): ConnectTarget | HandshakeError {
  const location = head.headers.location;
  const refuse = (message: string) =>
    new HandshakeError(`${label}: ${message}`, { status: head.status, headers: head.headers });
  if (!location) return refuse(`HTTP ${head.status} redirect without a Location header`);
  let next: ConnectTarget;
  try {
    next = parseWebSocketUrl(location, from.socketPath ? undefined : from.href);
  } catch {
    return refuse(`HTTP ${head.status} redirect to an invalid or unsupported URL "${location}"`);
  }
  // Never downgrade a secure connection.
  if (from.secure && !next.secure)
    return refuse(`refusing to follow a redirect from wss: to ws: (${location})`);
  return next;
}
