import { Buffer } from 'node:buffer';
import { constants, deflateRawSync } from 'node:zlib';
import { WebSocketError } from '../errors.js';
import type { DeflateAgreement } from '../protocol/extensions/permessage-deflate.js';
import { frameHeaderSize, writeFrameHeader } from '../protocol/frame-header.js';
import { Opcode } from '../protocol/opcodes.js';
import { WebSocketProtocol } from '../protocol/websocket-protocol.js';
import type { Broker, BrokerNode } from './broker.js';
import type { PerMessageDeflateOptions } from './deflate/zlib-compressor.js';
import { nodePlatform } from './node-platform.js';
import { kConnection, type WebSocket } from './websocket.js';

/** Options of `WebSocketServer#publish`. */
export interface PublishOptions {
  /** Send as a binary message even when `data` is a string. */
  binary?: boolean;
  /** Skip this local socket (typically the sender). Sockets on other nodes all receive it. */
  except?: WebSocket;
}

/** A message as topics carry it: a string is a text message, bytes a binary one. */
export type TopicPayload = string | Uint8Array;

/** Longest topic name, in UTF-16 code units: names become Redis keys and log lines. */
export const MAX_TOPIC_LENGTH = 1024;

/** Throws a typed error unless `topic` is a usable topic name. */
export function checkTopic(topic: unknown): asserts topic is string {
  if (typeof topic !== 'string' || topic.length === 0 || topic.length > MAX_TOPIC_LENGTH) {
    throw new WebSocketError(
      'ERR_WS_INVALID_ARGUMENT',
      `a topic is a non-empty string of at most ${MAX_TOPIC_LENGTH} characters, got ${typeof topic === 'string' ? `${topic.length} characters` : typeof topic}`,
    );
  }
}

/** Turns what `publish` accepts into a text (string) or binary (bytes) payload. */
export function toTopicPayload(
  data: string | ArrayBufferLike | ArrayBufferView,
  binary = false,
  method = 'publish',
): TopicPayload {
  if (typeof data === 'string') return binary ? Buffer.from(data) : data;
  if (ArrayBuffer.isView(data))
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer || data instanceof SharedArrayBuffer) return new Uint8Array(data);
  throw new TypeError(`${method}() takes a string, an ArrayBuffer or a typed array`);
}

/** How one subscriber's messages are compressed (null: permessage-deflate not in use). */
type Deflate = { agreement: DeflateAgreement; threshold: number } | null;

/**
 * The topic -> sockets index of one server, and its publish fan-out. A message is framed once
 * and the same bytes are written to every subscriber; with permessage-deflate, sockets whose
 * agreement resets the server's context after each message (`server_no_context_takeover`)
 * share one compressed frame per window size, the others compress on their own (their
 * compressor's window holds earlier messages, so one shared output would not inflate).
 *
 * With a {@link Broker}, publishes also go to the other nodes, and the broker is told when this
 * node gains its first subscriber of a topic or loses its last, so that it only receives the
 * topics someone here listens to.
 */
export class Topics implements BrokerNode {
  readonly #subscribers = new Map<string, Set<WebSocket>>();
  readonly #topicsOf = new Map<WebSocket, Set<string>>();
  readonly #deflate = new WeakMap<WebSocket, Deflate>();
  readonly #broker: Broker | null;
  readonly #level: number;
  readonly #memLevel: number;
  #attached: Promise<void> | null = null;

  constructor(
    broker: Broker | null,
    deflateOptions: PerMessageDeflateOptions | null,
    readonly onGap: (topic: string, missed: number) => void,
    readonly onError: (error: Error) => void,
  ) {
    this.#broker = broker;
    this.#level = deflateOptions?.level ?? constants.Z_DEFAULT_COMPRESSION;
    this.#memLevel = deflateOptions?.memLevel ?? 8;
    if (broker) {
      this.#attached = broker.attach(this);
      // The error also reaches whoever awaits `ready()`; never an unhandled rejection.
      this.#attached.catch((error: unknown) =>
        this.onError(error instanceof Error ? error : new Error(String(error))),
      );
    }
  }

  /** Records how `ws` compresses what the server sends it (called once, when it is accepted). */
  adopt(ws: WebSocket, agreement: DeflateAgreement | null, threshold: number): void {
    if (agreement) this.#deflate.set(ws, { agreement, threshold });
  }

  /** Adds `ws` to `topic`; false if it was already subscribed. */
  subscribe(ws: WebSocket, topic: string): boolean {
    checkTopic(topic);
    if (ws.readyState > 1) return false;
    let sockets = this.#subscribers.get(topic);
    if (!sockets) {
      sockets = new Set();
      this.#subscribers.set(topic, sockets);
      this.#broker?.interest(this, topic, true);
    }
    if (sockets.has(ws)) return false;
    sockets.add(ws);
    let topics = this.#topicsOf.get(ws);
    if (!topics) {
      topics = new Set();
      this.#topicsOf.set(ws, topics);
    }
    topics.add(topic);
    return true;
  }

  /** Removes `ws` from `topic`; false if it was not subscribed. */
  unsubscribe(ws: WebSocket, topic: string): boolean {
    const topics = this.#topicsOf.get(ws);
    if (!topics?.delete(topic)) return false;
    if (topics.size === 0) this.#topicsOf.delete(ws);
    this.#leave(ws, topic);
    return true;
  }

  /** The topics `ws` is subscribed to. */
  topicsOf(ws: WebSocket): ReadonlySet<string> {
    return this.#topicsOf.get(ws) ?? EMPTY;
  }

  /** Removes a closed socket from all its topics (one function for every socket). */
  readonly drop = (ws: WebSocket): void => {
    const topics = this.#topicsOf.get(ws);
    if (!topics) return;
    this.#topicsOf.delete(ws);
    for (const topic of topics) this.#leave(ws, topic);
  };

  /** How many local sockets are subscribed to `topic`. */
  count(topic: string): number {
    return this.#subscribers.get(topic)?.size ?? 0;
  }

  /** Topics with at least one local subscriber. */
  names(): string[] {
    return [...this.#subscribers.keys()];
  }

  /**
   * Sends `payload` to the local subscribers of `topic` and hands it to the broker for the other
   * nodes. The broker may refuse (a typed error, thrown before anything is sent). Returns how
   * many local sockets it was written to.
   */
  publish(topic: string, payload: TopicPayload, except: WebSocket | undefined): number {
    checkTopic(topic);
    this.#broker?.publish(this, topic, payload);
    return this.#fanOut(topic, payload, except);
  }

  /** BrokerNode: a message another node published. */
  deliver(topic: string, payload: TopicPayload): void {
    this.#fanOut(topic, payload, undefined);
  }

  /** BrokerNode: messages of `topic` that could not be delivered to this node. */
  gap(topic: string, missed: number): void {
    this.onGap(topic, missed);
  }

  /** BrokerNode: the broker failed in a way the application should hear about. */
  error(error: Error): void {
    this.onError(error);
  }

  /** BrokerNode: topics with local subscribers (a broker re-registers them after reconnecting). */
  interests(): Iterable<string> {
    return this.#subscribers.keys();
  }

  /** Resolves once the broker is connected and has taken in every subscription made so far. */
  async ready(): Promise<void> {
    if (!this.#broker) return;
    await this.#attached;
    await this.#broker.settled(this);
  }

  /** Leaves the broker (which the server owns and so closes). */
  async close(): Promise<void> {
    const broker = this.#broker;
    if (!broker) return;
    await this.#attached?.catch(() => {});
    await broker.detach(this);
  }

  #leave(ws: WebSocket, topic: string): void {
    const sockets = this.#subscribers.get(topic);
    if (!sockets?.delete(ws) || sockets.size > 0) return;
    this.#subscribers.delete(topic);
    this.#broker?.interest(this, topic, false);
  }

  #fanOut(topic: string, payload: TopicPayload, except: WebSocket | undefined): number {
    const sockets = this.#subscribers.get(topic);
    if (!sockets) return 0;
    return this.send(sockets, payload, except ? (ws) => ws === except : null);
  }

  /**
   * Writes one message to each of `sockets` that `skip` does not rule out, framed once (and
   * compressed once per window size where the agreements allow it). Returns how many sockets it
   * was written to. `publish` and the server's `broadcast` both send through here.
   */
  send<S extends WebSocket>(
    sockets: Iterable<S>,
    payload: TopicPayload,
    skip: ((ws: S) => boolean) | null,
  ): number {
    const opcode = typeof payload === 'string' ? Opcode.Text : Opcode.Binary;
    let frame: Uint8Array | null = null;
    let bytes: Uint8Array | null = null;
    let compressed: Map<number, Uint8Array> | null = null;
    let count = 0;
    for (const ws of sockets) {
      if (skip?.(ws)) continue;
      const deflate = this.#deflate.get(ws);
      if (deflate) {
        bytes ??= typeof payload === 'string' ? Buffer.from(payload) : payload;
        if (bytes.length >= deflate.threshold) {
          if (!deflate.agreement.serverNoContextTakeover) {
            // Its compressor carries context from earlier messages: only it can compress.
            if (ws.readyState === 1) {
              ws.send(payload);
              count++;
            }
            continue;
          }
          const bits = deflate.agreement.serverMaxWindowBits;
          compressed ??= new Map();
          let shared = compressed.get(bits);
          if (!shared) {
            shared = this.#compressedFrame(opcode, bytes, bits);
            compressed.set(bits, shared);
          }
          if (ws[kConnection]?.sendRaw(shared, payload)) count++;
          continue;
        }
      }
      frame ??= WebSocketProtocol.encodeFrame(opcode, payload, nodePlatform);
      if (ws[kConnection]?.sendRaw(frame, payload)) count++;
    }
    return count;
  }

  /**
   * One compressed frame (RSV1 set) any socket whose agreement resets the server's context can
   * take. Synchronous on purpose: the frame must be queued on every socket before anything sent
   * after the publish, and one compression serves every subscriber.
   */
  #compressedFrame(opcode: number, bytes: Uint8Array, windowBits: number): Uint8Array {
    const out = deflateRawSync(bytes, {
      level: this.#level,
      memLevel: this.#memLevel,
      windowBits,
      finishFlush: constants.Z_SYNC_FLUSH,
    });
    // RFC 7692 section 7.2.1: the 0x00 0x00 0xff 0xff a sync flush ends with is removed.
    const length = out.length - 4;
    const frame = Buffer.allocUnsafe(frameHeaderSize(length, false) + length);
    const offset = writeFrameHeader(frame, 0, true, true, opcode, length, false);
    out.copy(frame, offset, 0, length);
    return frame;
  }
}

const EMPTY: ReadonlySet<string> = new Set();
