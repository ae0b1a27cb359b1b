/** Largest payload length a 7-bit length field carries directly (RFC 6455 section 5.2). */
export const MAX_7BIT_LENGTH = 125;
/** Largest payload of a control frame (RFC 6455 section 5.5). */
export const MAX_CONTROL_PAYLOAD = 125;

/** Bytes of the frame header for a payload of `length` bytes, with or without a masking key. */
export function frameHeaderSize(length: number, masked: boolean): number {
  const base = length <= MAX_7BIT_LENGTH ? 2 : length <= 0xffff ? 4 : 10;
  return masked ? base + 4 : base;
}

/**
 * Writes a frame header at `offset` using the minimal length encoding (RFC 6455 section 5.2).
 * When `masked`, the 4 key bytes are left for the caller at the returned offset minus 4.
 * Returns the offset just after the header.
 */
export function writeFrameHeader(
  target: Uint8Array,
  offset: number,
  fin: boolean,
  rsv1: boolean,
  opcode: number,
  length: number,
  masked: boolean,
): number {
  target[offset] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
  const maskBit = masked ? 0x80 : 0;
  let o = offset + 2;
  if (length <= MAX_7BIT_LENGTH) {
    target[offset + 1] = maskBit | length;
  } else if (length <= 0xffff) {
    target[offset + 1] = maskBit | 126;
    target[o] = length >>> 8;
    target[o + 1] = length & 0xff;
    o += 2;
  } else {
    target[offset + 1] = maskBit | 127;
    const high = Math.floor(length / 0x100000000);
    const low = length >>> 0;
    target[o] = high >>> 24;
    target[o + 1] = (high >>> 16) & 0xff;
    target[o + 2] = (high >>> 8) & 0xff;
    target[o + 3] = high & 0xff;
    target[o + 4] = low >>> 24;
    target[o + 5] = (low >>> 16) & 0xff;
    target[o + 6] = (low >>> 8) & 0xff;
    target[o + 7] = low & 0xff;
    o += 8;
  }
  return masked ? o + 4 : o;
}
