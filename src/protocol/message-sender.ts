import type { WebSocketErrorCode } from '../errors.js';
import { CloseCode } from './close-codes.js';
import type { MessageCompressor } from './extensions/message-compressor.js';
import { frameHeaderSize, MAX_CONTROL_PAYLOAD, writeFrameHeader } from './frame-header.js';
import { FrameReader } from './frame-parser.js';
import { applyMask, type MaskKernel, MaskKeyPool } from './mask.js';
import { Opcode } from './opcodes.js';
import { type Platform, portablePlatform } from './platform.js';
import type { ProtocolSink } from './protocol-options.js';
import {
  CLOSE_PENDING,
  CLOSE_SENT,
  COMPRESSING,
  EXPECT_MASKED,
  FAILED,
  SENDING_FRAGMENTED,
} from './state-bits.js';

/**
 * Unmasked payloads up to this size are copied behind their header: one buffer, one write. Past
 * it the header and the payload go out as a pair, as `ws` writes them: a frame buffer that size
 * is a heap allocation of its own on Node (only buffers under 4 KiB come from a shared pool),
 * which costs more than a second buffer in the same `writev`.
 */
const COPY_LIMIT = 4 * 1024;
/** Marks a queued pre-encoded frame (not an opcode). */
const RAW = -1;
const EMPTY = new Uint8Array(0);

/** An outgoing frame held back behind a compression, to keep order. */
interface OutboundFrame {
  opcode: number;
  data: Uint8Array | string;
  fin: boolean;
  compress: boolean;
  /** For close frames: the code and the reason. */
  closeCode?: number | undefined;
  closeReason?: string;
}

/**
 * Queued data must not change if the caller reuses its buffer after `send()` returns. Through
 * Uint8Array's own `slice`: a Node Buffer's `slice` is a view of the same memory, not a copy.
 */
function ownCopy(data: Uint8Array | string): Uint8Array | string {
  return typeof data === 'string' ? data : Uint8Array.prototype.slice.call(data);
}

/**
 * The engine's outgoing side: builds frames (masked with fresh keys on a client, RFC 6455 section
 * 5.3), and keeps them in order behind messages being compressed. A layer of
 * `WebSocketProtocol`, which is one object per connection.
 */
export abstract class MessageSender extends FrameReader {
  protected readonly sink: ProtocolSink;
  protected readonly compressor: MessageCompressor | null;
  /** Frames waiting behind a compression; null when everything has reached the sink. */
  protected outQueue: OutboundFrame[] | null = null;

  constructor(
    platform: Platform,
    maxPayload: number,
    expectMasked: boolean,
    sink: ProtocolSink,
    compressor: MessageCompressor | null,
  ) {
    super(platform, maxPayload, expectMasked);
    this.sink = sink;
    this.compressor = compressor;
  }

  /** Fails the connection (implemented by the receiving side, which owns the failure rules). */
  protected abstract fail(closeCode: number, message: string, code?: WebSocketErrorCode): void;

  /** No outgoing frame is held back behind a compression: everything has reached the sink. */
  get idle(): boolean {
    return this.outQueue === null;
  }

  /** Whether a fragmented message is being sent; whole messages must wait for its end. */
  get fragmentedSendOpen(): boolean {
    return this.has(SENDING_FRAGMENTED);
  }

  /**
   * Sends a whole text message. Returns false (and sends nothing) once close has been sent.
   * `compress: false` sends it uncompressed even past the compressor's threshold.
   */
  sendText(text: string | Uint8Array, compress = true): boolean {
    return this.sendData(Opcode.Text, text, compress);
  }

  /** Sends a whole binary message; see {@link sendText}. */
  sendBinary(data: Uint8Array | string, compress = true): boolean {
    return this.sendData(Opcode.Binary, data, compress);
  }

  /**
   * Sends one fragment of a message (RFC 6455 section 5.4): the first call opens a text or
   * binary message, the following ones continue it, and `fin` ends it.
   */
  sendFragment(data: Uint8Array | string, binary: boolean, fin: boolean): boolean {
    if (this.has(CLOSE_SENT)) return false;
    const opcode = this.has(SENDING_FRAGMENTED)
      ? Opcode.Continuation
      : binary
        ? Opcode.Binary
        : Opcode.Text;
    this.setBit(SENDING_FRAGMENTED, !fin);
    if (this.outQueue !== null)
      this.outQueue.push({ opcode, data: ownCopy(data), fin, compress: false });
    else this.writeFrame(opcode, data, fin, false);
    return true;
  }

  /** Sends a ping; `payload` is at most 125 bytes. */
  ping(payload: Uint8Array | string = EMPTY): boolean {
    return this.sendControl(Opcode.Ping, payload);
  }

  /** Sends an unsolicited pong (RFC 6455 section 5.5.3 allows it as a heartbeat). */
  pong(payload: Uint8Array | string = EMPTY): boolean {
    return this.sendControl(Opcode.Pong, payload);
  }

  /**
   * Encodes one unmasked frame: what a server writes to many clients when it broadcasts,
   * so the frame is built once and written to each (see {@link sendRaw}).
   */
  static encodeFrame(
    opcode: number,
    payload: Uint8Array | string,
    platform: Platform = portablePlatform,
  ): Uint8Array {
    const isText = typeof payload === 'string';
    const length = isText ? platform.byteLength(payload) : payload.length;
    const out = platform.alloc(frameHeaderSize(length, false) + length);
    const o = writeFrameHeader(out, 0, true, false, opcode, length, false);
    if (isText) platform.encodeInto(payload, out, o, length);
    else out.set(payload, o);
    return out;
  }

  /** Writes a whole frame from {@link encodeFrame}; only for servers, whose frames are unmasked. */
  sendRaw(frame: Uint8Array): boolean {
    if (this.has(CLOSE_SENT)) return false;
    if (!this.has(EXPECT_MASKED))
      throw new TypeError('only a server sends pre-encoded (unmasked) frames');
    if (this.has(SENDING_FRAGMENTED))
      throw new TypeError('a fragmented message is being sent; finish it first');
    if (this.outQueue !== null)
      this.outQueue.push({ opcode: RAW, data: frame, fin: true, compress: false });
    else this.sink.write(frame);
    return true;
  }

  /** Writes a close frame now, or queues it behind messages still being compressed. */
  protected sendClose(code: number | undefined, reason: string, reasonLength: number): void {
    if (this.outQueue === null) {
      this.writeClose(code, reason, reasonLength);
      return;
    }
    this.bits |= CLOSE_SENT | CLOSE_PENDING;
    this.outQueue.push({
      opcode: Opcode.Close,
      data: EMPTY,
      fin: true,
      compress: false,
      closeCode: code,
      closeReason: reason,
    });
  }

  /** Writes a close frame: no body without a code, else the code and the reason's bytes. */
  protected writeClose(code: number | undefined, reason: string, reasonLength: number): void {
    this.bits = (this.bits | CLOSE_SENT) & ~CLOSE_PENDING;
    if (code === undefined) {
      this.writeFrame(Opcode.Close, EMPTY, true, false);
      return;
    }
    const body = this.platform.alloc(2 + reasonLength);
    body[0] = code >>> 8;
    body[1] = code & 0xff;
    if (reasonLength > 0) this.platform.encodeInto(reason, body, 2);
    this.writeFrame(Opcode.Close, body, true, false);
  }

  /** Builds one frame (masked on a client) and hands it to the sink. */
  protected writeFrame(
    opcode: number,
    payload: Uint8Array | string,
    fin: boolean,
    rsv1: boolean,
  ): void {
    const isText = typeof payload === 'string';
    const length = isText ? this.platform.byteLength(payload) : payload.length;
    const masked = (this.bits & EXPECT_MASKED) === 0;
    const headerSize = frameHeaderSize(length, masked);
    if (!masked && !isText && length > COPY_LIMIT) {
      const header = this.platform.alloc(headerSize);
      writeFrameHeader(header, 0, fin, rsv1, opcode, length, false);
      this.sink.writePair(header, payload);
      return;
    }
    const out = this.platform.alloc(headerSize + length);
    const o = writeFrameHeader(out, 0, fin, rsv1, opcode, length, masked);
    if (masked) {
      // RFC 6455 section 5.3: every client frame is masked with a fresh unpredictable key.
      MaskKeyPool.for(this.platform).next(out, o - 4);
      const mask: MaskKernel = this.platform.mask ?? applyMask;
      if (isText) {
        this.platform.encodeInto(payload, out, o, length);
        mask(out, o, out, o, length, out, o - 4);
      } else {
        mask(payload, 0, out, o, length, out, o - 4);
      }
    } else if (isText) {
      this.platform.encodeInto(payload, out, o, length);
    } else {
      out.set(payload, o);
    }
    this.sink.write(out);
  }

  private sendData(opcode: number, data: Uint8Array | string, allowCompression: boolean): boolean {
    if (this.has(CLOSE_SENT)) return false;
    if (this.has(SENDING_FRAGMENTED))
      throw new TypeError('a fragmented message is being sent; finish it first');
    const fin = true;
    const compressor = this.compressor;
    if (compressor !== null) {
      const compress = allowCompression && this.byteLengthAtLeast(data, compressor.threshold);
      if (compress || this.outQueue !== null) {
        // Compression is asynchronous: this message and everything after it wait in order.
        const queue = this.outQueue ?? [];
        const first = this.outQueue === null;
        this.outQueue = queue;
        queue.push({ opcode, data: ownCopy(data), fin, compress });
        if (first) this.pump();
        return true;
      }
    }
    this.writeFrame(opcode, data, fin, false);
    return true;
  }

  private sendControl(opcode: number, payload: Uint8Array | string): boolean {
    if (this.has(CLOSE_SENT)) return false;
    const length = typeof payload === 'string' ? this.platform.byteLength(payload) : payload.length;
    if (length > MAX_CONTROL_PAYLOAD)
      throw new RangeError(`control frame payload is ${length} bytes; at most 125 are allowed`);
    this.writeFrame(opcode, payload, true, false);
    return true;
  }

  /** Whether `data` has at least `bytes` bytes (UTF-8 for text), measuring only when needed. */
  private byteLengthAtLeast(data: Uint8Array | string, bytes: number): boolean {
    if (typeof data !== 'string') return data.length >= bytes;
    // A UTF-16 unit is 1 to 3 UTF-8 bytes.
    if (data.length >= bytes) return true;
    if (data.length * 3 < bytes) return false;
    return this.platform.byteLength(data) >= bytes;
  }

  /** Writes queued frames in order until one needs the compressor. */
  private pump(): void {
    const queue = this.outQueue;
    while (queue !== null && queue.length > 0 && !this.has(FAILED)) {
      const item = queue[0]!;
      if (item.compress) {
        if (this.has(COMPRESSING)) return;
        this.bits |= COMPRESSING;
        const bytes = typeof item.data === 'string' ? this.encodeText(item.data) : item.data;
        this.compressor!.compress(bytes, (error, result) => {
          this.bits &= ~COMPRESSING;
          if (this.has(FAILED) || this.outQueue !== queue) return;
          queue.shift();
          if (error || !result) {
            this.fail(
              CloseCode.InternalError,
              `compression failed: ${error?.message ?? 'no output'}`,
            );
            return;
          }
          this.writeFrame(item.opcode, result, true, true);
          this.pump();
        });
        return;
      }
      queue.shift();
      if (item.opcode === RAW) {
        this.sink.write(item.data as Uint8Array);
      } else if (item.opcode === Opcode.Close) {
        const reason = item.closeReason ?? '';
        this.writeClose(
          item.closeCode,
          reason,
          reason === '' ? 0 : this.platform.byteLength(reason),
        );
      } else {
        this.writeFrame(item.opcode, item.data, item.fin, false);
      }
    }
    if (this.outQueue === queue) {
      this.outQueue = null;
      this.sink.onIdle?.();
    }
  }

  private encodeText(text: string): Uint8Array {
    const length = this.platform.byteLength(text);
    const out = this.platform.alloc(length);
    this.platform.encodeInto(text, out, 0, length);
    return out;
  }
}
