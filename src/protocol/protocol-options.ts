import type { ProtocolError } from '../errors.js';
import type { MessageCompressor } from './extensions/message-compressor.js';
import type { Platform } from './platform.js';

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
