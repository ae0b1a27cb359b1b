/**
 * The one raw frame codec of the tests: a builder that can produce any (also malformed) frame, and
 * a decoder for what an engine or a server wrote (RFC 6455 section 5.2).
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { randomFillSync } from 'node:crypto';

// -- frame builder -------------------------------------------------------------------------------

/** One frame as a test wants it on the wire, valid or not. */
export interface FrameSpec {
  opcode: number;
  /** Default true. */
  fin?: boolean;
  rsv1?: boolean;
  rsv2?: boolean;
  rsv3?: boolean;
  /** Strings are encoded as UTF-8. */
  payload?: Uint8Array | string;
  /** A 4-byte key, true for a random key, false or absent for an unmasked frame. */
  mask?: Uint8Array | boolean;
  /** Length field size in bits; default the minimal one. Non-minimal encodings are allowed. */
  lengthBits?: 7 | 16 | 64;
  /** Value written in the length field instead of the payload length (the payload is unchanged). */
  declaredLength?: number | bigint;
}

/** Bytes of `data`: strings as UTF-8, absent as empty. */
export function toBytes(data: Uint8Array | string | undefined): Buffer {
  if (data === undefined) return Buffer.alloc(0);
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
}

/** Builds one raw frame exactly as specified, malformed or not. */
export function frame(spec: FrameSpec): Buffer {
  const payload = toBytes(spec.payload);
  const declared = BigInt(spec.declaredLength ?? payload.length);
  const bits = spec.lengthBits ?? (declared <= 125n ? 7 : declared <= 0xffffn ? 16 : 64);
  let key: Buffer | null = null;
  if (spec.mask instanceof Uint8Array) key = Buffer.from(spec.mask);
  else if (spec.mask === true) key = randomFillSync(Buffer.alloc(4));
  if (key !== null) assert.equal(key.length, 4, 'a masking key has 4 bytes');

  const extra = bits === 7 ? 0 : bits === 16 ? 2 : 8;
  const header = Buffer.alloc(2 + extra + (key ? 4 : 0));
  header[0] =
    ((spec.fin ?? true) ? 0x80 : 0) |
    (spec.rsv1 ? 0x40 : 0) |
    (spec.rsv2 ? 0x20 : 0) |
    (spec.rsv3 ? 0x10 : 0) |
    (spec.opcode & 0x0f);
  const maskBit = key ? 0x80 : 0;
  if (bits === 7) {
    assert.ok(declared <= 125n, '7-bit length field holds at most 125');
    header[1] = maskBit | Number(declared);
  } else if (bits === 16) {
    header[1] = maskBit | 126;
    header.writeUInt16BE(Number(declared), 2);
  } else {
    header[1] = maskBit | 127;
    header.writeBigUInt64BE(declared, 2);
  }
  const body = Buffer.from(payload);
  if (key) {
    key.copy(header, 2 + extra);
    for (let i = 0; i < body.length; i++) body[i]! ^= key[i & 3]!;
  }
  return Buffer.concat([header, body]);
}

/** Close frame body: 2-byte code and UTF-8 reason (or raw bytes). */
export function closeBody(code: number, reason: string | Uint8Array = ''): Buffer {
  const head = Buffer.alloc(2);
  head.writeUInt16BE(code, 0);
  return Buffer.concat([head, toBytes(reason)]);
}

// -- frame decoder -------------------------------------------------------------------------------

/** One frame as {@link decodeFrames} read it. */
export interface DecodedFrame {
  fin: boolean;
  rsv1: boolean;
  rsv2: boolean;
  rsv3: boolean;
  opcode: number;
  masked: boolean;
  maskKey: Buffer | null;
  /** Size of the length field in bits (7, 16 or 64). */
  lengthBits: 7 | 16 | 64;
  /** The payload, unmasked. */
  payload: Buffer;
  /** The payload as it was on the wire. */
  wirePayload: Buffer;
}

/**
 * The size of the frame `bytes` starts with, read from its header alone; -1 while the header is
 * incomplete.
 */
export function frameSize(bytes: Uint8Array): number {
  if (bytes.length < 2) return -1;
  const len7 = bytes[1]! & 0x7f;
  const mask = bytes[1]! & 0x80 ? 4 : 0;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (len7 < 126) return 2 + mask + len7;
  if (len7 === 126) return bytes.length < 4 ? -1 : 4 + mask + view.getUint16(2);
  return bytes.length < 10 ? -1 : 10 + mask + Number(view.getBigUint64(2));
}

/** Decodes the first frame of `bytes` and its size; null while that frame is incomplete. */
export function decodeFrame(bytes: Uint8Array): { frame: DecodedFrame; size: number } | null {
  const size = frameSize(bytes);
  if (size < 0 || bytes.length < size) return null;
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, size);
  const b0 = data[0]!;
  const b1 = data[1]!;
  const len7 = b1 & 0x7f;
  const lengthBits: 7 | 16 | 64 = len7 === 126 ? 16 : len7 === 127 ? 64 : 7;
  let o = lengthBits === 7 ? 2 : lengthBits === 16 ? 4 : 10;
  const masked = (b1 & 0x80) !== 0;
  let maskKey: Buffer | null = null;
  if (masked) {
    maskKey = Buffer.from(data.subarray(o, o + 4));
    o += 4;
  }
  const wirePayload = Buffer.from(data.subarray(o, size));
  const payload = Buffer.from(wirePayload);
  if (maskKey) for (let i = 0; i < payload.length; i++) payload[i]! ^= maskKey[i & 3]!;
  const frame: DecodedFrame = {
    fin: (b0 & 0x80) !== 0,
    rsv1: (b0 & 0x40) !== 0,
    rsv2: (b0 & 0x20) !== 0,
    rsv3: (b0 & 0x10) !== 0,
    opcode: b0 & 0x0f,
    masked,
    maskKey,
    lengthBits,
    payload,
    wirePayload,
  };
  return { frame, size };
}

/** Decodes a complete sequence of frames; throws on trailing partial bytes. */
export function decodeFrames(bytes: Uint8Array): DecodedFrame[] {
  const frames: DecodedFrame[] = [];
  let rest = bytes;
  while (rest.length > 0) {
    const decoded = decodeFrame(rest);
    assert.ok(decoded, `truncated frame: ${rest.length} trailing bytes are not a whole frame`);
    frames.push(decoded.frame);
    rest = rest.subarray(decoded.size);
  }
  return frames;
}

/** Code and reason of a decoded close frame; code is undefined for an empty body. */
export function parseCloseBody(payload: Buffer): { code: number | undefined; reason: string } {
  if (payload.length === 0) return { code: undefined, reason: '' };
  return { code: payload.readUInt16BE(0), reason: payload.subarray(2).toString('utf8') };
}
