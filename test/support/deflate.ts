/**
 * Helpers for the permessage-deflate suites: a raw frame builder and decoder, crafted deflate
 * payloads, a sink that links two engines in memory, an engine pair with an agreed
 * NodeDeflateCompressor on each end, and event-driven waits that are bounded in time.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { EventEmitter } from 'node:events';
import { constants, createDeflateRaw, type DeflateRaw, deflateRawSync } from 'node:zlib';
import type { ProtocolError } from '../../src/errors.js';
import {
  NodeDeflateCompressor,
  type PerMessageDeflateOptions,
} from '../../src/node/deflate/zlib-compressor.js';
import { nodePlatform } from '../../src/node/node-platform.js';
import {
  acceptDeflateOffer,
  acceptDeflateResponse,
  buildDeflateOffer,
  type DeflateAgreement,
} from '../../src/protocol/extensions/permessage-deflate.js';
import { type ProtocolSink, type Role, WebSocketProtocol } from '../../src/protocol/index.js';
import { type DecodedFrame, decodeFrames } from './frames.js';

/** Every test is bounded in time. */
export const T = { timeout: 20_000 } as const;

/** The tail a sync flush leaves, which permessage-deflate strips (RFC 7692 section 7.2.1). */
export const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

// -- frames: the raw frame builder and decoder of the engine tests ----------------------------

export { Op, peerFrame } from '../protocol/helpers.js';
export { type DecodedFrame, decodeFrames, type FrameSpec, frame } from './frames.js';

/** Code of a close frame's payload; undefined for an empty body. */
export function closeCodeOf(payload: Buffer): number | undefined {
  return payload.length >= 2 ? payload.readUInt16BE(0) : undefined;
}

// -- deflate payloads ----------------------------------------------------------------------------

/** Raw deflate of `data` ending with a sync flush, the 00 00 ff ff tail stripped. */
export function deflateMessage(data: Uint8Array | string, windowBits = 15): Buffer {
  const input = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const out = deflateRawSync(input, { finishFlush: constants.Z_SYNC_FLUSH, windowBits });
  assert.ok(out.subarray(-4).equals(TAIL), 'a sync flush ends with 00 00 ff ff');
  return out.subarray(0, out.length - 4);
}

/** A streaming deflater whose messages share one LZ77 window (context takeover). */
export class SharedDeflater {
  private readonly stream: DeflateRaw = createDeflateRaw();

  /** One message: its compressed bytes, tail stripped. */
  async message(data: Uint8Array | string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    const onData = (chunk: Buffer) => chunks.push(chunk);
    this.stream.on('data', onData);
    this.stream.write(typeof data === 'string' ? Buffer.from(data) : data);
    await new Promise<void>((resolve) => this.stream.flush(constants.Z_SYNC_FLUSH, resolve));
    this.stream.off('data', onData);
    const out = Buffer.concat(chunks);
    assert.ok(out.subarray(-4).equals(TAIL));
    return out.subarray(0, out.length - 4);
  }

  close(): void {
    this.stream.close();
  }
}

/** Text that compresses well: JSON-like records. */
export function jsonLikeText(minBytes: number): string {
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < minBytes; i++) {
    const item = JSON.stringify({
      id: i,
      name: `user-${i % 97}`,
      email: `user${i % 97}@example.com`,
      tags: ['alpha', 'beta', 'gamma'].slice(0, (i % 3) + 1),
      active: i % 2 === 0,
      note: i % 5 === 0 ? 'café – naïve – 日本語 – 😀' : 'plain ascii note',
    });
    parts.push(item);
    size += Buffer.byteLength(item) + 1;
  }
  return `[${parts.join(',')}]`;
}

// -- agreement and engines -----------------------------------------------------------------------

export interface Agreed {
  offer: string;
  response: string;
  client: DeflateAgreement;
  server: DeflateAgreement;
}

/** Runs the negotiation both ways, as the Node client and server would. */
export function negotiate(
  clientOptions: PerMessageDeflateOptions = {},
  serverOptions: PerMessageDeflateOptions = {},
): Agreed {
  const offer = buildDeflateOffer(clientOptions);
  const accepted = acceptDeflateOffer(offer, serverOptions);
  assert.ok(accepted, `the server declined the offer "${offer}"`);
  const client = acceptDeflateResponse(accepted.response, clientOptions);
  return { offer, response: accepted.response, client, server: accepted.agreement };
}

export type SinkEvent =
  | { type: 'message'; data: Buffer; binary: boolean }
  | { type: 'ping'; data: Buffer }
  | { type: 'pong'; data: Buffer }
  | { type: 'close'; code: number; reason: string }
  | { type: 'error'; closeCode: number; code: string; message: string };

/**
 * Records what an engine writes and reports. When linked to a peer engine, every written chunk
 * is also delivered to it (a copy, in order, asynchronously, like a socket would).
 */
export class LinkSink implements ProtocolSink {
  readonly events: SinkEvent[] = [];
  readonly errors: ProtocolError[] = [];
  readonly chunks: Buffer[] = [];
  pauses = 0;
  resumes = 0;
  idleCalls = 0;
  peer: WebSocketProtocol | null = null;
  private readonly changes = new EventEmitter();
  private readonly outbox: Buffer[] = [];
  private delivering = false;

  write(data: Uint8Array): void {
    this.record(Buffer.from(data));
  }

  writePair(header: Uint8Array, payload: Uint8Array): void {
    this.record(Buffer.concat([header, payload]));
  }

  private record(chunk: Buffer): void {
    this.chunks.push(chunk);
    if (this.peer) {
      this.outbox.push(Buffer.from(chunk));
      if (!this.delivering) {
        this.delivering = true;
        setImmediate(() => this.deliver());
      }
    }
    this.changed();
  }

  private deliver(): void {
    this.delivering = false;
    const peer = this.peer;
    for (const chunk of this.outbox.splice(0)) peer?.receive(chunk);
  }

  onMessage(data: Uint8Array, binary: boolean): void {
    this.events.push({ type: 'message', data: Buffer.from(data), binary });
    this.changed();
  }

  onPing(payload: Uint8Array): void {
    this.events.push({ type: 'ping', data: Buffer.from(payload) });
    this.changed();
  }

  onPong(payload: Uint8Array): void {
    this.events.push({ type: 'pong', data: Buffer.from(payload) });
    this.changed();
  }

  onClose(code: number, reason: string): void {
    this.events.push({ type: 'close', code, reason });
    this.changed();
  }

  onError(error: ProtocolError): void {
    this.errors.push(error);
    this.events.push({
      type: 'error',
      closeCode: error.closeCode,
      code: error.code,
      message: error.message,
    });
    this.changed();
  }

  pause(): void {
    this.pauses++;
    this.changed();
  }

  resume(): void {
    this.resumes++;
    this.changed();
  }

  onIdle(): void {
    this.idleCalls++;
    this.changed();
  }

  /** Everything written so far, as frames. */
  frames(): DecodedFrame[] {
    return decodeFrames(Buffer.concat(this.chunks));
  }

  messages(): Array<{ data: Buffer; binary: boolean }> {
    const out: Array<{ data: Buffer; binary: boolean }> = [];
    for (const e of this.events) if (e.type === 'message') out.push(e);
    return out;
  }

  /**
   * Resolves once `predicate` holds; checked now and after every write or event. Rejects after
   * `ms`, or as soon as the engine reports an error unless `allowError` is set.
   */
  until(
    predicate: () => boolean,
    what: string,
    { ms = 10_000, allowError = false }: { ms?: number; allowError?: boolean } = {},
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        if (predicate()) {
          done();
          resolve();
          return true;
        }
        if (!allowError && this.errors.length > 0) {
          done();
          reject(new Error(`engine failed while waiting for ${what}: ${this.errors[0]!.message}`));
          return true;
        }
        return false;
      };
      const onChange = () => {
        check();
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out waiting for ${what}; events: ${describeEvents(this.events)}`));
      }, ms);
      const done = () => {
        clearTimeout(timer);
        this.changes.off('change', onChange);
      };
      this.changes.on('change', onChange);
      check();
    });
  }

  /** Waits for `count` frames written in total. */
  untilFrames(count: number, ms?: number): Promise<void> {
    return this.until(() => this.frameCount() >= count, `${count} written frames`, {
      allowError: true,
      ...(ms !== undefined ? { ms } : {}),
    });
  }

  /** Waits for `count` messages. */
  untilMessages(count: number, ms?: number): Promise<void> {
    return this.until(() => this.messages().length >= count, `${count} messages`, {
      ...(ms !== undefined ? { ms } : {}),
    });
  }

  /** Waits for the engine to report an error. */
  untilError(ms?: number): Promise<void> {
    return this.until(() => this.errors.length > 0, 'an error', {
      allowError: true,
      ...(ms !== undefined ? { ms } : {}),
    });
  }

  /** Waits for `count` events in total. */
  untilEvents(count: number, ms?: number): Promise<void> {
    return this.until(() => this.events.length >= count, `${count} events`, {
      allowError: true,
      ...(ms !== undefined ? { ms } : {}),
    });
  }

  private frameCount(): number {
    try {
      return this.frames().length;
    } catch {
      return 0;
    }
  }

  private changed(): void {
    this.changes.emit('change');
  }
}

export function describeEvents(events: readonly SinkEvent[]): string {
  return JSON.stringify(
    events.map((e) =>
      e.type === 'message'
        ? { type: e.type, binary: e.binary, bytes: e.data.length }
        : e.type === 'ping' || e.type === 'pong'
          ? { type: e.type, bytes: e.data.length }
          : e,
    ),
  );
}

export interface Side {
  ws: WebSocketProtocol;
  sink: LinkSink;
  compressor: NodeDeflateCompressor | null;
}

/** One engine; with `agreement` it gets a NodeDeflateCompressor, without it no extension. */
export function createSide(
  role: Role,
  agreement: DeflateAgreement | null,
  options: PerMessageDeflateOptions = {},
  maxPayload?: number,
): Side {
  const sink = new LinkSink();
  const compressor = agreement ? new NodeDeflateCompressor(agreement, role, options) : null;
  const ws = new WebSocketProtocol(
    {
      role,
      platform: nodePlatform,
      ...(maxPayload !== undefined ? { maxPayload } : {}),
      ...(compressor ? { compressor } : {}),
    },
    sink,
  );
  return { ws, sink, compressor };
}

export interface Pair {
  agreed: Agreed;
  client: Side;
  server: Side;
  close(): void;
}

/**
 * A client-role and a server-role engine with an agreed permessage-deflate, each end's writes
 * delivered to the other.
 */
export function createPair(
  options: {
    client?: PerMessageDeflateOptions;
    server?: PerMessageDeflateOptions;
    maxPayload?: number;
  } = {},
): Pair {
  const agreed = negotiate(options.client, options.server);
  const client = createSide('client', agreed.client, options.client, options.maxPayload);
  const server = createSide('server', agreed.server, options.server, options.maxPayload);
  client.sink.peer = server.ws;
  server.sink.peer = client.ws;
  return {
    agreed,
    client,
    server,
    close() {
      client.compressor?.close();
      server.compressor?.close();
    },
  };
}
