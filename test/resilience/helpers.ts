/**
 * Helpers for the resilience tests (reconnect, heartbeat, proxy, redirects, streams, error
 * mapping): waits for matching events, typed-error assertions, a raw WebSocket client that never
 * answers, a throw-away TLS certificate, and environment snapshots. Servers and scopes are in
 * test/support/scope.ts.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import {
  type BinaryType,
  type CloseEvent,
  WebSocket,
  WebSocketError,
  type WebSocketErrorCode,
  type WebSocketEvent,
  type WebSocketEventTarget,
  type WebSocketOptions,
  type WebSocketServer,
} from '../../src/index.js';
import { decodeFrame } from '../support/frames.js';
import { acceptFor } from '../support/raw-peers.js';
import type { Scope } from '../support/scope.js';
import { WAIT_MS } from '../support/timeouts.js';
import { selfSignedCertificate } from '../support/tls.js';
import { nextEmit, within } from '../support/waits.js';

// -- waiting -------------------------------------------------------------------------------------

/** The first `type` event for which `accept` returns true, bounded by `ms`. */
export function eventWhere<E extends WebSocketEvent>(
  ws: WebSocketEventTarget,
  type: string,
  accept: (event: E) => boolean,
  ms = WAIT_MS,
): Promise<E> {
  return new Promise((resolve, reject) => {
    const listener = (event: E) => {
      if (!accept(event)) return;
      clearTimeout(timer);
      ws.removeEventListener(type, listener);
      resolve(event);
    };
    const timer = setTimeout(() => {
      ws.removeEventListener(type, listener);
      reject(new Error(`timed out after ${ms} ms waiting for a matching "${type}" event`));
    }, ms);
    ws.addEventListener(type, listener);
  });
}

/** The final close of a client: the `close` event after which the socket stays CLOSED. */
export function finalClose(ws: WebSocket, ms = WAIT_MS): Promise<CloseEvent> {
  return eventWhere<CloseEvent>(ws, 'close', () => ws.readyState === WebSocket.CLOSED, ms);
}

/** A promise with its resolve function outside, for "wait until this happened" flags. */
export class Signal<T = void> {
  readonly promise: Promise<T>;
  resolve!: (value: T) => void;
  done = false;

  constructor() {
    this.promise = new Promise<T>((resolve) => {
      this.resolve = (value: T) => {
        this.done = true;
        resolve(value);
      };
    });
  }

  wait(ms: number, what: string): Promise<T> {
    return within(this.promise, ms, what);
  }
}

/** Collects events of one type; `until(n)` waits for the n-th one. */
export class EventLog<E extends WebSocketEvent> {
  readonly events: E[] = [];
  readonly #wakers: Array<() => void> = [];

  constructor(ws: WebSocketEventTarget, type: string) {
    ws.addEventListener(type, (event: E) => {
      this.events.push(event);
      for (const wake of this.#wakers.splice(0)) wake();
    });
  }

  get count(): number {
    return this.events.length;
  }

  async until(count: number, ms = WAIT_MS): Promise<E[]> {
    const deadline = Date.now() + ms;
    while (this.events.length < count) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${ms} ms: ${this.events.length} of ${count}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wakers.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.events;
  }
}

/** Resolves after `ms`: only for deliberate observation windows ("nothing happens for X ms"). */
export function observe(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// -- typed errors --------------------------------------------------------------------------------

/** Asserts that `error` is an instance of `type` with `code`, and returns it typed. */
export function assertWsError<T extends WebSocketError>(
  error: unknown,
  type: abstract new (...args: never[]) => T,
  code: WebSocketErrorCode,
): T {
  assert.ok(error instanceof type, `expected a ${type.name}, got ${String(error)}`);
  assert.ok(error instanceof WebSocketError);
  assert.equal(error.code, code, `unexpected code; message: ${error.message}`);
  return error;
}

/** Awaits a rejection and returns the reason. */
export async function rejection(promise: Promise<unknown>, ms = WAIT_MS): Promise<unknown> {
  try {
    await within(promise, ms, 'waiting for a rejection');
  } catch (error) {
    return error;
  }
  assert.fail('expected the promise to reject');
}

// -- raw HTTP / WebSocket bytes ------------------------------------------------------------------

/** Reads from `socket` until the end of an HTTP head; resolves with the head and what followed. */
export function readHead(socket: Socket, ms = WAIT_MS): Promise<{ head: string; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const cleanup = () => {
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      cleanup();
      // Whatever follows is read by the next consumer (pipe or listener), not lost.
      socket.pause();
      resolve({
        head: buffered.subarray(0, end).toString('latin1'),
        rest: buffered.subarray(end + 4),
      });
    };
    const onClose = () => {
      cleanup();
      reject(new Error('the connection closed before a complete HTTP head'));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no complete HTTP head within ${ms} ms`));
    }, ms);
    socket.on('data', onData);
    socket.on('close', onClose);
  });
}

/** Header map (lower-cased names) of an HTTP head; the first line is under `:line`. */
export function parseHead(head: string): Record<string, string> {
  const [line = '', ...rest] = head.split('\r\n');
  const headers: Record<string, string> = { ':line': line };
  for (const field of rest) {
    const colon = field.indexOf(':');
    if (colon > 0)
      headers[field.slice(0, colon).trim().toLowerCase()] = field.slice(colon + 1).trim();
  }
  return headers;
}

/**
 * A raw TCP client that completed the opening handshake with the server on `port`; it never
 * answers anything. `frames` lists the opcodes of the frames it received.
 */
export async function rawWebSocketClient(
  scope: Scope,
  port: number,
): Promise<{ socket: Socket; opcodes: number[]; closed: Promise<void> }> {
  const socket = connect({ host: '127.0.0.1', port });
  scope.defer(() => socket.destroy());
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await nextEmit(socket, 'connect');
  const key = randomBytes(16).toString('base64');
  socket.write(
    `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  const { head, rest } = await readHead(socket);
  const headers = parseHead(head);
  assert.match(headers[':line'] ?? '', /^HTTP\/1\.1 101 /);
  assert.equal(headers['sec-websocket-accept'], acceptFor(key));
  // What the server sends after its 101: only the opcodes of whole frames are recorded.
  const opcodes: number[] = [];
  let pending = rest;
  const parse = () => {
    for (let next = decodeFrame(pending); next; next = decodeFrame(pending)) {
      opcodes.push(next.frame.opcode);
      pending = pending.subarray(next.size);
    }
  };
  parse();
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    parse();
  });
  socket.resume();
  return { socket, opcodes, closed };
}

// -- TLS -----------------------------------------------------------------------------------------

export type { TlsMaterial } from '../support/tls.js';

/** A self-signed certificate for localhost and 127.0.0.1, made once per process. */
export const tlsMaterial = selfSignedCertificate;

// -- environment ---------------------------------------------------------------------------------

/** Every proxy variable wskit reads, in both spellings. */
export const PROXY_VARIABLES = [
  'HTTP_PROXY',
  'http_proxy',
  'HTTPS_PROXY',
  'https_proxy',
  'NO_PROXY',
  'no_proxy',
] as const;

/** Saves `names` of `process.env`, deletes them, and returns a function that restores them. */
export function clearEnv(names: readonly string[]): () => void {
  const saved = new Map<string, string | undefined>();
  for (const name of names) {
    saved.set(name, process.env[name]);
    delete process.env[name];
  }
  return () => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

// -- reconnecting clients ------------------------------------------------------------------------

/** How many connections a server accepted so far. */
export interface AcceptCount {
  readonly count: number;
}

/**
 * Counts the connections `wss` accepts; `onConnection` gets each peer with its number (from 1),
 * to close it or answer it as the test needs.
 */
export function countConnections(
  wss: WebSocketServer<BinaryType>,
  onConnection: (peer: WebSocket, n: number) => void = () => {},
): AcceptCount {
  const accepted = { count: 0 };
  wss.on('connection', (peer: WebSocket) => {
    accepted.count++;
    onConnection(peer, accepted.count);
  });
  return accepted;
}

/** A client of `url` with `reconnect` options, terminated at the end of the test. */
export function reconnecting(
  scope: Scope,
  url: string,
  reconnect: NonNullable<WebSocketOptions['reconnect']>,
): WebSocket {
  return scope.track(new WebSocket(url, undefined, { reconnect }));
}
