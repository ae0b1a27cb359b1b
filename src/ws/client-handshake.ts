import { Buffer } from 'node:buffer';
import http, { type ClientRequest, type IncomingMessage } from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { URL } from 'node:url';
import {
  checkDeflateOptions,
  NodeDeflateCompressor,
  type PerMessageDeflateOptions,
} from '../node/deflate/zlib-compressor.js';
import { nodePlatform } from '../node/node-platform.js';
import { parseExtensions } from '../protocol/extensions/extension-header.js';
import {
  acceptDeflateResponse,
  buildDeflateOffer,
} from '../protocol/extensions/permessage-deflate.js';
import { ClientHandshake } from '../protocol/handshake/client.js';
import { DEFAULT_MAX_PAYLOAD } from '../protocol/websocket-protocol.js';
import {
  checkSubprotocols,
  kAbortHandshake,
  kAccepted,
  kFailHandshake,
  kSetSocket,
  kSetUrl,
  wasAborted,
} from './internal.js';
import { type ClientOptions, checkClientOptions, deflateOptionsOf } from './options.js';
import type { WebSocket } from './websocket.js';

/** Where the first request went, to drop credentials on a redirect elsewhere. */
interface Origin {
  ipc: boolean;
  secure: boolean;
  hostOrSocketPath: string;
}

/** What is given to `http.request()`: ws's options and the request's own. */
interface RequestOptions extends Omit<ClientOptions, 'createConnection' | 'headers' | 'port'> {
  createConnection?: unknown;
  defaultPort?: number;
  port?: number | string;
  headers: Record<string, string | number | string[]>;
  path?: string;
  timeout?: number | undefined;
  auth?: string | undefined;
  socketPath?: string | undefined;
}

/**
 * ws's words for the engine's reasons to fail a 101 answer: ws's users and its tests match on
 * them. A reason ws has no words for (such as a missing `Connection: Upgrade`) keeps wskit's.
 */
const WS_MESSAGES: ReadonlyArray<readonly [RegExp, string]> = [
  [/"Upgrade: websocket"/, 'Invalid Upgrade header'],
  [/Sec-WebSocket-Accept/, 'Invalid Sec-WebSocket-Accept header'],
  [/subprotocol .* none was requested/, 'Server sent a subprotocol but none was requested'],
  [/subprotocol .* not offered/, 'Server sent an invalid subprotocol'],
  [
    /accepted extension .* not offered/,
    'Server sent a Sec-WebSocket-Extensions header but no extension was requested',
  ],
];

function wsMessageOf(error: Error): string {
  return WS_MESSAGES.find(([pattern]) => pattern.test(error.message))?.[1] ?? error.message;
}

/**
 * The head of a response, for the engine's parser (Node has consumed the bytes). Built from the
 * headers Node kept, as ws reads them (`maxHeadersCount` applies).
 */
function responseHead(res: IncomingMessage): string {
  const lines = [`HTTP/${res.httpVersion} ${res.statusCode} ${res.statusMessage}`];
  for (const [name, value] of Object.entries(res.headers)) {
    for (const one of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${one}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** The compressor the server's permessage-deflate answer agrees to; throws with ws's message. */
function acceptDeflate(header: string, offered: PerMessageDeflateOptions): NodeDeflateCompressor {
  const answers = parseExtensions(header);
  if (answers === null) throw new Error('Invalid Sec-WebSocket-Extensions header');
  if (answers.length !== 1 || answers[0]!.name !== 'permessage-deflate') {
    throw new Error('Server indicated an extension that was not requested');
  }
  try {
    return new NodeDeflateCompressor(acceptDeflateResponse(header, offered), 'client', offered);
  } catch {
    throw new Error('Invalid Sec-WebSocket-Extensions header');
  }
}

function netConnect(options: RequestOptions): net.Socket {
  return net.connect({ ...options, path: options.socketPath } as unknown as net.NetConnectOpts);
}

function tlsConnect(options: RequestOptions): tls.TLSSocket {
  const o = { ...options, path: undefined } as unknown as tls.ConnectionOptions;
  if (!o.servername && o.servername !== '') {
    o.servername = net.isIP(options.host ?? '') ? '' : (options.host ?? undefined);
  }
  return tls.connect(o);
}

/**
 * The client side of the opening handshake with `ws`'s options and messages (an `http.request`
 * upgrade, so agents, `createConnection` and TLS options work as they do with `ws`); once the
 * server has answered 101 and the answer checks out (RFC 6455 section 4.1), the socket is
 * handed to `websocket` and wskit's engine carries the connection.
 */
export function openClient(
  websocket: WebSocket,
  address: string | URL,
  protocols: string[],
  options: ClientOptions,
  origin: Origin | null = null,
): void {
  checkClientOptions(options);
  const opts = {
    protocolVersion: 13,
    maxPayload: DEFAULT_MAX_PAYLOAD,
    skipUTF8Validation: false,
    perMessageDeflate: true,
    followRedirects: false,
    maxRedirects: 10,
    ...options,
    socketPath: undefined,
    hostname: undefined,
    protocol: undefined,
    timeout: undefined,
    method: 'GET',
    host: undefined,
    path: undefined,
    port: undefined,
  } as unknown as RequestOptions & {
    protocolVersion: number;
    maxPayload: number;
    maxRedirects: number;
    auth?: string;
  };

  if (opts.protocolVersion !== 8 && opts.protocolVersion !== 13) {
    throw new RangeError(
      `Unsupported protocol version: ${opts.protocolVersion} (supported versions: 8, 13)`,
    );
  }

  let parsed: URL;
  if (address instanceof URL) parsed = address;
  else {
    try {
      parsed = new URL(address);
    } catch {
      throw new SyntaxError(`Invalid URL: ${address}`);
    }
  }
  if (parsed.protocol === 'http:') parsed.protocol = 'ws:';
  else if (parsed.protocol === 'https:') parsed.protocol = 'wss:';
  websocket[kSetUrl](parsed.href);

  const isSecure = parsed.protocol === 'wss:';
  const isIpc = parsed.protocol === 'ws+unix:';
  let invalid: string | undefined;
  if (parsed.protocol !== 'ws:' && !isSecure && !isIpc) {
    invalid = 'The URL\'s protocol must be one of "ws:", "wss:", "http:", "https:", or "ws+unix:"';
  } else if (isIpc && !parsed.pathname) {
    invalid = "The URL's pathname is empty";
  } else if (parsed.hash) {
    invalid = 'The URL contains a fragment identifier';
  }
  if (invalid !== undefined) {
    const error = new SyntaxError(invalid);
    if (websocket._redirects === 0) throw error;
    websocket[kFailHandshake](error);
    return;
  }

  const protocolSet = checkSubprotocols(protocols);
  const deflate = deflateOptionsOf(opts.perMessageDeflate);
  if (deflate !== null) checkDeflateOptions(deflate);
  const offer = deflate === null ? null : buildDeflateOffer(deflate);
  const defaultPort = isSecure ? 443 : 80;
  let compressor: NodeDeflateCompressor | null = null;
  const handshake = new ClientHandshake({
    platform: nodePlatform,
    host: parsed.host,
    path: parsed.pathname + parsed.search,
    protocols,
    // Node's parser has applied its own limits (maxHeadersCount, --max-http-header-size).
    maxHeaders: Number.POSITIVE_INFINITY,
    maxHeaderBytes: Number.POSITIVE_INFINITY,
    ...(offer === null
      ? {}
      : {
          extensions: offer,
          acceptExtensions: (header: string) => {
            compressor = acceptDeflate(header, deflate!);
            return 'permessage-deflate';
          },
        }),
  });
  const key = handshake.key;
  const request = isSecure ? https.request : http.request;

  opts.createConnection = opts.createConnection ?? (isSecure ? tlsConnect : netConnect);
  opts.defaultPort = opts.defaultPort ?? defaultPort;
  opts.port = parsed.port || defaultPort;
  opts.host = parsed.hostname.startsWith('[') ? parsed.hostname.slice(1, -1) : parsed.hostname;
  opts.headers = {
    ...(opts.headers as Record<string, string>),
    'Sec-WebSocket-Version': opts.protocolVersion,
    'Sec-WebSocket-Key': key,
    Connection: 'Upgrade',
    Upgrade: 'websocket',
  };
  opts.path = parsed.pathname + parsed.search;
  opts.timeout = opts.handshakeTimeout;
  if (offer !== null) opts.headers['Sec-WebSocket-Extensions'] = offer;
  if (protocols.length > 0) opts.headers['Sec-WebSocket-Protocol'] = protocols.join(',');
  if (opts.origin) {
    if (opts.protocolVersion < 13) opts.headers['Sec-WebSocket-Origin'] = opts.origin;
    else opts.headers.Origin = opts.origin;
  }
  if (parsed.username || parsed.password) opts.auth = `${parsed.username}:${parsed.password}`;
  if (isIpc) {
    const parts = (opts.path as string).split(':');
    opts.socketPath = parts[0] ?? '';
    opts.path = parts[1] ?? '/';
  }

  let req: ClientRequest | null;
  if (opts.followRedirects) {
    let first = origin;
    if (websocket._redirects === 0 || first === null) {
      first = {
        ipc: isIpc,
        secure: isSecure,
        hostOrSocketPath: isIpc ? (opts.socketPath as string) : parsed.host,
      };
      // Header names are compared in lower case when deciding what to drop on a redirect.
      const headers = options.headers as Record<string, string> | undefined;
      options = { ...options, headers: {} };
      if (headers) {
        for (const [name, value] of Object.entries(headers)) {
          (options.headers as Record<string, string>)[name.toLowerCase()] = value;
        }
      }
    } else if (websocket.listenerCount('redirect') === 0) {
      const sameHost = isIpc
        ? first.ipc
          ? opts.socketPath === first.hostOrSocketPath
          : false
        : first.ipc
          ? false
          : parsed.host === first.hostOrSocketPath;
      if (!sameHost || (first.secure && !isSecure)) {
        // Credentials go only to the host they were given for, and never over a downgrade.
        delete opts.headers.authorization;
        delete opts.headers.cookie;
        if (!sameHost) delete opts.headers.host;
        delete opts.auth;
      }
    }
    origin = first;
    const given = options.headers as Record<string, string>;
    if (opts.auth && !given.authorization) {
      given.authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
    }
    req = request(opts as http.RequestOptions);
    websocket._req = req;
    if (websocket._redirects) websocket.emit('redirect', websocket.url, req);
  } else {
    req = request(opts as http.RequestOptions);
    websocket._req = req;
  }
  const current = req;

  if (opts.timeout) {
    current.on('timeout', () => {
      websocket[kAbortHandshake](current, 'Opening handshake has timed out');
    });
  }

  current.on('error', (error) => {
    if (req === null || wasAborted(current)) return;
    req = null;
    websocket._req = null;
    websocket[kFailHandshake](error);
  });

  current.on('response', (res: IncomingMessage) => {
    const location = res.headers.location;
    const status = res.statusCode ?? 0;
    if (location && opts.followRedirects && status >= 300 && status < 400) {
      if (++websocket._redirects > opts.maxRedirects) {
        websocket[kAbortHandshake](current, 'Maximum redirects exceeded');
        return;
      }
      current.destroy();
      let next: URL;
      try {
        next = new URL(location, address);
      } catch {
        websocket[kFailHandshake](new SyntaxError(`Invalid URL: ${location}`));
        return;
      }
      openClient(websocket, next, protocols, options, origin);
    } else if (!websocket.emit('unexpected-response', current, res)) {
      websocket[kAbortHandshake](current, `Unexpected server response: ${res.statusCode}`);
    }
  });

  current.on('upgrade', (res: IncomingMessage, socket: Duplex, head: Buffer) => {
    websocket.emit('upgrade', res);
    // An 'upgrade' listener may have closed the socket.
    if (websocket.readyState !== 0) return;
    req = null;
    websocket._req = null;
    const fail = (message: string) => websocket[kAbortHandshake](socket, message);

    // The engine's handshake machine checks the answer (RFC 6455 section 4.1), as for the core
    // client; Node has parsed the head already, so the machine is given it back as bytes.
    const event = handshake.receiveData(Buffer.from(responseHead(res), 'latin1'));
    if (event?.type !== 'open') {
      fail(event?.type === 'failed' ? wsMessageOf(event.error) : 'Invalid HTTP response');
      return;
    }
    // ws's own rule on top of RFC 6455: a client that offered subprotocols needs one back.
    if (event.protocol === '' && protocolSet.size > 0) {
      fail('Server sent no subprotocol');
      return;
    }
    websocket[kAccepted](event.protocol, compressor ? 'permessage-deflate' : '');
    websocket[kSetSocket](socket, head, {
      maxPayload: opts.maxPayload,
      skipUTF8Validation: opts.skipUTF8Validation === true,
      compressor,
    });
  });

  if (opts.finishRequest) opts.finishRequest(current, websocket);
  else current.end();
}
