/**
 * Test helpers for the sans-I/O engine: the shipped platforms, a recording sink, frames as the
 * peer of an engine sends them, feeding in pieces, and arbitraries. The frame codec is
 * test/support/frames.ts and the failure assertion test/support/assert-failed.ts.
 */
import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import type { ProtocolError } from '../../src/errors.js';
import { nodePlatform } from '../../src/node/node-platform.js';
import {
  type Platform,
  type ProtocolSink,
  portablePlatform,
  type Role,
  WebSocketProtocol,
} from '../../src/protocol/index.js';
import { type DecodedFrame, decodeFrames, type FrameSpec, frame } from '../support/frames.js';

/** Both platforms, for suites that must hold on each. */
export const platforms: ReadonlyArray<readonly [string, Platform]> = [
  ['node', nodePlatform],
  ['portable', portablePlatform],
];

export const Op = {
  Continuation: 0x0,
  Text: 0x1,
  Binary: 0x2,
  Close: 0x8,
  Ping: 0x9,
  Pong: 0xa,
} as const;

// -- recording sink ------------------------------------------------------------------------------

export type ProtocolEvent =
  | { type: 'message'; data: Buffer | string; binary: boolean }
  | { type: 'ping'; data: Buffer }
  | { type: 'pong'; data: Buffer }
  | { type: 'close'; code: number; reason: string }
  | { type: 'error'; closeCode: number; code: string };

/** Collects everything the engine writes (concatenated) and every event, in order. */
export class RecordingSink implements ProtocolSink {
  readonly events: ProtocolEvent[] = [];
  readonly errors: ProtocolError[] = [];
  private readonly chunks: Buffer[] = [];
  /** How many times write or writePair was called. */
  writeCalls = 0;

  write(data: Uint8Array): void {
    this.writeCalls++;
    this.chunks.push(Buffer.from(data));
  }

  writePair(header: Uint8Array, payload: Uint8Array): void {
    this.writeCalls++;
    this.chunks.push(Buffer.from(header), Buffer.from(payload));
  }

  onMessage(data: Uint8Array, binary: boolean): void {
    const copy = Buffer.from(data);
    this.events.push({ type: 'message', data: binary ? copy : copy.toString('utf8'), binary });
  }

  onPing(payload: Uint8Array): void {
    this.events.push({ type: 'ping', data: Buffer.from(payload) });
  }

  onPong(payload: Uint8Array): void {
    this.events.push({ type: 'pong', data: Buffer.from(payload) });
  }

  onClose(code: number, reason: string): void {
    this.events.push({ type: 'close', code, reason });
  }

  onError(error: ProtocolError): void {
    this.errors.push(error);
    this.events.push({ type: 'error', closeCode: error.closeCode, code: error.code });
  }

  /** All bytes written so far. */
  get written(): Buffer {
    return Buffer.concat(this.chunks);
  }

  /** The frames written so far, decoded. */
  frames(): DecodedFrame[] {
    return decodeFrames(this.written);
  }

  /** Forgets what was written (events are kept). */
  clearWritten(): void {
    this.chunks.length = 0;
  }
}

export interface Engine {
  ws: WebSocketProtocol;
  sink: RecordingSink;
}

export function createEngine(
  role: Role,
  options: { maxPayload?: number; platform?: Platform } = {},
): Engine {
  const sink = new RecordingSink();
  const ws = new WebSocketProtocol(
    {
      role,
      ...(options.maxPayload === undefined ? {} : { maxPayload: options.maxPayload }),
      platform: options.platform ?? nodePlatform,
    },
    sink,
  );
  return { ws, sink };
}

/** The role of the other end. */
export function peerOf(role: Role): Role {
  return role === 'server' ? 'client' : 'server';
}

/** A frame as the peer of an engine playing `role` sends it: masked iff the engine is a server. */
export function peerFrame(role: Role, spec: FrameSpec): Buffer {
  return frame({ ...spec, mask: spec.mask ?? role === 'server' });
}

// -- feeding -------------------------------------------------------------------------------------

/** Feeds `bytes` cut at the given offsets (copies, since the engine unmasks in place). */
export function feedCut(ws: WebSocketProtocol, bytes: Uint8Array, cuts: readonly number[]): void {
  const points = [...new Set(cuts)].filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b);
  let start = 0;
  for (const point of [...points, bytes.length]) {
    ws.receive(Uint8Array.prototype.slice.call(bytes, start, point));
    start = point;
  }
}

/** Feeds `bytes` one byte at a time. */
export function feedBytewise(ws: WebSocketProtocol, bytes: Uint8Array): void {
  for (let i = 0; i < bytes.length; i++) ws.receive(Uint8Array.of(bytes[i]!));
}

/** Messages only, from a list of events. */
export function messages(events: readonly ProtocolEvent[]): ProtocolEvent[] {
  return events.filter((e) => e.type === 'message');
}

// -- arbitraries ---------------------------------------------------------------------------------

/**
 * One Unicode scalar value (no lone surrogates), spread evenly over the 1-, 2-, 3- and 4-byte
 * UTF-8 lengths. (fast-check's own 'binary' unit spends a second building a table on first use.)
 */
export const scalarValue: fc.Arbitrary<string> = fc
  .oneof(
    fc.integer({ min: 0, max: 0x7f }),
    fc.integer({ min: 0x80, max: 0x7ff }),
    fc.integer({ min: 0x800, max: 0xffff - 0x800 }).map((n) => (n >= 0xd800 ? n + 0x800 : n)),
    fc.integer({ min: 0x10000, max: 0x10ffff }),
  )
  .map((cp) => String.fromCodePoint(cp));

/** Text of arbitrary Unicode scalar values. */
export function unicodeString(maxLength: number): fc.Arbitrary<string> {
  return fc.string({ unit: scalarValue, maxLength });
}
