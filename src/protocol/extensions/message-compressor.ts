/* c8 ignore start -- types only: erased when compiled, so no line of this file ever runs */
import type { ProtocolError } from '../../errors.js';

/**
 * A per-message compression extension as the engine sees it (RFC 7692 permessage-deflate is the
 * one wskit ships). The engine stays sans-I/O: the implementation, zlib on Node, is injected.
 * Calls are made one at a time per direction, in message order.
 */
export interface MessageCompressor {
  /** Messages of fewer bytes than this are sent uncompressed. */
  readonly threshold: number;
  /** Compresses one whole outgoing message into the payload of a frame with RSV1 set. */
  compress(
    data: Uint8Array,
    callback: (error: Error | null, result: Uint8Array | null) => void,
  ): void;
  /**
   * Decompresses one whole incoming message. Must fail with a ProtocolError of close code 1009
   * as soon as the output passes `maxBytes` (0: no limit) — while inflating, not after — and
   * with 1007 when the data is not valid deflate. `check`, when given, sees each piece of output
   * in order as it is produced; when it returns false, decompression stops and fails with 1007
   * (text that is not UTF-8, refused while it inflates).
   */
  decompress(
    data: Uint8Array,
    maxBytes: number,
    callback: (error: ProtocolError | null, result: Uint8Array | null) => void,
    check?: (chunk: Uint8Array) => boolean,
  ): void;
  /** Releases resources (zlib contexts); no call follows. */
  close(): void;
}
/* c8 ignore stop */
