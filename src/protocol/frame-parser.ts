import { CloseCode } from './close-codes.js';
import { MAX_CONTROL_PAYLOAD } from './frame-header.js';
import { applyMask, type MaskKernel } from './mask.js';
import { Opcode } from './opcodes.js';
import type { Platform } from './platform.js';

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

// Booleans of a parser, packed in one field: an idle connection's parser is as small as it can be.
const EXPECT_MASKED = 1;
const RSV1_ALLOWED = 2;
const STOPPED = 4;
/** A data message is being assembled: opened by a frame that is not FIN, or cut by a chunk end. */
const MESSAGE_OPEN = 8;
const MESSAGE_COMPRESSED = 16;
const FRAME_FIN = 32;
const FRAME_MASKED = 64;

/** The 4 mask bytes in the order that applies from the next payload byte on (shared scratch). */
const rotated = new Uint8Array(4);

/**
 * Turns a byte stream into messages and control frames (RFC 6455 section 5.2). Works in place: an
 * unfragmented frame that lies inside one chunk is handed on as a view of that chunk, unmasked in
 * place. Any other message (a frame cut by a chunk boundary, or fragments) is assembled in one
 * buffer per message, each chunk's payload bytes unmasked as they are copied in: memory held is
 * bounded by the message's bytes (and `maxPayload`), never by its count of frames or chunks.
 * Every header is checked before its payload is taken, so an oversized or malformed frame costs
 * nothing to refuse.
 *
 * The parser takes ownership of the chunks it is given: it unmasks them in place.
 */
export class FrameParser {
  private readonly maxPayload: number;
  private readonly platform: Platform;
  private readonly sink: FrameSink;
  private flags: number;
  /** Bytes of an incomplete head or control frame, waiting for the next chunk. */
  private leftover: Uint8Array | null = null;

  // The data message being assembled (MESSAGE_OPEN).
  private messageOpcode = 0;
  private message: Uint8Array | null = null;
  private messageBytes = 0;

  // The data frame whose payload is arriving.
  private payloadLeft = 0;
  private frameMask = 0;
  private maskPhase = 0;

  constructor(options: FrameParserOptions, sink: FrameSink) {
    this.flags = options.expectMasked ? EXPECT_MASKED : 0;
    this.maxPayload = options.maxPayload;
    this.platform = options.platform;
    this.sink = sink;
  }

  /** Set when a negotiated extension (permessage-deflate) gives meaning to RSV1. */
  get rsv1Allowed(): boolean {
    return (this.flags & RSV1_ALLOWED) !== 0;
  }

  set rsv1Allowed(allowed: boolean) {
    this.flags = allowed ? this.flags | RSV1_ALLOWED : this.flags & ~RSV1_ALLOWED;
  }

  private get stopped(): boolean {
    return (this.flags & STOPPED) !== 0;
  }

  private get messageOpen(): boolean {
    return (this.flags & MESSAGE_OPEN) !== 0;
  }

  private get messageCompressed(): boolean {
    return (this.flags & MESSAGE_COMPRESSED) !== 0;
  }

  private get mask(): MaskKernel {
    return this.platform.mask ?? applyMask;
  }

  /** Stops parsing for good: later bytes are ignored (RFC 6455 section 5.5.1: nothing after close). */
  stop(): void {
    this.flags |= STOPPED;
    this.leftover = null;
    this.message = null;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** Bytes received and held that do not yet form a whole message or control frame. */
  get bufferedBytes(): number {
    return (this.leftover?.length ?? 0) + this.messageBytes;
  }

  /** Feeds received bytes; whole messages and control frames go to the sink at once. */
  push(chunk: Uint8Array): void {
    if (this.stopped || chunk.length === 0) return;
    let offset = 0;
    if (this.payloadLeft > 0) {
      offset = this.take(chunk, 0);
      if (this.stopped || offset === chunk.length) return;
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
      if (this.stopped) return;
      if (end < 0) {
        this.leftover = joined;
        return;
      }
      offset += end - leftover.length;
      if (this.payloadLeft > 0 && offset < chunk.length) {
        // The joined bytes ended inside a payload; the rest of it is in this chunk.
        offset = this.take(chunk, offset);
        if (this.stopped) return;
      }
    }
    while (offset < chunk.length) {
      const end = this.frame(chunk, offset);
      if (this.stopped) return;
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
        this.fail(CloseCode.ProtocolError, 'frame length has the most significant bit set');
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
      this.sink.onControl(opcode, payload);
      return o + payloadLength;
    }

    if (!this.checkLength(payloadLength)) return -1;
    const available = length - o;
    if (fin && !this.messageOpen && available >= payloadLength) {
      // The common case: a whole message in one frame inside this chunk, handed on in place.
      const payload = data.subarray(o, o + payloadLength);
      if (masked) this.mask(payload, 0, payload, 0, payloadLength, data, maskOffset);
      this.sink.onMessage(opcode, (b0 & 0x40) !== 0, payload, false);
      return o + payloadLength;
    }

    let flags = this.flags & ~(FRAME_FIN | FRAME_MASKED);
    if ((flags & MESSAGE_OPEN) === 0) {
      flags |= MESSAGE_OPEN | ((b0 & 0x40) !== 0 ? MESSAGE_COMPRESSED : 0);
      this.messageOpcode = opcode;
    }
    this.flags = flags | (fin ? FRAME_FIN : 0) | (masked ? FRAME_MASKED : 0);
    if (masked) {
      this.frameMask =
        (data[maskOffset]! << 24) |
        (data[maskOffset + 1]! << 16) |
        (data[maskOffset + 2]! << 8) |
        data[maskOffset + 3]!;
    }
    this.maskPhase = 0;
    this.payloadLeft = payloadLength;
    if (payloadLength === 0) {
      // An empty fragment costs nothing: no buffer until bytes arrive.
      this.endFrame();
      return o;
    }
    this.reserve(payloadLength, available);
    return this.take(data, o);
  }

  /** Makes room in the message buffer for the frame starting: `announced` bytes, `here` now. */
  private reserve(announced: number, here: number): void {
    const used = this.messageBytes;
    const message = this.message;
    const capacity = message === null ? 0 : message.length;
    // A frame's announced length is trusted up to RESERVE_LIMIT; past it the buffer grows with
    // the bytes that really arrive, so a peer cannot make this side hold memory it did not send.
    const need = used + (announced <= RESERVE_LIMIT ? announced : Math.min(announced, here));
    if (need <= capacity) return;
    const limit = this.maxPayload > 0 ? this.maxPayload : MAX_BUFFER;
    const grown = Math.min(limit, Math.max(need, capacity * 2, MIN_CAPACITY));
    const next = this.platform.alloc(grown);
    if (message !== null && used > 0) next.set(message.subarray(0, used), 0);
    this.message = next;
  }

  /** Takes the current frame's payload bytes from `data` at `offset`; returns where it stopped. */
  private take(data: Uint8Array, offset: number): number {
    const n = Math.min(this.payloadLeft, data.length - offset);
    if (n === 0) return offset;
    const used = this.messageBytes;
    if (this.message === null || this.message.length - used < n) this.reserve(n, n);
    const message = this.message!;
    if ((this.flags & FRAME_MASKED) !== 0) {
      const key = this.frameMask;
      const phase = this.maskPhase;
      // RFC 6455 section 5.3: byte i of the payload is masked by byte i mod 4 of the key.
      for (let i = 0; i < 4; i++) rotated[i] = (key >>> (24 - 8 * ((phase + i) & 3))) & 0xff;
      this.mask(data, offset, message, used, n, rotated, 0);
      this.maskPhase = (phase + n) & 3;
    } else {
      message.set(data.subarray(offset, offset + n), used);
    }
    this.messageBytes = used + n;
    this.payloadLeft -= n;
    this.sink.onMessageData(
      message.subarray(used, used + n),
      this.messageOpcode,
      this.messageCompressed,
    );
    if (this.stopped) return offset + n;
    if (this.payloadLeft === 0) this.endFrame();
    return offset + n;
  }

  /** The current frame's payload is all here; a FIN frame completes the message. */
  private endFrame(): void {
    if ((this.flags & FRAME_FIN) === 0) return;
    const message = this.message;
    const used = this.messageBytes;
    const payload =
      message === null
        ? new Uint8Array(0)
        : used === message.length
          ? message
          : message.subarray(0, used);
    const compressed = this.messageCompressed;
    this.message = null;
    this.messageBytes = 0;
    this.flags &= ~(MESSAGE_OPEN | MESSAGE_COMPRESSED);
    this.sink.onMessage(this.messageOpcode, compressed, payload, true);
  }

  /** Checks the first two header bytes; on failure stops and reports. */
  private checkHeader(b0: number, masked: boolean, length7: number): boolean {
    const opcode = b0 & 0x0f;
    // RFC 6455 section 5.2: RSV bits MUST be 0 unless an extension defines them.
    if ((b0 & 0x30) !== 0) return this.fail(CloseCode.ProtocolError, 'RSV2 or RSV3 is set');
    const rsv1 = (b0 & 0x40) !== 0;
    const fin = (b0 & 0x80) !== 0;
    if ((opcode & 0x8) !== 0) {
      if (opcode > Opcode.Pong)
        return this.fail(
          CloseCode.ProtocolError,
          `reserved control opcode 0x${opcode.toString(16)}`,
        );
      // RFC 6455 section 5.5: control frames MUST NOT be fragmented and carry at most 125 bytes.
      if (!fin) return this.fail(CloseCode.ProtocolError, 'fragmented control frame');
      if (length7 > MAX_CONTROL_PAYLOAD)
        return this.fail(CloseCode.ProtocolError, 'control frame payload over 125 bytes');
      // RFC 7692 section 6.1: an extension's RSV1 never applies to control frames.
      if (rsv1) return this.fail(CloseCode.ProtocolError, 'RSV1 is set on a control frame');
    } else if (opcode === Opcode.Continuation) {
      // RFC 6455 section 5.4: a continuation frame only continues an open fragmented message.
      if (!this.messageOpen)
        return this.fail(CloseCode.ProtocolError, 'continuation frame with no message to continue');
      if (rsv1) return this.fail(CloseCode.ProtocolError, 'RSV1 is set on a continuation frame');
    } else if (opcode === Opcode.Text || opcode === Opcode.Binary) {
      if (this.messageOpen)
        return this.fail(
          CloseCode.ProtocolError,
          'new data frame while a fragmented message is open',
        );
      if (rsv1 && !this.rsv1Allowed)
        return this.fail(CloseCode.ProtocolError, 'RSV1 is set but no extension was negotiated');
    } else {
      return this.fail(CloseCode.ProtocolError, `reserved data opcode 0x${opcode.toString(16)}`);
    }
    // RFC 6455 section 5.1: a server MUST close on an unmasked frame, a client on a masked one.
    if (masked !== ((this.flags & EXPECT_MASKED) !== 0)) {
      return this.fail(
        CloseCode.ProtocolError,
        masked ? 'server sent a masked frame' : 'client sent an unmasked frame',
      );
    }
    return true;
  }

  /** A data frame's length against what the message may still grow by. */
  private checkLength(payloadLength: number): boolean {
    const total = this.messageBytes + payloadLength;
    if ((this.maxPayload > 0 && total > this.maxPayload) || total > MAX_BUFFER) {
      return this.fail(
        CloseCode.MessageTooBig,
        `message of at least ${total} bytes exceeds maxPayload of ${this.maxPayload} bytes`,
      );
    }
    return true;
  }

  private fail(closeCode: number, message: string): false {
    this.stop();
    this.sink.onFrameError(closeCode, message);
    return false;
  }
}
