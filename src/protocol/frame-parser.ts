import { CloseCode } from './close-codes.js';
import { MAX_CONTROL_PAYLOAD } from './frame-header.js';
import { applyMask } from './mask.js';
import { Opcode } from './opcodes.js';
import type { Platform } from './platform.js';

/** Receives the frames a {@link FrameParser} finds, already unmasked. */
export interface FrameSink {
  /** One frame: its FIN and RSV1 bits, opcode and unmasked payload. */
  onFrame(fin: boolean, rsv1: boolean, opcode: number, payload: Uint8Array): void;
  /** The byte stream broke RFC 6455; the parser has stopped. */
  onFrameError(closeCode: number, message: string): void;
}

/** Settings of a {@link FrameParser}. */
export interface FrameParserOptions {
  /** True on a server: client frames MUST be masked, server frames MUST NOT (RFC 6455 5.1). */
  expectMasked: boolean;
  /** Largest message, in bytes, summed over its fragments; 0 for no limit. */
  maxPayload: number;
  platform: Platform;
}

/** Largest payload a single buffer can hold; longer frames are refused as too big. */
const MAX_BUFFER = 2 ** 32 - 1;

/**
 * Turns a byte stream into frames (RFC 6455 section 5.2). Works in place: a frame that lies
 * inside one chunk is handed on as a view of that chunk, unmasked in place; only frames cut by a
 * chunk boundary are copied, once, when their last byte arrives. Every header is checked before
 * its payload is buffered, so an oversized or malformed frame costs nothing to refuse.
 *
 * The parser takes ownership of the chunks it is given: it unmasks them in place.
 */
export class FrameParser {
  private readonly expectMasked: boolean;
  private readonly maxPayload: number;
  private readonly platform: Platform;
  private readonly sink: FrameSink;

  /** Set when a negotiated extension (permessage-deflate) gives meaning to RSV1. */
  rsv1Allowed = false;

  private stopped = false;
  private messageOpen = false;
  private messageBytes = 0;

  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private collecting = false;
  private frameFin = false;
  private frameRsv1 = false;
  private frameOpcode = 0;
  private frameMasked = false;
  private frameLength = 0;
  private readonly frameMask = new Uint8Array(4);

  constructor(options: FrameParserOptions, sink: FrameSink) {
    this.expectMasked = options.expectMasked;
    this.maxPayload = options.maxPayload;
    this.platform = options.platform;
    this.sink = sink;
  }

  /** Stops parsing for good: later bytes are ignored (RFC 6455 section 5.5.1: nothing after close). */
  stop(): void {
    this.stopped = true;
    this.pending = [];
    this.pendingBytes = 0;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** Bytes received that do not yet form a whole frame. */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  /** Feeds received bytes; complete frames go to the sink at once. */
  push(chunk: Uint8Array): void {
    if (this.stopped || chunk.length === 0) return;
    let data = chunk;
    if (this.collecting) {
      const need = this.frameLength - this.pendingBytes;
      if (chunk.length < need) {
        this.pending.push(chunk);
        this.pendingBytes += chunk.length;
        return;
      }
      this.pending.push(need === chunk.length ? chunk : chunk.subarray(0, need));
      const payload =
        this.pending.length === 1
          ? this.pending[0]!
          : this.platform.concat(this.pending, this.frameLength);
      this.pending = [];
      this.pendingBytes = 0;
      this.collecting = false;
      if (this.frameMasked) applyMask(payload, 0, payload, 0, payload.length, this.frameMask, 0);
      this.dispatch(this.frameFin, this.frameRsv1, this.frameOpcode, payload);
      if (this.stopped || need === chunk.length) return;
      data = chunk.subarray(need);
    } else if (this.pendingBytes > 0) {
      this.pending.push(chunk);
      data = this.platform.concat(this.pending, this.pendingBytes + chunk.length);
      this.pending = [];
      this.pendingBytes = 0;
    }
    this.parse(data);
  }

  private parse(data: Uint8Array): void {
    const length = data.length;
    let offset = 0;
    while (length - offset >= 2) {
      const b0 = data[offset]!;
      const b1 = data[offset + 1]!;
      const masked = (b1 & 0x80) !== 0;
      const length7 = b1 & 0x7f;
      const headerSize = 2 + (length7 === 126 ? 2 : length7 === 127 ? 8 : 0) + (masked ? 4 : 0);
      if (length - offset < headerSize) break;
      if (!this.checkHeader(b0, masked, length7)) return;

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
          return;
        }
        const low =
          ((data[o + 4]! << 24) | (data[o + 5]! << 16) | (data[o + 6]! << 8) | data[o + 7]!) >>> 0;
        payloadLength = high * 0x100000000 + low;
        o += 8;
      }
      const opcode = b0 & 0x0f;
      if (!this.checkLength(opcode, payloadLength)) return;
      const maskOffset = o;
      if (masked) o += 4;
      offset = o;

      const fin = (b0 & 0x80) !== 0;
      const rsv1 = (b0 & 0x40) !== 0;
      if (length - offset >= payloadLength) {
        const payload = data.subarray(offset, offset + payloadLength);
        if (masked) applyMask(payload, 0, payload, 0, payloadLength, data, maskOffset);
        offset += payloadLength;
        this.dispatch(fin, rsv1, opcode, payload);
        if (this.stopped) return;
      } else {
        this.collecting = true;
        this.frameFin = fin;
        this.frameRsv1 = rsv1;
        this.frameOpcode = opcode;
        this.frameMasked = masked;
        this.frameLength = payloadLength;
        if (masked) {
          this.frameMask[0] = data[maskOffset]!;
          this.frameMask[1] = data[maskOffset + 1]!;
          this.frameMask[2] = data[maskOffset + 2]!;
          this.frameMask[3] = data[maskOffset + 3]!;
        }
        this.pending = [offset === 0 ? data : data.subarray(offset)];
        this.pendingBytes = length - offset;
        return;
      }
    }
    if (offset < length) {
      this.pending = [offset === 0 ? data : data.subarray(offset)];
      this.pendingBytes = length - offset;
    }
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
    if (masked !== this.expectMasked) {
      return this.fail(
        CloseCode.ProtocolError,
        masked ? 'server sent a masked frame' : 'client sent an unmasked frame',
      );
    }
    return true;
  }

  private checkLength(opcode: number, payloadLength: number): boolean {
    if ((opcode & 0x8) !== 0) return true;
    const total = this.messageBytes + payloadLength;
    if ((this.maxPayload > 0 && total > this.maxPayload) || total > MAX_BUFFER) {
      return this.fail(
        CloseCode.MessageTooBig,
        `message of at least ${total} bytes exceeds maxPayload of ${this.maxPayload} bytes`,
      );
    }
    return true;
  }

  private dispatch(fin: boolean, rsv1: boolean, opcode: number, payload: Uint8Array): void {
    if (opcode === Opcode.Continuation) {
      this.messageBytes += payload.length;
      if (fin) {
        this.messageOpen = false;
        this.messageBytes = 0;
      }
    } else if (opcode === Opcode.Text || opcode === Opcode.Binary) {
      this.messageOpen = !fin;
      this.messageBytes = fin ? 0 : payload.length;
    }
    this.sink.onFrame(fin, rsv1, opcode, payload);
  }

  private fail(closeCode: number, message: string): false {
    this.stop();
    this.sink.onFrameError(closeCode, message);
    return false;
  }
}
