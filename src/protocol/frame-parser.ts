import { CloseCode } from './close-codes.js';
import { MAX_CONTROL_PAYLOAD } from './frame-header.js';
import { applyMask, type MaskKernel } from './mask.js';
import { Opcode } from './opcodes.js';
import type { Platform } from './platform.js';
import { EXPECT_MASKED, RSV1_ALLOWED, STOPPED } from './state-bits.js';

/** Receives what a {@link FrameParser} finds: messages and control frames, already unmasked. */
export interface FrameSink {
  /**
   * A whole data message: one unfragmented frame, or the fragments of a message joined (RFC 6455
   * section 5.4). `opcode` is Text or Binary; `compressed` is the first frame's RSV1.
   * `streamed`: every byte of it was handed to {@link onMessageData} first, as it arrived.
   */
  onMessage(opcode: number, compressed: boolean, payload: Uint8Array, streamed: boolean): void;
  /**
   * The next payload bytes of a data message still arriving (a frame cut by a chunk boundary, or
   * a fragment), unmasked, in order, as each chunk brings them: what lets text be validated
   * before the message is complete.
   */
  onMessageData(bytes: Uint8Array, opcode: number, compressed: boolean): void;
  /** A control frame (close, ping, pong). */
  onControl(opcode: number, payload: Uint8Array): void;
  /** The byte stream broke RFC 6455; the parser has stopped. */
  onFrameError(closeCode: number, message: string): void;
}

/** Options of a {@link FrameParser}. */
export interface FrameParserOptions {
  /** True on a server: client frames MUST be masked, server frames MUST NOT (RFC 6455 5.1). */
  expectMasked: boolean;
  /**
   * Largest message, in bytes, summed over its fragments; 0 for no limit. It also bounds the
   * memory held for a message still arriving, which is one buffer of at most this size.
   */
  maxPayload: number;
  platform: Platform;
}

/** Largest payload a single buffer can hold; longer messages are refused as too big. */
const MAX_BUFFER = 2 ** 32 - 1;
/** Longest frame head: 2 bytes, 8 of extended length, 4 of mask. */
const MAX_HEAD = 14;
/** A frame whose whole payload is announced up to this size gets its buffer at once. */
const RESERVE_LIMIT = 1024 * 1024;
/** Smallest buffer a message being assembled gets. */
const MIN_CAPACITY = 256;

/** The 4 mask bytes in the order that applies from the next payload byte on (shared scratch). */
const rotated = new Uint8Array(4);

/**
 * A data message being assembled: made when a message is fragmented or cut by a chunk boundary,
 * dropped when it completes, so a connection between messages holds none.
 */
class Assembly {
  /** The message's bytes so far, in a buffer that may be larger. */
  buffer: Uint8Array | null = null;
  used = 0;
  // The data frame whose payload is arriving.
  fin = false;
  masked = false;
  frameMask = 0;
  maskPhase = 0;
  payloadLeft = 0;

  constructor(
    readonly opcode: number,
    /** The first frame's RSV1 (RFC 7692 section 6). */
    readonly compressed: boolean,
  ) {}
}

/**
 * Turns a byte stream into messages and control frames (RFC 6455 section 5.2), handing them to
 * the methods a subclass implements. Works in place: an unfragmented frame that lies inside one
 * chunk is handed on as a view of that chunk, unmasked in place. Any other message (a frame cut
 * by a chunk boundary, or fragments) is assembled in one buffer per message, each chunk's payload
 * bytes unmasked as they are copied in: memory held is bounded by the message's bytes (and
 * `maxPayload`), never by its count of frames or chunks. Every header is checked before its
 * payload is taken, so an oversized or malformed frame costs nothing to refuse.
 *
 * It is the base of the engine (`WebSocketProtocol`), so that a connection is one object, and of
 * {@link FrameParser}. It takes ownership of the chunks it is given: it unmasks them in place.
 */
export abstract class FrameReader {
  protected readonly platform: Platform;
  /** Largest message in bytes, summed over its fragments; 0 for no limit. */
  protected readonly maxPayload: number;
  /** Booleans of this object and its subclasses, one bit each (state-bits.ts). */
  protected bits: number;
  /** Bytes of an incomplete head or control frame, waiting for the next chunk. */
  private leftover: Uint8Array | null = null;
  private assembly: Assembly | null = null;

  constructor(platform: Platform, maxPayload: number, expectMasked: boolean) {
    this.platform = platform;
    this.maxPayload = maxPayload;
    this.bits = expectMasked ? EXPECT_MASKED : 0;
  }

  /** A whole data message; see {@link FrameSink.onMessage}. */
  protected abstract onMessage(
    opcode: number,
    compressed: boolean,
    payload: Uint8Array,
    streamed: boolean,
  ): void;
  /** Payload bytes of a data message still arriving; see {@link FrameSink.onMessageData}. */
  protected abstract onMessageData(bytes: Uint8Array, opcode: number, compressed: boolean): void;
  /** A control frame (close, ping, pong). */
  protected abstract onControl(opcode: number, payload: Uint8Array): void;
  /** The byte stream broke RFC 6455; reading has stopped. */
  protected abstract onFrameError(closeCode: number, message: string): void;

  /** Whether state bit `bit` is set. */
  protected has(bit: number): boolean {
    return (this.bits & bit) !== 0;
  }

  /** Sets or clears state bit `bit`. */
  protected setBit(bit: number, on: boolean): void {
    this.bits = on ? this.bits | bit : this.bits & ~bit;
  }

  private get mask(): MaskKernel {
    return this.platform.mask ?? applyMask;
  }

  /** Stops reading for good: later bytes are ignored (RFC 6455 section 5.5.1: nothing after close). */
  protected stopReading(): void {
    this.bits |= STOPPED;
    this.leftover = null;
    this.assembly = null;
  }

  /** Bytes received and held that do not yet form a whole message or control frame. */
  protected get bytesHeld(): number {
    return (this.leftover?.length ?? 0) + (this.assembly?.used ?? 0);
  }

  /** Feeds received bytes; whole messages and control frames are handed on at once. */
  protected read(chunk: Uint8Array): void {
    if ((this.bits & STOPPED) !== 0 || chunk.length === 0) return;
    let offset = 0;
    const open = this.assembly;
    if (open !== null && open.payloadLeft > 0) {
      offset = this.take(open, chunk, 0);
      if ((this.bits & STOPPED) !== 0 || offset === chunk.length) return;
    }
    const leftover = this.leftover;
    if (leftover !== null) {
      // Only a head or a control frame is ever left over: at most 14 + 125 bytes are joined.
      this.leftover = null;
      const taken = Math.min(chunk.length - offset, MAX_HEAD + MAX_CONTROL_PAYLOAD);
      const joined = this.platform.concat(
        [leftover, chunk.subarray(offset, offset + taken)],
        leftover.length + taken,
      );
      const end = this.frame(joined, 0);
      if ((this.bits & STOPPED) !== 0) return;
      if (end < 0) {
        this.leftover = joined;
        return;
      }
      offset += end - leftover.length;
      const assembly = this.assembly;
      if (assembly !== null && assembly.payloadLeft > 0 && offset < chunk.length) {
        // The joined bytes ended inside a payload; the rest of it is in this chunk.
        offset = this.take(assembly, chunk, offset);
        if ((this.bits & STOPPED) !== 0) return;
      }
    }
    while (offset < chunk.length) {
      const end = this.frame(chunk, offset);
      if ((this.bits & STOPPED) !== 0) return;
      if (end < 0) {
        // A copy: a view would keep the whole chunk alive for these few bytes.
        this.leftover = this.platform.concat([chunk.subarray(offset)], chunk.length - offset);
        return;
      }
      offset = end;
    }
  }

  /**
   * Parses the frame at `offset`; returns where it (or the part of its payload that is here)
   * ends, or -1 when its head, or a control frame's payload, is not all here yet.
   */
  private frame(data: Uint8Array, offset: number): number {
    const length = data.length;
    if (length - offset < 2) return -1;
    const b0 = data[offset]!;
    const b1 = data[offset + 1]!;
    const masked = (b1 & 0x80) !== 0;
    const length7 = b1 & 0x7f;
    const headSize = 2 + (length7 === 126 ? 2 : length7 === 127 ? 8 : 0) + (masked ? 4 : 0);
    if (length - offset < headSize) return -1;
    if (!this.checkHeader(b0, masked, length7)) return -1;

    let o = offset + 2;
    let payloadLength: number;
    if (length7 < 126) {
      payloadLength = length7;
    } else if (length7 === 126) {
      payloadLength = (data[o]! << 8) | data[o + 1]!;
      o += 2;
    } else {
      const high =
        ((data[o]! << 24) | (data[o + 1]! << 16) | (data[o + 2]! << 8) | data[o + 3]!) >>> 0;
      // RFC 6455 section 5.2: the most significant bit of a 64-bit length MUST be 0.
      if (high >= 0x80000000) {
        this.refuse(CloseCode.ProtocolError, 'frame length has the most significant bit set');
        return -1;
      }
      const low =
        ((data[o + 4]! << 24) | (data[o + 5]! << 16) | (data[o + 6]! << 8) | data[o + 7]!) >>> 0;
      payloadLength = high * 0x100000000 + low;
      o += 8;
    }
    const opcode = b0 & 0x0f;
    const maskOffset = o;
    if (masked) o += 4;
    const fin = (b0 & 0x80) !== 0;

    if ((opcode & 0x8) !== 0) {
      if (length - o < payloadLength) return -1;
      const payload = data.subarray(o, o + payloadLength);
      if (masked) this.mask(payload, 0, payload, 0, payloadLength, data, maskOffset);
      this.onControl(opcode, payload);
      return o + payloadLength;
    }

    if (!this.checkLength(payloadLength)) return -1;
    const available = length - o;
    let assembly = this.assembly;
    if (fin && assembly === null && available >= payloadLength) {
      // The common case: a whole message in one frame inside this chunk, handed on in place.
      const payload = data.subarray(o, o + payloadLength);
      if (masked) this.mask(payload, 0, payload, 0, payloadLength, data, maskOffset);
      this.onMessage(opcode, (b0 & 0x40) !== 0, payload, false);
      return o + payloadLength;
    }

    if (assembly === null) {
      assembly = new Assembly(opcode, (b0 & 0x40) !== 0);
      this.assembly = assembly;
    }
    assembly.fin = fin;
    assembly.masked = masked;
    if (masked) {
      assembly.frameMask =
        (data[maskOffset]! << 24) |
        (data[maskOffset + 1]! << 16) |
        (data[maskOffset + 2]! << 8) |
        data[maskOffset + 3]!;
    }
    assembly.maskPhase = 0;
    assembly.payloadLeft = payloadLength;
    if (payloadLength === 0) {
      // An empty fragment costs nothing: no buffer until bytes arrive.
      this.endFrame(assembly);
      return o;
    }
    this.reserve(assembly, payloadLength, available);
    return this.take(assembly, data, o);
  }

  /** Makes room in the message buffer for the frame starting: `announced` bytes, `here` now. */
  private reserve(assembly: Assembly, announced: number, here: number): void {
    const used = assembly.used;
    const buffer = assembly.buffer;
    const capacity = buffer === null ? 0 : buffer.length;
    // A frame's announced length is trusted up to RESERVE_LIMIT; past it the buffer grows with
    // the bytes that really arrive, so a peer cannot make this side hold memory it did not send.
    const need = used + (announced <= RESERVE_LIMIT ? announced : Math.min(announced, here));
    if (need <= capacity) return;
    const limit = this.maxPayload > 0 ? this.maxPayload : MAX_BUFFER;
    const grown = Math.min(limit, Math.max(need, capacity * 2, MIN_CAPACITY));
    const next = this.platform.alloc(grown);
    if (buffer !== null && used > 0) next.set(buffer.subarray(0, used), 0);
    assembly.buffer = next;
  }

  /** Takes the current frame's payload bytes from `data` at `offset`; returns where it stopped. */
  private take(assembly: Assembly, data: Uint8Array, offset: number): number {
    const n = Math.min(assembly.payloadLeft, data.length - offset);
    if (n === 0) return offset;
    const used = assembly.used;
    if (assembly.buffer === null || assembly.buffer.length - used < n) this.reserve(assembly, n, n);
    const buffer = assembly.buffer!;
    if (assembly.masked) {
      const key = assembly.frameMask;
      const phase = assembly.maskPhase;
      // RFC 6455 section 5.3: byte i of the payload is masked by byte i mod 4 of the key.
      for (let i = 0; i < 4; i++) rotated[i] = (key >>> (24 - 8 * ((phase + i) & 3))) & 0xff;
      this.mask(data, offset, buffer, used, n, rotated, 0);
      assembly.maskPhase = (phase + n) & 3;
    } else {
      buffer.set(data.subarray(offset, offset + n), used);
    }
    assembly.used = used + n;
    assembly.payloadLeft -= n;
    this.onMessageData(buffer.subarray(used, used + n), assembly.opcode, assembly.compressed);
    if ((this.bits & STOPPED) === 0 && assembly.payloadLeft === 0) this.endFrame(assembly);
    return offset + n;
  }

  /** The current frame's payload is all here; a FIN frame completes the message. */
  private endFrame(assembly: Assembly): void {
    if (!assembly.fin) return;
    const buffer = assembly.buffer;
    const used = assembly.used;
    const payload =
      buffer === null
        ? new Uint8Array(0)
        : used === buffer.length
          ? buffer
          : buffer.subarray(0, used);
    this.assembly = null;
    this.onMessage(assembly.opcode, assembly.compressed, payload, true);
  }

  /** Checks the first two header bytes; on failure stops and reports. */
  private checkHeader(b0: number, masked: boolean, length7: number): boolean {
    const opcode = b0 & 0x0f;
    // RFC 6455 section 5.2: RSV bits MUST be 0 unless an extension defines them.
    if ((b0 & 0x30) !== 0) return this.refuse(CloseCode.ProtocolError, 'RSV2 or RSV3 is set');
    const rsv1 = (b0 & 0x40) !== 0;
    const fin = (b0 & 0x80) !== 0;
    if ((opcode & 0x8) !== 0) {
      if (opcode > Opcode.Pong)
        return this.refuse(
          CloseCode.ProtocolError,
          `reserved control opcode 0x${opcode.toString(16)}`,
        );
      // RFC 6455 section 5.5: control frames MUST NOT be fragmented and carry at most 125 bytes.
      if (!fin) return this.refuse(CloseCode.ProtocolError, 'fragmented control frame');
      if (length7 > MAX_CONTROL_PAYLOAD)
        return this.refuse(CloseCode.ProtocolError, 'control frame payload over 125 bytes');
      // RFC 7692 section 6.1: an extension's RSV1 never applies to control frames.
      if (rsv1) return this.refuse(CloseCode.ProtocolError, 'RSV1 is set on a control frame');
    } else if (opcode === Opcode.Continuation) {
      // RFC 6455 section 5.4: a continuation frame only continues an open fragmented message.
      if (this.assembly === null)
        return this.refuse(
          CloseCode.ProtocolError,
          'continuation frame with no message to continue',
        );
      if (rsv1) return this.refuse(CloseCode.ProtocolError, 'RSV1 is set on a continuation frame');
    } else if (opcode === Opcode.Text || opcode === Opcode.Binary) {
      if (this.assembly !== null)
        return this.refuse(
          CloseCode.ProtocolError,
          'new data frame while a fragmented message is open',
        );
      if (rsv1 && (this.bits & RSV1_ALLOWED) === 0)
        return this.refuse(CloseCode.ProtocolError, 'RSV1 is set but no extension was negotiated');
    } else {
      return this.refuse(CloseCode.ProtocolError, `reserved data opcode 0x${opcode.toString(16)}`);
    }
    // RFC 6455 section 5.1: a server MUST close on an unmasked frame, a client on a masked one.
    if (masked !== ((this.bits & EXPECT_MASKED) !== 0)) {
      return this.refuse(
        CloseCode.ProtocolError,
        masked ? 'server sent a masked frame' : 'client sent an unmasked frame',
      );
    }
    return true;
  }

  /** A data frame's length against what the message may still grow by. */
  private checkLength(payloadLength: number): boolean {
    const total = (this.assembly?.used ?? 0) + payloadLength;
    if ((this.maxPayload > 0 && total > this.maxPayload) || total > MAX_BUFFER) {
      return this.refuse(
        CloseCode.MessageTooBig,
        `message of at least ${total} bytes exceeds maxPayload of ${this.maxPayload} bytes`,
      );
    }
    return true;
  }

  private refuse(closeCode: number, message: string): false {
    this.stopReading();
    this.onFrameError(closeCode, message);
    return false;
  }
}

/**
 * A frame reader on its own, handing what it finds to a {@link FrameSink} (the engine is a
 * `FrameReader` itself and does not use one).
 */
export class FrameParser extends FrameReader {
  private readonly sink: FrameSink;

  constructor(options: FrameParserOptions, sink: FrameSink) {
    super(options.platform, options.maxPayload, options.expectMasked);
    this.sink = sink;
  }

  /** Set when a negotiated extension (permessage-deflate) gives meaning to RSV1. */
  get rsv1Allowed(): boolean {
    return this.has(RSV1_ALLOWED);
  }

  set rsv1Allowed(allowed: boolean) {
    this.setBit(RSV1_ALLOWED, allowed);
  }

  /** Stops parsing for good: later bytes are ignored (RFC 6455 section 5.5.1: nothing after close). */
  stop(): void {
    this.stopReading();
  }

  /** Parsing has stopped: after {@link stop} or a frame error. */
  get isStopped(): boolean {
    return this.has(STOPPED);
  }

  /** Bytes received and held that do not yet form a whole message or control frame. */
  get bufferedBytes(): number {
    return this.bytesHeld;
  }

  /** Feeds received bytes; whole messages and control frames go to the sink at once. */
  push(chunk: Uint8Array): void {
    this.read(chunk);
  }

  protected override onMessage(
    opcode: number,
    compressed: boolean,
    payload: Uint8Array,
    streamed: boolean,
  ): void {
    this.sink.onMessage(opcode, compressed, payload, streamed);
  }

  protected override onMessageData(bytes: Uint8Array, opcode: number, compressed: boolean): void {
    this.sink.onMessageData(bytes, opcode, compressed);
  }

  protected override onControl(opcode: number, payload: Uint8Array): void {
    this.sink.onControl(opcode, payload);
  }

  protected override onFrameError(closeCode: number, message: string): void {
    this.sink.onFrameError(closeCode, message);
  }
}
