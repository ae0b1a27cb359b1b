/**
 * The one scope of a test's resources: servers on 127.0.0.1 (port 0 unless a test needs a given
 * port), clients and raw TCP peers, each closed when the test ends, pass or fail.
 */
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import type { TestContext } from 'node:test';
import {
  type BinaryType,
  type CloseEvent,
  WebSocket,
  type WebSocketOptions,
  WebSocketServer,
  type WebSocketServerOptions,
} from '../../src/index.js';
import {
  acceptFor,
  ByteReader,
  closeNetServer,
  makeKey,
  RawServer,
  upgradeRequest,
} from './raw-peers.js';
import { WAIT_MS } from './timeouts.js';
import { nextEmit, within } from './waits.js';

/** A listening standalone WebSocketServer. */
export interface StartedServer {
  wss: WebSocketServer<BinaryType>;
  port: number;
  /** `ws://127.0.0.1:<port>` (or `wss:` with TLS), without a path. */
  url: string;
}

/** Options of a standalone server; the scope chooses the address. */
export type ServerOptions = Omit<WebSocketServerOptions, 'port' | 'host' | 'server' | 'noServer'>;

/**
 * Starts a standalone WebSocketServer on 127.0.0.1 (`port` 0 picks a free one); the caller closes
 * it. {@link Scope.server} is the form that closes itself.
 */
export async function listen(options: ServerOptions = {}, port = 0): Promise<StartedServer> {
  const wss = new WebSocketServer({ ...options, port, host: '127.0.0.1' });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the server did not listen')), WAIT_MS);
    wss.once('listening', () => {
      clearTimeout(timer);
      resolve();
    });
    wss.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
  const bound = (wss.address() as AddressInfo).port;
  return { wss, port: bound, url: `${options.tls ? 'wss' : 'ws'}://127.0.0.1:${bound}` };
}

/** Closes a WebSocketServer and waits (bounded) for its `close` event. */
export function closeServer(wss: WebSocketServer<BinaryType>, ms = WAIT_MS): Promise<void> {
  return within(
    new Promise<void>((resolve) => wss.close(() => resolve())),
    ms,
    'closing a WebSocketServer',
  );
}

/** Kills a server the hard way: every accepted socket is terminated, then the server closes. */
export async function killServer(wss: WebSocketServer<BinaryType>): Promise<void> {
  for (const client of wss.clients) client.terminate();
  await closeServer(wss);
}

/** Listens with a net server on 127.0.0.1:`port` and returns the bound port. */
export async function listenNet(server: Server, port = 0): Promise<number> {
  server.listen(port, '127.0.0.1');
  await nextEmit(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** Test-scoped resources: everything made here is closed when the test ends, pass or fail. */
export class Scope {
  readonly #steps: Array<() => unknown> = [];

  constructor(t: TestContext) {
    t.after(async () => {
      for (const step of this.#steps.reverse()) {
        try {
          await step();
        } catch {
          // Each step is independent; cleanup must not hide the test's own outcome.
        }
      }
    });
  }

  /** Registers a cleanup step; steps run in reverse order of registration. */
  defer(step: () => unknown): void {
    this.#steps.push(step);
  }

  /** A WebSocketServer, its clients terminated and itself closed at the end of the test. */
  async server(options: ServerOptions = {}, port = 0): Promise<StartedServer> {
    const started = await listen(options, port);
    this.defer(() => killServer(started.wss));
    return started;
  }

  /** `ws`, terminated at the end of the test unless already closed. */
  track(ws: WebSocket): WebSocket {
    this.defer(() => {
      if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
    });
    return ws;
  }

  /** A client that is terminated at the end of the test if it is still open. */
  client(url: string | URL, protocols?: string | string[], options?: WebSocketOptions): WebSocket {
    return this.track(new WebSocket(url, protocols, options));
  }

  /** Opens a client and resolves once its open event fired. */
  async open(
    url: string | URL,
    protocols?: string | string[],
    options?: WebSocketOptions,
  ): Promise<WebSocket> {
    const ws = this.client(url, protocols, options);
    await new Promise<void>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        ws.removeEventListener('open', onOpen);
        ws.removeEventListener('close', onClose);
      };
      const onOpen = () => {
        done();
        resolve();
      };
      const onClose = (event: CloseEvent) => {
        done();
        reject(new Error(`the client closed with ${event.code} before it opened`));
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`the client did not open within ${WAIT_MS} ms`));
      }, WAIT_MS);
      ws.addEventListener('open', onOpen);
      ws.addEventListener('close', onClose);
    });
    return ws;
  }

  /** Opens a client to a standalone server and resolves with it and its server-side peer. */
  async pair(
    started: StartedServer,
    path = '/',
    protocols?: string | string[],
    options?: WebSocketOptions,
  ): Promise<{ client: WebSocket; peer: WebSocket }> {
    const connection = nextEmit<[WebSocket]>(started.wss, 'connection');
    const client = await this.open(started.url + path, protocols, options);
    const [peer] = await connection;
    return { client, peer };
  }

  /** A net server with all its connections destroyed and closed at the end of the test. */
  async net(
    handler: (socket: Socket) => void,
    port = 0,
  ): Promise<{ server: Server; port: number }> {
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
      handler(socket);
    });
    this.defer(() => closeNetServer(server, sockets));
    return { server, port: await listenNet(server, port) };
  }

  /** A raw TCP server on 127.0.0.1:0; its connections are readers (see {@link ByteReader}). */
  async rawServer(): Promise<RawServer> {
    const raw = new RawServer();
    this.defer(() => raw.close());
    await raw.listen();
    return raw;
  }

  /** A raw TCP connection to 127.0.0.1:`port`, resolved once connected. */
  async rawClient(port: number): Promise<ByteReader> {
    const socket = connect({ host: '127.0.0.1', port });
    this.defer(() => socket.destroy());
    const reader = new ByteReader(socket);
    await nextEmit(socket, 'connect');
    return reader;
  }

  /**
   * A raw TCP client that completed a valid opening handshake with a server on `port`: what it
   * reads next are the server's frames.
   */
  async rawUpgrade(port: number, path = '/'): Promise<ByteReader> {
    const reader = await this.rawClient(port);
    const key = makeKey();
    reader.socket.write(upgradeRequest({ path, key }));
    const head = await reader.readHead();
    if (head.status !== 101) throw new Error(`expected 101, got ${head.statusLine}`);
    if (head.headers['sec-websocket-accept'] !== acceptFor(key)) {
      throw new Error('the server answered a wrong Sec-WebSocket-Accept');
    }
    return reader;
  }
}
