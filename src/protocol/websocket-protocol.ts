import { ProtocolError, type WebSocketErrorCode } from '../errors.js';
import { CloseCode, isValidWireCloseCode } from './close-codes.js';
import {
  type CloseResult,
  type CloseStatus,
  checkCloseReason,
  closeResult,
  shouldCloseTransport,
} from './close-lifecycle.js';
import type { MessageCompressor } from './extensions/message-compressor.js';
import { frameHeaderSize, MAX_CONTROL_PAYLOAD, writeFrameHeader } from './frame-header.js';
import { FrameParser, type FrameSink } from './frame-parser.js';
import { applyMask, type MaskKernel, MaskKeyPool } from './mask.js';
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
  /** A ping arrived (the engine has already answered it). */
  onPing(payload: Uint8Array): void;
  /** A pong arrived. */
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
  /** Decompression has caught up: reading may go on. */
  resume?(): void;
  /** Every queued outgoing frame has been written (see `WebSocketProtocol.idle`). */
  onIdle?(): void;
}

/** Settings of a {@link WebSocketProtocol}. */
export interface ProtocolOptions {
  role: Role;
  /** Largest incoming message in bytes; 0 for no limit. Default 16 MiB. */
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

/**
 * Default `maxPayload`: 16 MiB. Every connection may hold this much for an unfinished message,
 * so the default bounds what a crowd of peers can make a server hold (100 of them at 100 MiB
 * would be 10 GiB); applications with larger messages raise it.
 */
export const DEFAULT_MAX_PAYLOAD = 16 * 1024 * 1024;
export { MAX_CLOSE_REASON_BYTES } from './close-lifecycle.js';

/**
 * Unmasked payloads up to this size are copied behind their header: one buffer, one write. Past
 * it the header and the payload go out as a pair, as `ws` writes them: a frame buffer that size
 * is a heap allocation of its own on Node (only buffers under 4 KiB come from a shared pool),
 * which costs more than a second buffer in the same `writev`.
 */
const COPY_LIMIT = 4 * 1024;
/** Frames waiting behind a decompression before the transport is asked to stop reading. */
const BACKLOG_PAUSE = 64;

/** A message or control frame that arrived while an earlier message was being decompressed. */
interface InboundFrame {
  opcode: number;
  compressed: boolean;
  payload: Uint8Array;
  /** Text whose UTF-8 was already checked as it arrived. */
  validated: boolean;
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

// Bits of WebSocketProtocol#bits.
const B_AUTO_PONG = 1;
const B_UTF8_OPEN = 2;
const B_INBOUND_BUSY = 4;
const B_PAUSED = 8;
const B_COMPRESSING = 16;
const B_SENDING_FRAGMENTED = 32;
const B_CLOSE_SENT = 64;
const B_CLOSE_RECEIVED = 128;
const B_FAILED = 256;
const B_EOF_RECEIVED = 512;
const B_CLOSE_PENDING = 1024;

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
  private readonly maxPayload: number;
  private readonly compressor: MessageCompressor | null;

  /** Checks text arriving in pieces; made for the first such message (idle connections have none). */
  private utf8: Utf8Validator | null = null;
  private backlog: InboundFrame[] | null = null;
  private outQueue: OutboundFrame[] | null = null;
  private peerCode: number = CloseCode.NoStatus;
  private peerReason = '';

  /**
   * The engine's booleans, one bit each (the B_ constants): an idle connection costs one
   * field instead of eleven. The accessors below keep the code reading like fields.
   */
  private bits = 0;
  /** Answers pings itself (the option). */
  private get autoPong(): boolean {
    return (this.bits & B_AUTO_PONG) !== 0;
  }
  private set autoPong(on: boolean) {
    this.bits = on ? this.bits | B_AUTO_PONG : this.bits & ~B_AUTO_PONG;
  }
  /** The validator has seen bytes of the text message now arriving. */
  private get utf8Open(): boolean {
    return (this.bits & B_UTF8_OPEN) !== 0;
  }
  private set utf8Open(on: boolean) {
    this.bits = on ? this.bits | B_UTF8_OPEN : this.bits & ~B_UTF8_OPEN;
  }
  private get inboundBusy(): boolean {
    return (this.bits & B_INBOUND_BUSY) !== 0;
  }
  private set inboundBusy(on: boolean) {
    this.bits = on ? this.bits | B_INBOUND_BUSY : this.bits & ~B_INBOUND_BUSY;
  }
  private get paused(): boolean {
    return (this.bits & B_PAUSED) !== 0;
  }
  private set paused(on: boolean) {
    this.bits = on ? this.bits | B_PAUSED : this.bits & ~B_PAUSED;
  }
  private get compressing(): boolean {
    return (this.bits & B_COMPRESSING) !== 0;
  }
  private set compressing(on: boolean) {
    this.bits = on ? this.bits | B_COMPRESSING : this.bits & ~B_COMPRESSING;
  }
  private get sendingFragmented(): boolean {
    return (this.bits & B_SENDING_FRAGMENTED) !== 0;
  }
  private set sendingFragmented(on: boolean) {
    this.bits = on ? this.bits | B_SENDING_FRAGMENTED : this.bits & ~B_SENDING_FRAGMENTED;
  }
  private get _closeSent(): boolean {
    return (this.bits & B_CLOSE_SENT) !== 0;
  }
  private set _closeSent(on: boolean) {
    this.bits = on ? this.bits | B_CLOSE_SENT : this.bits & ~B_CLOSE_SENT;
  }
  private get _closeReceived(): boolean {
    return (this.bits & B_CLOSE_RECEIVED) !== 0;
  }
  private set _closeReceived(on: boolean) {
    this.bits = on ? this.bits | B_CLOSE_RECEIVED : this.bits & ~B_CLOSE_RECEIVED;
  }
  private get _failed(): boolean {
    return (this.bits & B_FAILED) !== 0;
  }
  private set _failed(on: boolean) {
    this.bits = on ? this.bits | B_FAILED : this.bits & ~B_FAILED;
  }
  private get _eofReceived(): boolean {
    return (this.bits & B_EOF_RECEIVED) !== 0;
  }
  private set _eofReceived(on: boolean) {
    this.bits = on ? this.bits | B_EOF_RECEIVED : this.bits & ~B_EOF_RECEIVED;
  }
  /** A close frame is queued behind compressions but not written yet. */
  private get closePending(): boolean {
    return (this.bits & B_CLOSE_PENDING) !== 0;
  }
  private set closePending(on: boolean) {
    this.bits = on ? this.bits | B_CLOSE_PENDING : this.bits & ~B_CLOSE_PENDING;
  }

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

  /** Where the closing handshake stands. */
  get closeStatus(): CloseStatus {
    return {
      role: this.role,
      closeSent: this._closeSent,
      closeReceived: this._closeReceived,
      failed: this._failed,
      eofReceived: this._eofReceived,
      idle: this.outQueue === null,
      peerCode: this.peerCode,
      peerReason: this.peerReason,
    };
  }

  /**
   * Whether the transport should close the underlying connection now: the server after the
   * closing handshake, either side after a failure or the peer's end (RFC 6455 section 7.1.1,
   * 7.1.7). Transports check it after `onClose`, `onError`, `onIdle` and {@link receiveEof}.
   */
  get shouldCloseTransport(): boolean {
    return shouldCloseTransport(this.closeStatus);
  }

  /**
   * The close event's fields once the transport has closed: the peer's code and reason (1005
   * when its close frame had no code), 1006 without a close frame, and whether it was clean.
   */
  get closeResult(): CloseResult {
    return closeResult(this.closeStatus);
  }

  /** The transport reports that the peer's side of the connection has ended (TCP FIN). */
  receiveEof(): void {
    this._eofReceived = true;
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
    const reasonLength = checkCloseReason(reason, (text) => this.platform.byteLength(text));
    this.sendClose(code, reason, reasonLength);
    return true;
  }

  /**
   * Fails the connection for a reason the transport detected, such as a peer that never reads
   * (RFC 6455 section 7.1.7): a close frame with `closeCode` and a reason naming the failure is
   * written if none was, and `onError` reports it. Does nothing once the connection failed or
   * the peer's close arrived.
   */
  abort(closeCode: number, message: string, code: WebSocketErrorCode): void {
    this.fail(closeCode, message, code);
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

  /** @internal the frame parser's callback: a whole data message. */
  onMessage(opcode: number, compressed: boolean, payload: Uint8Array, streamed: boolean): void {
    let validated = false;
    if (streamed && !compressed && opcode === Opcode.Text) {
      // Every byte went through onMessageData: only a code point left open remains to refuse.
      validated = true;
      const open = this.utf8Open && !this.utf8!.complete;
      this.utf8Open = false;
      if (open)
        return this.fail(CloseCode.InvalidPayload, 'text message ends inside a UTF-8 sequence');
    }
    if (this.inboundBusy) return this.hold({ opcode, compressed, payload, validated });
    this.handleMessage(opcode, compressed, payload, validated);
  }

  /** @internal the frame parser's callback: payload bytes of a message still arriving. */
  onMessageData(bytes: Uint8Array, opcode: number, compressed: boolean): void {
    if (compressed || opcode !== Opcode.Text) return;
    // RFC 6455 section 8.1: invalid UTF-8 fails the connection, here at the chunk that carries
    // it rather than when the message completes.
    let utf8 = this.utf8;
    if (utf8 === null) {
      utf8 = new Utf8Validator(this.platform.isUtf8);
      this.utf8 = utf8;
    }
    if (!this.utf8Open) {
      utf8.reset();
      this.utf8Open = true;
    }
    if (!utf8.push(bytes)) this.fail(CloseCode.InvalidPayload, 'text message is not valid UTF-8');
  }

  /** @internal the frame parser's callback: a control frame. */
  onControl(opcode: number, payload: Uint8Array): void {
    if (this.inboundBusy)
      return this.hold({ opcode, compressed: false, payload, validated: false });
    this.handleControl(opcode, payload);
  }

  /** Keeps order: everything after a message being decompressed waits for it. */
  private hold(frame: InboundFrame): void {
    const backlog = this.backlog ?? [];
    this.backlog = backlog;
    backlog.push(frame);
    if (backlog.length === BACKLOG_PAUSE && !this.paused && this.sink.pause) {
      this.paused = true;
      this.sink.pause();
    }
  }

  private handleMessage(
    opcode: number,
    compressed: boolean,
    payload: Uint8Array,
    validated: boolean,
  ): void {
    const binary = opcode === Opcode.Binary;
    if (compressed) return this.inflate(payload, binary);
    // RFC 6455 section 8.1: text MUST be valid UTF-8.
    if (!binary && !validated && !this.platform.isUtf8(payload))
      return this.fail(CloseCode.InvalidPayload, 'text message is not valid UTF-8');
    this.sink.onMessage(payload, binary);
  }

  private handleControl(opcode: number, payload: Uint8Array): void {
    switch (opcode) {
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
    // RFC 7692 section 8: text is validated after decompression, here as each piece inflates.
    let check: ((chunk: Uint8Array) => boolean) | undefined;
    let validator: Utf8Validator | null = null;
    if (!binary) {
      validator = new Utf8Validator(this.platform.isUtf8);
      const v = validator;
      check = (chunk) => v.push(chunk);
    }
    this.compressor!.decompress(
      data,
      this.maxPayload,
      (error, result) => {
        if (this._failed || this._closeReceived) return;
        this.inboundBusy = false;
        if (error || !result) {
          this.fail(
            error?.closeCode ?? CloseCode.InvalidPayload,
            error?.message ?? 'decompression failed',
            error?.code ?? 'ERR_WS_INVALID_COMPRESSED_DATA',
          );
          return;
        }
        if (validator !== null && !validator.complete) {
          this.fail(CloseCode.InvalidPayload, 'text message ends inside a UTF-8 sequence');
          return;
        }
        this.sink.onMessage(result, binary);
        this.drainBacklog();
      },
      check,
    );
  }

  private drainBacklog(): void {
    const backlog = this.backlog;
    while (!this.inboundBusy && backlog !== null && backlog.length > 0 && !this._failed) {
      const f = backlog.shift()!;
      if (f.opcode === Opcode.Text || f.opcode === Opcode.Binary)
        this.handleMessage(f.opcode, f.compressed, f.payload, f.validated);
      else this.handleControl(f.opcode, f.payload);
    }
    if (!this.inboundBusy && (backlog === null || backlog.length === 0)) {
      this.backlog = null;
      if (this.paused) {
        this.paused = false;
        this.sink.resume?.();
      }
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
    // RFC 6455 section 5.5.1: answer a close with a close, echoing the code (after any message
    // still being compressed, which section 5.5.1 allows to finish first).
    this.peerCode = code;
    this.peerReason = reason;
    if (!this._closeSent) this.sendClose(code === CloseCode.NoStatus ? undefined : code, '', 0);
    this.sink.onClose(code, reason);
  }

  private fail(closeCode: number, message: string, code?: WebSocketErrorCode): void {
    if (this._failed || this._closeReceived) return;
    this._failed = true;
    this.parser.stop();
    this.backlog = null;
    this.outQueue = null;
    const error = new ProtocolError(closeCode, message, code);
    if (!this._closeSent || this.closePending) {
      // The reason names the actual failure, so the peer's logs say what went wrong.
      const reason = closeReasonOf(error.code);
      this.writeClose(closeCode, reason, reason.length);
    }
    this.sink.onError(error);
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
      const mask: MaskKernel = this.platform.mask ?? applyMask;
      if (isText) {
        this.platform.encodeInto(payload, out, o);
        mask(out, o, out, o, length, out, o - 4);
      } else {
        mask(payload, 0, out, o, length, out, o - 4);
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

/** The close reason sent for a failure: short (it must fit in 123 bytes) and specific. */
function closeReasonOf(code: WebSocketErrorCode): string {
  switch (code) {
    case 'ERR_WS_MESSAGE_TOO_BIG':
      return 'message too big';
    case 'ERR_WS_INVALID_UTF8':
      return 'invalid UTF-8';
    case 'ERR_WS_INVALID_COMPRESSED_DATA':
      return 'invalid compressed data';
    case 'ERR_WS_BACKPRESSURE':
      return 'peer does not read';
    default:
      return 'protocol error';
  }
}
