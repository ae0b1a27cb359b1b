import type { WebSocketErrorCode } from '../errors.js';
import { isValidWireCloseCode } from './close-codes.js';
import {
  type CloseResult,
  type CloseStatus,
  checkCloseReason,
  closeResult,
  shouldCloseTransport,
} from './close-lifecycle.js';
import { MessageReceiver } from './message-receiver.js';
import { portablePlatform } from './platform.js';
import {
  DEFAULT_MAX_PAYLOAD,
  type ProtocolOptions,
  type ProtocolSink,
  type Role,
} from './protocol-options.js';
import {
  AUTO_PONG,
  CLOSE_RECEIVED,
  CLOSE_SENT,
  EOF_RECEIVED,
  EXPECT_MASKED,
  FAILED,
  RSV1_ALLOWED,
} from './state-bits.js';

export { MAX_CLOSE_REASON_BYTES } from './close-lifecycle.js';
export {
  DEFAULT_MAX_PAYLOAD,
  type ProtocolOptions,
  type ProtocolSink,
  type Role,
} from './protocol-options.js';

/**
 * The sans-I/O RFC 6455 engine for one connection: bytes in through {@link receive}, events out
 * through the sink; calls in through the send methods, bytes out through the sink. It never
 * touches a socket or a timer, so it runs under any runtime and is tested without a network.
 *
 * Its jobs are layers of one class, so that a connection costs one object: reading frames
 * (`FrameReader`, frame-parser.ts), sending (`MessageSender`, message-sender.ts), receiving
 * messages (`MessageReceiver`, message-receiver.ts), and here the closing handshake's calls and
 * status (whose rules are in close-lifecycle.ts).
 */
export class WebSocketProtocol extends MessageReceiver {
  constructor(options: ProtocolOptions, sink: ProtocolSink) {
    const platform = options.platform ?? portablePlatform;
    super(
      platform,
      options.maxPayload ?? DEFAULT_MAX_PAYLOAD,
      options.role === 'server',
      sink,
      options.compressor ?? null,
    );
    if (options.autoPong ?? true) this.bits |= AUTO_PONG;
    // RFC 7692 section 6: RSV1 marks a compressed message once the extension is agreed.
    if (this.compressor !== null) this.bits |= RSV1_ALLOWED;
  }

  /** Which end of the connection this engine plays; it decides masking (RFC 6455 section 5.3). */
  get role(): Role {
    return this.has(EXPECT_MASKED) ? 'server' : 'client';
  }

  /** This side has sent its close frame: no data frame may follow (RFC 6455 section 5.5.1). */
  get closeSent(): boolean {
    return this.has(CLOSE_SENT);
  }

  /** The peer's close frame has arrived. */
  get closeReceived(): boolean {
    return this.has(CLOSE_RECEIVED);
  }

  /** The connection was failed because the peer broke the protocol. */
  get failed(): boolean {
    return this.has(FAILED);
  }

  /** Nothing more will be read or written: the transport may close the connection. */
  get done(): boolean {
    return (
      this.has(FAILED) ||
      (this.bits & (CLOSE_SENT | CLOSE_RECEIVED)) === (CLOSE_SENT | CLOSE_RECEIVED)
    );
  }

  /** Where the closing handshake stands. */
  get closeStatus(): CloseStatus {
    return {
      role: this.role,
      closeSent: this.has(CLOSE_SENT),
      closeReceived: this.has(CLOSE_RECEIVED),
      failed: this.has(FAILED),
      eofReceived: this.has(EOF_RECEIVED),
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
    this.bits |= EOF_RECEIVED;
  }

  /** Feeds bytes read from the connection. The engine takes ownership of `chunk`. */
  receive(chunk: Uint8Array): void {
    this.read(chunk);
  }

  /**
   * Starts the closing handshake (RFC 6455 section 7.1.2). Without a code the frame carries no
   * body. Returns false when a close frame was already sent.
   */
  close(code?: number, reason = ''): boolean {
    if (this.has(CLOSE_SENT)) return false;
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
}
