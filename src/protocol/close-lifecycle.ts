import { CloseCode } from './close-codes.js';
import { MAX_CONTROL_PAYLOAD } from './frame-header.js';
import type { Role } from './protocol-options.js';

/** Largest close reason: 125 bytes of control payload minus the 2-byte code. */
export const MAX_CLOSE_REASON_BYTES = MAX_CONTROL_PAYLOAD - 2;

/** How a connection ended: the fields of the close event (WHATWG `CloseEvent`). */
export interface CloseResult {
  /**
   * The code of the peer's close frame; 1005 when it carried none (RFC 6455 section 7.1.5);
   * 1006 when the connection ended without one (section 7.1.5 / 7.4.1).
   */
  code: number;
  /** The reason of the peer's close frame, or "". */
  reason: string;
  /** Both close frames were exchanged and the protocol was never broken (section 7.1.4). */
  wasClean: boolean;
}

/** Where a connection stands in the closing handshake: what the rules below decide from. */
export interface CloseStatus {
  role: Role;
  closeSent: boolean;
  closeReceived: boolean;
  /** The connection was failed (section 7.1.7). */
  failed: boolean;
  /** The transport reported that the peer's side of the connection ended. */
  eofReceived: boolean;
  /** Every queued outgoing frame (the close frame included) has been handed to the transport. */
  idle: boolean;
  /** Code and reason of the peer's close frame, when one arrived. */
  peerCode: number;
  peerReason: string;
}

/**
 * Whether the transport should close the underlying connection now (half-close its side).
 * RFC 6455 section 7.1.1: after the closing handshake the server closes the TCP connection
 * first, and the client waits for it; section 7.1.7: a failed connection is closed at once,
 * without waiting for an answer; and once the peer's side has ended there is nothing to wait for.
 */
export function shouldCloseTransport(status: CloseStatus): boolean {
  if (status.failed || status.eofReceived) return true;
  return status.role === 'server' && status.closeSent && status.closeReceived && status.idle;
}

/** The close event's fields for a connection in `status` whose transport has closed. */
export function closeResult(status: CloseStatus): CloseResult {
  if (!status.closeReceived) return { code: CloseCode.Abnormal, reason: '', wasClean: false };
  return {
    code: status.peerCode,
    reason: status.peerReason,
    wasClean: !status.failed && status.closeSent,
  };
}

/**
 * Checks that `reason` fits in a close frame (section 5.5: at most 123 UTF-8 bytes) and returns
 * its length in bytes; throws a RangeError naming both lengths otherwise, its message starting
 * with `what`. `byteLength` measures UTF-8 the way the caller's encoder will write the reason.
 */
export function checkCloseReason(
  reason: string,
  byteLength: (text: string) => number,
  what = 'close reason',
): number {
  const length = reason === '' ? 0 : byteLength(reason);
  if (length > MAX_CLOSE_REASON_BYTES) {
    throw new RangeError(
      `${what} is ${length} UTF-8 bytes long; at most ${MAX_CLOSE_REASON_BYTES} are allowed`,
    );
  }
  return length;
}
