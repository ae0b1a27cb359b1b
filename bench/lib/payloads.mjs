// Payloads of the echo benchmark, and the checks that make a broken echo fail instead of look fast.
//
// Each measurement cycles through a ring of distinct messages built up front (256 small ones, or
// 16 MiB worth of large ones, and always at least twice the window), so the client allocates
// nothing per message and never mutates a buffer a library may still hold. Message i is
// ring[i % count]; every echo is compared with what was sent, and its first 4 bytes identify
// its slot, so that a mismatch report says whether a message was lost, reordered or altered.
import { Buffer } from 'node:buffer';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 {}":,';

/** Deterministic xorshift32 filler, so runs are reproducible. */
function filler(seed) {
  let x = seed | 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

/**
 * Builds the ring for one size and type. Binary: Buffers (own, aligned ArrayBuffers) with the
 * slot as a little-endian uint32 first. Text: flat ASCII strings starting with the slot in 4
 * digits (ASCII, so characters = bytes). `bytes[i]` is the wire payload of message slot i.
 */
export function buildRing(size, type, window) {
  if (size < 4) throw new RangeError('payloads are at least 4 bytes');
  const count = Math.max(2 * window, Math.min(256, Math.floor((16 << 20) / size)));
  const bytes = [];
  const messages = [];
  for (let slot = 0; slot < count; slot++) {
    const next = filler(0x9e3779b9 ^ (slot * 2654435761) ^ size);
    const buf = Buffer.alloc(size);
    if (type === 'binary') {
      for (let i = 4; i < size; i++) buf[i] = next() & 0xff;
      buf.writeUInt32LE(slot, 0);
      messages.push(buf);
    } else {
      const tag = String(slot).padStart(4, '0');
      buf.write(tag, 0, 'latin1');
      for (let i = 4; i < size; i++) buf[i] = ALPHABET.charCodeAt(next() % ALPHABET.length);
      messages.push(buf.toString('latin1'));
    }
    bytes.push(buf);
  }
  return { size, type, count, bytes, messages };
}

/**
 * Returns `check(i, data)`, which throws unless `data` is exactly the echo of message i: every
 * echo is compared in full (a memcmp, about 1-2% of the cost of a round trip at any size, and
 * the same for every pairing).
 */
export function echoChecker(ring) {
  const { size, type, count, messages } = ring;
  const fail = (i, why) => {
    throw new Error(`echo mismatch at message ${i} (${size} B ${type}): ${why}`);
  };
  const describe = (i, data) => {
    const slot = i % count;
    if (data.length !== size) return `${data.length} bytes instead of ${size}`;
    const got = type === 'binary' ? data.readUInt32LE(0) : Number(data.slice(0, 4));
    return got === slot ? 'payload differs' : `got message slot ${got} instead of ${slot}`;
  };
  if (type === 'binary') {
    return (i, data) => {
      if (!Buffer.isBuffer(data)) fail(i, `got ${typeof data} instead of a Buffer`);
      if (!data.equals(messages[i % count])) fail(i, describe(i, data));
    };
  }
  return (i, data) => {
    if (typeof data !== 'string') fail(i, `got ${typeof data} instead of a string`);
    if (data !== messages[i % count]) fail(i, describe(i, data));
  };
}

/**
 * Raw TCP has no message boundaries: `check(position, chunk)` compares each received chunk with
 * the bytes expected at that position of the stream.
 */
export function streamChecker(ring) {
  const { size, count, bytes } = ring;
  return (position, chunk) => {
    let p = position;
    let offset = 0;
    while (offset < chunk.length) {
      const message = bytes[Math.floor(p / size) % count];
      const from = p % size;
      const n = Math.min(size - from, chunk.length - offset);
      if (chunk.compare(message, from, from + n, offset, offset + n) !== 0)
        throw new Error(
          `echo mismatch in the TCP stream (${size} B) within bytes ${p}-${p + n - 1}`,
        );
      p += n;
      offset += n;
    }
  };
}
