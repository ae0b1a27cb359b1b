import { ProtocolError } from '../errors.js';
import { CloseCode, isValidWireCloseCode } from './close-codes.js';
import type { MessageCompressor } from './extensions/message-compressor.js';
import { frameHeaderSize, MAX_CONTROL_PAYLOAD, writeFrameHeader } from './frame-header.js';
import { FrameParser, type FrameSink } from './frame-parser.js';
import { applyMask, MaskKeyPool } from './mask.js';
import { Opcode } from './opcodes.js';
import { type Platform, portablePlatform } from './platform.js';
import { Utf8Validator } from './utf8.js';

/** Which end of the connection this engine plays; it decides masking (RFC 6455 section 5.3). */
export type Role = 'client' | 'server';

/** What the engine hands to its transport: bytes to write and events to deliver. */
export interface ProtocolSink {
  /** Bytes to send, in order. The engine never reuses a buffer it has passed here. */
  write(data: Uint8Array): void;
  /** A frame header and its payload, to be written together (one `writev`). */
  writePair(header: Uint8Array, payload: Uint8Array): void;
  /** A whole message. Text arrives as bytes already validated as UTF-8. */
  onMessage(data: Uint8Array, binary: boolean): void;
  onPing(payload: Uint8Array): void;
  onPong(payload: Uint8Array): void;
  /**
   * The peer's close frame arrived (1005 when it had no code). If this side had not sent a
   * close frame yet, the echo has already been written. Nothing is read after this.
   */
  onClose(code: number, reason: string): void;
  /**
   * The peer broke the protocol and the connection has been failed (RFC 6455 section 7.1.7):
   * a close frame with `error.closeCode` has been written; the transport should now close the
   * underlying connection without waiting for an answer.
   */
  onError(error: ProtocolError): void;
  /** Incoming work is piling up behind decompression: stop reading until `resume`. */
  pause?(): void;
  resume?(): void;
  /** Every queued outgoing frame has been written (see `WebSocketProtocol.idle`). */
  onIdle?(): void;
}

export interface ProtocolOptions {
  role: Role;
  /** Largest incoming message in bytes; 0 for no limit. Default 100 MiB. */
  maxPayload?: number;
  platform?: Platform;
  /** A negotiated per-message compression extension (permessage-deflate). */
  compressor?: MessageCompressor;
  /**
   * Answer each ping with a pong (default true). When false the transport must answer itself
   * (RFC 6455 section 5.5.2), as `ws`'s `autoPong: false` lets applications do.
   */
  autoPong?: boolean;
}

/** Default `maxPayload`: 100 MiB. */
export const DEFAULT_MAX_PAYLOAD = 100 * 1024 * 1024;
/** Largest close reason: 125 bytes of control payload minus the 2-byte code. */
export const MAX_CLOSE_REASON_BYTES = MAX_CONTROL_PAYLOAD - 2;
/** Unmasked payloads up to this size are copied behind their header: one buffer, one write. */
const COPY_LIMIT = 32 * 1024;
/** Frames waiting behind a decompression before the transport is asked to stop reading. */
const BACKLOG_PAUSE = 64;

/** A frame that arrived while an earlier message was still being decompressed. */
interface InboundFrame {
  fin: boolean;
  rsv1: boolean;
  opcode: number;
  payload: Uint8Array;
}

/** An outgoing frame held back behind a compression, to keep order. */
interface OutboundFrame {
  opcode: number;
  data: Uint8Array | string;
  fin: boolean;
  compress: boolean;
  /** For close frames: the code and the reason bytes' length. */
  closeCode?: number | undefined;
  closeReason?: string;
}

/**
 * The sans-I/O RFC 6455 engine for one connection: bytes in through {@link receive}, events out
 * through the sink; calls in through the send methods, bytes out through the sink. It never
 * touches a socket or a timer, so it runs under any runtime and is tested without a network.
 */
export class WebSocketProtocol implements FrameSink {
  readonly role: Role;
  private readonly platform: Platform;
  private readonly sink: ProtocolSink;
  private readonly parser: FrameParser;
  private readonly masks: MaskKeyPool | null;
  private readonly utf8: Utf8Validator;
  private readonly maxPayload: number;
  private readonly compressor: MessageCompressor | null;
  private readonly autoPong: boolean;

  private fragmentCompressed = false;
  private inboundBusy = false;
  private backlog: InboundFrame[] = [];
  private paused = false;
  private outQueue: OutboundFrame[] | null = null;
  private compressing = false;

  private fragments: Uint8Array[] = [];
  private fragmentBytes = 0;
  private fragmentBinary = false;
  private sendingFragmented = false;

  private _closeSent = false;
  private _closeReceived = false;
  private _failed = false;

  constructor(options: ProtocolOptions, sink: ProtocolSink) {
    this.role = options.role;
    this.platform = options.platform ?? portablePlatform;
    this.sink = sink;
    this.maxPayload = options.maxPayload ?? DEFAULT_MAX_PAYLOAD;
    this.compressor = options.compressor ?? null;
    this.autoPong = options.autoPong ?? true;
    this.parser = new FrameParser(
      {
        expectMasked: this.role === 'server',
        maxPayload: this.maxPayload,
        platform: this.platform,
      },
      this,
    );
    // RFC 7692 section 6: RSV1 marks a compressed message once the extension is agreed.
    this.parser.rsv1Allowed = this.compressor !== null;
    this.masks = this.role === 'client' ? MaskKeyPool.for(this.platform) : null;
    this.utf8 = new Utf8Validator(this.platform.isUtf8);
  }

  /** This side has sent its close frame: no data frame may follow (RFC 6455 section 5.5.1). */
  get closeSent(): boolean {
    return this._closeSent;
  }

  /** The peer's close frame has arrived. */
  get closeReceived(): boolean {
    return this._closeReceived;
  }

  /** The connection was failed because the peer broke the protocol. */
  get failed(): boolean {
    return this._failed;
  }

  /** Nothing more will be read or written: the transport may close the connection. */
  get done(): boolean {
    return this._failed || (this._closeSent && this._closeReceived);
  }

  /** No outgoing frame is held back behind a compression: everything has reached the sink. */
  get idle(): boolean {
    return this.outQueue === null;
  }

  /** Feeds bytes read from the connection. The engine takes ownership of `chunk`. */
  receive(chunk: Uint8Array): void {
    this.parser.push(chunk);
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
    if (this._closeSent) return false;
    const opcode = this.sendingFragmented
      ? Opcode.Continuation
      : binary
        ? Opcode.Binary
        : Opcode.Text;
    this.sendingFragmented = !fin;
    if (this.outQueue !== null)
      this.outQueue.push({ opcode, data: ownCopy(data), fin, compress: false });
    else this.writeFrame(opcode, data, fin, false);
    return true;
  }

  /** Whether a fragmented message is being sent; whole messages must wait for its end. */
  get fragmentedSendOpen(): boolean {
    return this.sendingFragmented;
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
   * Starts the closing handshake (RFC 6455 section 7.1.2). Without a code the frame carries no
   * body. Returns false when a close frame was already sent.
   */
  close(code?: number, reason = ''): boolean {
    if (this._closeSent) return false;
    if (code !== undefined && (!Number.isInteger(code) || !isValidWireCloseCode(code))) {
      throw new RangeError(
        `close code ${code} may not be sent: use 1000-1003, 1007-1014 or 3000-4999`,
      );
    }
    if (code === undefined && reason !== '') {
      throw new RangeError('a close reason needs a close code');
    }
    const reasonLength = reason === '' ? 0 : this.platform.byteLength(reason);
    if (reasonLength > MAX_CLOSE_REASON_BYTES) {
      throw new RangeError(
        `close reason is ${reasonLength} bytes; at most ${MAX_CLOSE_REASON_BYTES} are allowed`,
      );
    }
    this.sendClose(code, reason, reasonLength);
    return true;
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
    if (isText) platform.encodeInto(payload, out, o);
    else out.set(payload, o);
    return out;
  }

  /** Writes a whole frame from {@link encodeFrame}; only for servers, whose frames are unmasked. */
  sendRaw(frame: Uint8Array): boolean {
    if (this._closeSent) return false;
    if (this.role !== 'server')
      throw new TypeError('only a server sends pre-encoded (unmasked) frames');
    if (this.sendingFragmented)
      throw new TypeError('a fragmented message is being sent; finish it first');
    if (this.outQueue !== null)
      this.outQueue.push({ opcode: RAW, data: frame, fin: true, compress: false });
    else this.sink.write(frame);
    return true;
  }

  // -- FrameSink ------------------------------------------------------------------------------

  onFrame(fin: boolean, rsv1: boolean, opcode: number, payload: Uint8Array): void {
    if (this.inboundBusy) {
      // Keep order: everything after a message being decompressed waits for it.
      this.backlog.push({ fin, rsv1, opcode, payload });
      if (this.backlog.length === BACKLOG_PAUSE && !this.paused && this.sink.pause) {
        this.paused = true;
        this.sink.pause();
      }
      return;
    }
    this.handleFrame(fin, rsv1, opcode, payload);
  }

  private handleFrame(fin: boolean, rsv1: boolean, opcode: number, payload: Uint8Array): void {
    switch (opcode) {
      case Opcode.Text:
      case Opcode.Binary: {
        const binary = opcode === Opcode.Binary;
        if (rsv1) {
          if (fin) return this.inflate(payload, binary);
          this.fragments = [payload];
          this.fragmentBytes = payload.length;
          this.fragmentBinary = binary;
          this.fragmentCompressed = true;
          return;
        }
        this.fragmentCompressed = false;
        if (fin) {
          // RFC 6455 section 8.1: text MUST be valid UTF-8.
          if (!binary && !this.platform.isUtf8(payload))
            return this.fail(CloseCode.InvalidPayload, 'text message is not valid UTF-8');
          this.sink.onMessage(payload, binary);
          return;
        }
        this.fragments = [payload];
        this.fragmentBytes = payload.length;
        this.fragmentBinary = binary;
        if (!binary) {
          this.utf8.reset();
          if (!this.utf8.push(payload))
            return this.fail(CloseCode.InvalidPayload, 'text message is not valid UTF-8');
        }
        return;
      }
      case Opcode.Continuation: {
        this.fragments.push(payload);
        this.fragmentBytes += payload.length;
        const binary = this.fragmentBinary;
        if (this.fragmentCompressed) {
          if (!fin) return;
          const data = this.platform.concat(this.fragments, this.fragmentBytes);
          this.fragments = [];
          this.fragmentBytes = 0;
          return this.inflate(data, binary);
        }
        if (!binary && !this.utf8.push(payload))
          return this.fail(CloseCode.InvalidPayload, 'text message is not valid UTF-8');
        if (!fin) return;
        if (!binary && !this.utf8.complete)
          return this.fail(CloseCode.InvalidPayload, 'text message ends inside a UTF-8 sequence');
        const data = this.platform.concat(this.fragments, this.fragmentBytes);
        this.fragments = [];
        this.fragmentBytes = 0;
        this.sink.onMessage(data, binary);
        return;
      }
      case Opcode.Close:
        return this.receiveClose(payload);
      case Opcode.Ping:
        // RFC 6455 section 5.5.2: answer with a pong carrying the same payload, unless closing.
        if (this.autoPong && !this._closeSent) this.writeFrame(Opcode.Pong, payload, true, false);
        this.sink.onPing(payload);
        return;
      case Opcode.Pong:
        this.sink.onPong(payload);
        return;
    }
  }

  onFrameError(closeCode: number, message: string): void {
    this.fail(closeCode, message);
  }

  // -- internals ------------------------------------------------------------------------------

  private inflate(data: Uint8Array, binary: boolean): void {
    this.inboundBusy = true;
    this.compressor!.decompress(data, this.maxPayload, (error, result) => {
      if (this._failed || this._closeReceived) return;
      this.inboundBusy = false;
      if (error || !result) {
        this.fail(
          error?.closeCode ?? CloseCode.InvalidPayload,
          error?.message ?? 'decompression failed',
        );
        return;
      }
      // RFC 7692 section 8: text is validated after decompression.
      if (!binary && !this.platform.isUtf8(result)) {
        this.fail(CloseCode.InvalidPayload, 'text message is not valid UTF-8');
        return;
      }
      this.sink.onMessage(result, binary);
      this.drainBacklog();
    });
  }

  private drainBacklog(): void {
    while (!this.inboundBusy && this.backlog.length > 0 && !this._failed) {
      const f = this.backlog.shift()!;
      this.handleFrame(f.fin, f.rsv1, f.opcode, f.payload);
    }
    if (this.paused && !this.inboundBusy && this.backlog.length === 0) {
      this.paused = false;
      this.sink.resume?.();
    }
  }

  /** Writes queued frames in order until one needs the compressor. */
  private pump(): void {
    const queue = this.outQueue;
    while (queue !== null && queue.length > 0 && !this._failed) {
      const item = queue[0]!;
      if (item.compress) {
        if (this.compressing) return;
        this.compressing = true;
        const bytes = typeof item.data === 'string' ? this.encodeText(item.data) : item.data;
        this.compressor!.compress(bytes, (error, result) => {
          this.compressing = false;
          if (this._failed || this.outQueue !== queue) return;
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
    const out = this.platform.alloc(this.platform.byteLength(text));
    this.platform.encodeInto(text, out, 0);
    return out;
  }

  private receiveClose(payload: Uint8Array): void {
    // RFC 6455 section 5.5.1: a close body is empty or starts with a 2-byte code.
    if (payload.length === 1)
      return this.fail(CloseCode.ProtocolError, 'close frame with a 1-byte payload');
    let code: number = CloseCode.NoStatus;
    let reason = '';
    if (payload.length >= 2) {
      code = (payload[0]! << 8) | payload[1]!;
      if (!isValidWireCloseCode(code))
        return this.fail(CloseCode.ProtocolError, `invalid close code ${code}`);
      const reasonBytes = payload.subarray(2);
      if (!this.platform.isUtf8(reasonBytes))
        return this.fail(CloseCode.InvalidPayload, 'close reason is not valid UTF-8');
      reason = reasonBytes.length === 0 ? '' : this.platform.decode(reasonBytes);
    }
    this._closeReceived = true;
    this.parser.stop();
    this.fragments = [];
    // RFC 6455 section 5.5.1: answer a close with a close, echoing the code (after any message
    // still being compressed, which section 5.5.1 allows to finish first).
    if (!this._closeSent) this.sendClose(code === CloseCode.NoStatus ? undefined : code, '', 0);
    this.sink.onClose(code, reason);
  }

  private fail(closeCode: number, message: string): void {
    if (this._failed || this._closeReceived) return;
    this._failed = true;
    this.parser.stop();
    this.fragments = [];
    this.backlog = [];
    this.outQueue = null;
    if (!this._closeSent || this.closePending) {
      const reason =
        closeCode === CloseCode.MessageTooBig
          ? 'message too big'
          : closeCode === CloseCode.InvalidPayload
            ? 'invalid UTF-8'
            : 'protocol error';
      this.writeClose(closeCode, reason, reason.length);
    }
    this.sink.onError(new ProtocolError(closeCode, message));
  }

  /** Whether `data` has at least `bytes` bytes (UTF-8 for text), measuring only when needed. */
  private byteLengthAtLeast(data: Uint8Array | string, bytes: number): boolean {
    if (typeof data !== 'string') return data.length >= bytes;
    // A UTF-16 unit is 1 to 3 UTF-8 bytes.
    if (data.length >= bytes) return true;
    if (data.length * 3 < bytes) return false;
    return this.platform.byteLength(data) >= bytes;
  }

  /** Writes a close frame now, or queues it behind messages still being compressed. */
  private sendClose(code: number | undefined, reason: string, reasonLength: number): void {
    if (this.outQueue === null) {
      this.writeClose(code, reason, reasonLength);
      return;
    }
    this._closeSent = true;
    this.closePending = true;
    this.outQueue.push({
      opcode: Opcode.Close,
      data: EMPTY,
      fin: true,
      compress: false,
      closeCode: code,
      closeReason: reason,
    });
  }

  /** A close frame is queued behind compressions but not written yet. */
  private closePending = false;

  private writeClose(code: number | undefined, reason: string, reasonLength: number): void {
    this._closeSent = true;
    this.closePending = false;
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

  private sendData(opcode: number, data: Uint8Array | string, allowCompression: boolean): boolean {
    if (this._closeSent) return false;
    if (this.sendingFragmented)
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
    if (this._closeSent) return false;
    const length = typeof payload === 'string' ? this.platform.byteLength(payload) : payload.length;
    if (length > MAX_CONTROL_PAYLOAD)
      throw new RangeError(`control frame payload is ${length} bytes; at most 125 are allowed`);
    this.writeFrame(opcode, payload, true, false);
    return true;
  }

  private writeFrame(
    opcode: number,
    payload: Uint8Array | string,
    fin: boolean,
    rsv1: boolean,
  ): void {
    const isText = typeof payload === 'string';
    const length = isText ? this.platform.byteLength(payload) : payload.length;
    const masks = this.masks;
    const headerSize = frameHeaderSize(length, masks !== null);
    if (masks === null && !isText && length > COPY_LIMIT) {
      const header = this.platform.alloc(headerSize);
      writeFrameHeader(header, 0, fin, rsv1, opcode, length, false);
      this.sink.writePair(header, payload);
      return;
    }
    const out = this.platform.alloc(headerSize + length);
    const o = writeFrameHeader(out, 0, fin, rsv1, opcode, length, masks !== null);
    if (masks !== null) {
      // RFC 6455 section 5.3: every client frame is masked with a fresh unpredictable key.
      masks.next(out, o - 4);
      if (isText) {
        this.platform.encodeInto(payload, out, o);
        applyMask(out, o, out, o, length, out, o - 4);
      } else {
        applyMask(payload, 0, out, o, length, out, o - 4);
      }
    } else if (isText) {
      this.platform.encodeInto(payload, out, o);
    } else {
      out.set(payload, o);
    }
    this.sink.write(out);
  }
}

const EMPTY = new Uint8Array(0);

/** Queued data must not change if the caller reuses its buffer after `send()` returns. */
function ownCopy(data: Uint8Array | string): Uint8Array | string {
  return typeof data === 'string' ? data : data.slice();
}
/** Marks a queued pre-encoded frame (not an opcode). */
const RAW = -1;
