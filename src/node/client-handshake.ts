import { Buffer } from 'node:buffer';
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { type ConnectionOptions, connect as tlsConnect } from 'node:tls';
import type { ConnectTarget } from '../core/url.js';
import { ConnectionError, HandshakeError, type WebSocketError } from '../errors.js';
import { buildClientRequest, generateKey, validateServerResponse } from '../protocol/handshake.js';
import { HttpHeadParser } from '../protocol/http-head-parser.js';
import {
  acceptDeflateResponse,
  buildDeflateOffer,
  type DeflateAgreement,
} from '../protocol/permessage-deflate-negotiation.js';
import { connectionErrorFrom } from './error-map.js';
import { nodePlatform } from './node-platform.js';
import type { PerMessageDeflateOptions } from './permessage-deflate.js';

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
  /** Milliseconds from the start of the connection to the server's 101; 0 for none. */
  handshakeTimeout: number;
  maxHeaderBytes?: number;
  maxHeaders?: number;
  /** Offer permessage-deflate with these settings; null to offer nothing. */
  perMessageDeflate: PerMessageDeflateOptions | null;
}

export interface HandshakeResult {
  socket: Socket;
  /** Bytes that followed the response head: already WebSocket frames. */
  rest: Buffer;
  protocol: string;
  extensions: string;
  /** The permessage-deflate agreement, when the server accepted the offer. */
  deflate: DeflateAgreement | null;
}

/**
 * Opens the TCP, TLS or Unix socket for a client and performs the opening handshake
 * (RFC 6455 section 4.1). Calls `done` exactly once. Returns a function that aborts the attempt.
 */
export function clientHandshake(
  target: ConnectTarget,
  options: ClientHandshakeOptions,
  done: (error: WebSocketError | null, result?: HandshakeResult) => void,
): (reason: WebSocketError) => void {
  const label = target.socketPath
    ? `unix:${target.socketPath}`
    : `${target.hostname}:${target.port}`;
  let socket: Socket;
  let settled = false;
  let timer: NodeJS.Timeout | undefined;

  const finish = (error: WebSocketError | null, result?: HandshakeResult) => {
    if (settled) return;
    settled = true;
    if (timer) clearTimeout(timer);
    socket.removeListener('data', onData);
    socket.removeListener('error', onError);
    socket.removeListener('close', onClose);
    if (error) {
      socket.on('error', () => {});
      socket.destroy();
    }
    done(error, result);
  };

  if (target.socketPath) {
    socket = netConnect({ path: target.socketPath });
  } else if (target.secure) {
    const tls = options.tls ?? {};
    const tlsOptions: ConnectionOptions = {
      host: target.hostname,
      port: target.port,
      ALPNProtocols: ['http/1.1'],
      rejectUnauthorized: tls.rejectUnauthorized ?? true,
    };
    const servername = tls.servername ?? (isIP(target.hostname) ? undefined : target.hostname);
    if (servername) tlsOptions.servername = servername;
    if (tls.ca !== undefined) tlsOptions.ca = tls.ca;
    if (tls.cert !== undefined) tlsOptions.cert = tls.cert;
    if (tls.key !== undefined) tlsOptions.key = tls.key;
    if (tls.passphrase !== undefined) tlsOptions.passphrase = tls.passphrase;
    socket = tlsConnect(tlsOptions);
  } else {
    socket = netConnect({ host: target.hostname, port: target.port });
  }
  socket.setNoDelay(true);

  const key = generateKey(nodePlatform);
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (target.auth && !Object.keys(headers).some((h) => h.toLowerCase() === 'authorization')) {
    headers.Authorization = `Basic ${Buffer.from(target.auth).toString('base64')}`;
  }
  let request: string;
  try {
    request = buildClientRequest({
      host: target.hostHeader,
      path: target.path,
      key,
      protocols: options.protocols,
      ...(options.perMessageDeflate
        ? { extensions: buildDeflateOffer(options.perMessageDeflate) }
        : {}),
      ...(options.origin !== undefined ? { origin: options.origin } : {}),
      headers,
    });
  } catch (cause) {
    socket.destroy();
    throw cause;
  }
  const parser = new HttpHeadParser({
    ...(options.maxHeaderBytes !== undefined ? { maxHeaderBytes: options.maxHeaderBytes } : {}),
    ...(options.maxHeaders !== undefined ? { maxHeaders: options.maxHeaders } : {}),
  });

  socket.once(target.secure && !target.socketPath ? 'secureConnect' : 'connect', () => {
    socket.write(request);
  });

  const onData = (chunk: Buffer) => {
    let parsed: ReturnType<HttpHeadParser['push']>;
    try {
      parsed = parser.push(chunk);
    } catch (error) {
      finish(error as HandshakeError);
      return;
    }
    if (!parsed) return;
    const { head, rest } = parsed;
    try {
      let deflate: DeflateAgreement | null = null;
      const offered = options.perMessageDeflate;
      const agreed = validateServerResponse(
        head,
        {
          key,
          protocols: options.protocols,
          ...(offered
            ? {
                acceptExtensions: (header: string) => {
                  deflate = acceptDeflateResponse(header, offered);
                  return header;
                },
              }
            : {}),
        },
        nodePlatform,
      );
      finish(null, {
        socket,
        rest: Buffer.from(rest.buffer, rest.byteOffset, rest.length),
        protocol: agreed.protocol,
        extensions: agreed.extensions,
        deflate,
      });
    } catch (error) {
      if (error instanceof HandshakeError && head.status !== 101) {
        const body = Buffer.from(
          rest.buffer,
          rest.byteOffset,
          Math.min(rest.length, 1024),
        ).toString();
        finish(
          new HandshakeError(
            `${label}: the server refused the WebSocket upgrade with HTTP ${head.status} ${head.statusText}`.trimEnd() +
              (body ? `: ${body.trim()}` : ''),
            { status: head.status, headers: head.headers, body },
          ),
        );
      } else {
        finish(error as WebSocketError);
      }
    }
  };
  const onError = (error: Error) => finish(connectionErrorFrom(error, label));
  const onClose = () =>
    finish(
      new ConnectionError(
        'ERR_WS_CONNECTION_CLOSED',
        `${label}: the server closed the connection during the opening handshake`,
      ),
    );
  socket.on('data', onData);
  socket.on('error', onError);
  socket.on('close', onClose);

  if (options.handshakeTimeout > 0) {
    timer = setTimeout(() => {
      finish(
        new ConnectionError(
          'ERR_WS_HANDSHAKE_TIMEOUT',
          `${label}: no handshake response within ${options.handshakeTimeout} ms (handshakeTimeout)`,
        ),
      );
    }, options.handshakeTimeout);
  }
  return (reason) => finish(reason);
}
