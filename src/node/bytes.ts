import { Buffer } from 'node:buffer';

/** What `send()` accepts, as in the WHATWG standard. */
export type WebSocketData = string | ArrayBufferLike | ArrayBufferView | Blob;

/** A view of the bytes of a buffer or view, without copying. */
export function toBytes(data: ArrayBufferLike | ArrayBufferView): Uint8Array {
  if (ArrayBuffer.isView(data))
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

/** The same bytes as a Node `Buffer`, without copying. */
export function toBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.length);
}

/** The bytes as an `ArrayBuffer` of their own (the underlying one when they fill it). */
export function toArrayBuffer(data: Uint8Array): ArrayBuffer {
  const { buffer, byteOffset, length } = data;
  if (byteOffset === 0 && length === buffer.byteLength && buffer instanceof ArrayBuffer)
    return buffer;
  return buffer.slice(byteOffset, byteOffset + length) as ArrayBuffer;
}

/** Bytes `data` occupies on the wire as a payload (UTF-8 for text). */
export function byteSize(data: WebSocketData): number {
  if (typeof data === 'string') return Buffer.byteLength(data);
  if (data instanceof Blob) return data.size;
  if (ArrayBuffer.isView(data)) return data.byteLength;
  if (data instanceof ArrayBuffer || data instanceof SharedArrayBuffer) return data.byteLength;
  return Buffer.byteLength(String(data));
}

/**
 * One flat copy of a string: URL parsing leaves concatenated and sliced strings that keep their
 * pieces alive, about 300 bytes per socket instead of one ~40-byte string. A serialized URL
 * and a request head hold no lone surrogate, so the UTF-8 round trip is exact.
 */
export function flatCopy(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}
