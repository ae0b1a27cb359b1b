/**
 * Helpers for the Node integration tests: recording a socket's events, collecting messages, and
 * the frame encoder and close parser of the raw-peer tests. Servers, scopes and raw TCP peers are
 * in test/support/.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import {
  type CloseEvent,
  type ErrorEvent,
  type MessageEvent,
  ProtocolError,
  type WebSocket,
  type WebSocketEvent,
  type WebSocketOptions,
} from '../../src/index.js';
import { frame } from '../support/frames.js';
import type { ByteReader, RawServer } from '../support/raw-peers.js';
import type { Scope } from '../support/scope.js';
import { WAIT_MS } from '../support/timeouts.js';
import { nextEvent } from '../support/waits.js';

/** What happened to a socket, in order: event types, and the events themselves. */
export interface EventLog {
  readonly types: string[];
  readonly events: WebSocketEvent[];
  /** The first event of `type`, or undefined. */
  first<E extends WebSocketEvent = WebSocketEvent>(type: string): E | undefined;
}

/** Records every open, message, error, close, ping and pong event of `ws`. */
export function recordEvents(ws: WebSocket): EventLog {
  const types: string[] = [];
  const events: WebSocketEvent[] = [];
  for (const type of ['open', 'message', 'error', 'close', 'ping', 'pong']) {
    ws.addEventListener(type, (event: WebSocketEvent) => {
      types.push(type);
      events.push(event);
    });
  }
  return {
    types,
    events,
    first<E extends WebSocketEvent = WebSocketEvent>(type: string): E | undefined {
      return events.find((e) => e.type === type) as E | undefined;
    },
  };
}

/** Collects `count` messages of `ws`, resolving with their data in order. */
export function collectMessages(ws: WebSocket, count: number, ms = WAIT_MS): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const data: unknown[] = [];
    const listener = (event: MessageEvent) => {
      data.push(event.data);
      if (data.length === count) {
        clearTimeout(timer);
        ws.removeEventListener('message', listener);
        resolve(data);
      }
    };
    const timer = setTimeout(() => {
      ws.removeEventListener('message', listener);
      reject(new Error(`timed out after ${ms} ms: got ${data.length} of ${count} messages`));
    }, ms);
    ws.addEventListener('message', listener);
  });
}

// -- frame bytes ---------------------------------------------------------------------------------

export interface FrameOptions {
  fin?: boolean;
  rsv?: number;
  /** Mask with this key, or with a random key when true. */
  mask?: boolean | Uint8Array;
}

/** Encodes one WebSocket frame; can build any (also invalid) combination of bits. */
export function encodeFrame(
  opcode: number,
  payload: string | Uint8Array = Buffer.alloc(0),
  options: FrameOptions = {},
): Buffer {
  const rsv = options.rsv ?? 0;
  return frame({
    opcode,
    payload,
    fin: options.fin ?? true,
    rsv1: (rsv & 4) !== 0,
    rsv2: (rsv & 2) !== 0,
    rsv3: (rsv & 1) !== 0,
    mask: options.mask ?? false,
  });
}

/** The code and reason of a close frame's payload (1005 and "" when it is empty). */
export function parseClose(payload: Buffer): { code: number; reason: string } {
  if (payload.length < 2) return { code: 1005, reason: '' };
  return { code: payload.readUInt16BE(0), reason: payload.subarray(2).toString() };
}

/** A small deterministic PRNG (mulberry32), so that random inputs can be reproduced. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A client opened against a raw TCP server that answered its upgrade with a valid 101: the
 * client, the log of its events since before it opened, and the server's end of the connection.
 */
export async function openRaw(
  env: Scope,
  protocols?: string | string[],
  options?: WebSocketOptions,
): Promise<{ raw: RawServer; ws: WebSocket; log: EventLog; conn: ByteReader }> {
  const raw = await env.rawServer();
  const ws = env.client(raw.url, protocols, options);
  const log = recordEvents(ws);
  const { conn } = await raw.acceptUpgrade();
  await nextEvent(ws, 'open');
  return { raw, ws, log, conn };
}

/**
 * Asserts a client failed the connection itself: its error event carried a ProtocolError with
 * `closeCode` and `code`, and the close event that followed was 1006, not clean (the peer never
 * answered the close frame, RFC 6455 section 7.1.5).
 */
export function assertClientFailed(
  log: EventLog,
  event: CloseEvent,
  closeCode: number,
  code: string,
): void {
  const error = log.first<ErrorEvent>('error')?.error;
  assert.ok(error instanceof ProtocolError, `expected a ProtocolError, got ${String(error)}`);
  assert.equal(error.closeCode, closeCode);
  assert.equal(error.code, code);
  assert.equal(event.code, 1006);
  assert.equal(event.wasClean, false);
}
