import { ProtocolError, type WebSocketErrorCode } from '../errors.js';
import { CloseCode, isValidWireCloseCode } from './close-codes.js';
import { MessageSender } from './message-sender.js';
import { Opcode } from './opcodes.js';
import {
  AUTO_PONG,
  CLOSE_PENDING,
  CLOSE_RECEIVED,
  CLOSE_SENT,
  FAILED,
  INBOUND_BUSY,
  PAUSED,
  PEER_CODE_SHIFT,
  UTF8_OPEN,
} from './state-bits.js';
import { Utf8Validator } from './utf8.js';

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

/** The parts of a receiver few connections need: made together, on first need. */
interface ReceiverExtras {
  /** Checks text arriving in pieces. */
  utf8: Utf8Validator | null;
  /** What arrived behind a message being decompressed. */
  backlog: InboundFrame[] | null;
  /** The reason in the peer's close frame. */
  peerReason: string;
}

/**
 * The engine's incoming side: what the frame reader finds becomes messages for the sink (text
 * validated as UTF-8, compressed messages inflated in order), pings are answered, the peer's
 * close frame is checked and echoed, and a peer that breaks the protocol fails the connection
 * (RFC 6455 section 7.1.7). A layer of `WebSocketProtocol`, which is one object per connection.
 */
export abstract class MessageReceiver extends MessageSender {
  /** Made on first need: an idle connection has none of its parts (idle memory). */
  private extras: ReceiverExtras | null = null;

  /** The reason in the peer's close frame. */
  protected get peerReason(): string {
    return this.extras?.peerReason ?? '';
  }

  private extrasMade(): ReceiverExtras {
    if (this.extras === null) this.extras = { utf8: null, backlog: null, peerReason: '' };
    return this.extras;
  }

  /** The code of the peer's close frame: 1005 when it had none or none came. */
  protected get peerCode(): number {
    return this.bits >>> PEER_CODE_SHIFT || CloseCode.NoStatus;
  }

  protected override onMessage(
    opcode: number,
    compressed: boolean,
    payload: Uint8Array,
    streamed: boolean,
  ): void {
    let validated = false;
    if (streamed && !compressed && opcode === Opcode.Text) {
      // Every byte went through onMessageData: only a code point left open remains to refuse.
      validated = true;
      const open = this.has(UTF8_OPEN) && !this.extras!.utf8!.complete;
      this.bits &= ~UTF8_OPEN;
      if (open)
        return this.fail(CloseCode.InvalidPayload, 'text message ends inside a UTF-8 sequence');
    }
    if (this.has(INBOUND_BUSY)) return this.hold({ opcode, compressed, payload, validated });
    this.handleMessage(opcode, compressed, payload, validated);
  }

  protected override onMessageData(bytes: Uint8Array, opcode: number, compressed: boolean): void {
    if (compressed || opcode !== Opcode.Text) return;
    // RFC 6455 section 8.1: invalid UTF-8 fails the connection, here at the chunk that carries
    // it rather than when the message completes.
    let utf8 = this.extras?.utf8 ?? null;
    if (utf8 === null) {
      utf8 = new Utf8Validator(this.platform.isUtf8);
      this.extrasMade().utf8 = utf8;
    }
    if (!this.has(UTF8_OPEN)) {
      utf8.reset();
      this.bits |= UTF8_OPEN;
    }
    if (!utf8.push(bytes)) this.fail(CloseCode.InvalidPayload, 'text message is not valid UTF-8');
  }

  protected override onControl(opcode: number, payload: Uint8Array): void {
    if (this.has(INBOUND_BUSY))
      return this.hold({ opcode, compressed: false, payload, validated: false });
    this.handleControl(opcode, payload);
  }

  protected override onFrameError(closeCode: number, message: string): void {
    this.fail(closeCode, message);
  }

  /**
   * Fails the connection (RFC 6455 section 7.1.7): stops reading, drops what waits, writes a
   * close frame naming the failure unless one was written, and reports it to the sink.
   */
  protected override fail(closeCode: number, message: string, code?: WebSocketErrorCode): void {
    if (this.has(FAILED) || this.has(CLOSE_RECEIVED)) return;
    this.bits |= FAILED;
    this.stopReading();
    if (this.extras !== null) this.extras.backlog = null;
    this.outQueue = null;
    const error = new ProtocolError(closeCode, message, code);
    if (!this.has(CLOSE_SENT) || this.has(CLOSE_PENDING)) {
      // The reason names the actual failure, so the peer's logs say what went wrong.
      const reason = closeReasonOf(error.code);
      this.writeClose(closeCode, reason, reason.length);
    }
    this.sink.onError(error);
  }

  /** Keeps order: everything after a message being decompressed waits for it. */
  private hold(frame: InboundFrame): void {
    const extras = this.extrasMade();
    const backlog = extras.backlog ?? [];
    extras.backlog = backlog;
    backlog.push(frame);
    if (backlog.length === BACKLOG_PAUSE && !this.has(PAUSED) && this.sink.pause) {
      this.bits |= PAUSED;
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
        if (this.has(AUTO_PONG) && !this.has(CLOSE_SENT))
          this.writeFrame(Opcode.Pong, payload, true, false);
        this.sink.onPing(payload);
        return;
      case Opcode.Pong:
        this.sink.onPong(payload);
        return;
    }
  }

  private inflate(data: Uint8Array, binary: boolean): void {
    this.bits |= INBOUND_BUSY;
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
        if (this.has(FAILED) || this.has(CLOSE_RECEIVED)) return;
        this.bits &= ~INBOUND_BUSY;
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
    const backlog = this.extras?.backlog ?? null;
    while (!this.has(INBOUND_BUSY) && backlog !== null && backlog.length > 0 && !this.has(FAILED)) {
      const f = backlog.shift()!;
      if (f.opcode === Opcode.Text || f.opcode === Opcode.Binary)
        this.handleMessage(f.opcode, f.compressed, f.payload, f.validated);
      else this.handleControl(f.opcode, f.payload);
    }
    if (!this.has(INBOUND_BUSY) && (backlog === null || backlog.length === 0)) {
      if (this.extras !== null) this.extras.backlog = null;
      if (this.has(PAUSED)) {
        this.bits &= ~PAUSED;
        this.sink.resume?.();
      }
    }
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
    this.bits |= CLOSE_RECEIVED | (code << PEER_CODE_SHIFT);
    this.stopReading();
    // RFC 6455 section 5.5.1: answer a close with a close, echoing the code (after any message
    // still being compressed, which section 5.5.1 allows to finish first).
    if (reason !== '') this.extrasMade().peerReason = reason;
    if (!this.has(CLOSE_SENT))
      this.sendClose(code === CloseCode.NoStatus ? undefined : code, '', 0);
    this.sink.onClose(code, reason);
  }
}
