/**
 * The bits of an engine's one state field (`FrameReader#bits`). Every boolean of a connection,
 * in all its layers (frame reader, sender, receiver), is one bit here, and the code of the peer's
 * close frame sits above them: an idle connection pays one field for all of it. They live in one
 * table so that no two layers take the same bit.
 */

// The frame reader (frame-parser.ts).
/** Incoming frames must be masked: the server role (RFC 6455 section 5.1). */
export const EXPECT_MASKED = 1 << 0;
/** A negotiated extension gives RSV1 a meaning (RFC 7692 section 6). */
export const RSV1_ALLOWED = 1 << 1;
/** Reading has stopped for good: later bytes are ignored. */
export const STOPPED = 1 << 2;

// The sender (message-sender.ts).
/** A fragmented message is being sent: whole messages wait for its end. */
export const SENDING_FRAGMENTED = 1 << 3;
/** A message is being compressed: the frames queued behind it wait. */
export const COMPRESSING = 1 << 4;
/** This side's close frame is sent or queued: no data frame may follow (section 5.5.1). */
export const CLOSE_SENT = 1 << 5;
/** The close frame is queued behind compressions but not written yet. */
export const CLOSE_PENDING = 1 << 6;

// The receiver (message-receiver.ts).
/** Answer each ping with a pong (the `autoPong` option). */
export const AUTO_PONG = 1 << 7;
/** The validator has seen bytes of the text message now arriving. */
export const UTF8_OPEN = 1 << 8;
/** A message is being decompressed: what arrives behind it waits. */
export const INBOUND_BUSY = 1 << 9;
/** The transport was asked to stop reading (the backlog is full). */
export const PAUSED = 1 << 10;
/** The peer's close frame has arrived. */
export const CLOSE_RECEIVED = 1 << 11;
/** The connection was failed (section 7.1.7). */
export const FAILED = 1 << 12;
/** The transport reported the end of the peer's side of the connection. */
export const EOF_RECEIVED = 1 << 13;

/** The peer's close code (at most 4999: 13 bits) is kept from this bit up; 0 when none came. */
export const PEER_CODE_SHIFT = 16;
