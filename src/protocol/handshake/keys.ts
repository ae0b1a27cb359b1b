/** The `Sec-WebSocket-Key` / `Sec-WebSocket-Accept` pair of RFC 6455 sections 4.1 and 4.2.2. */
import type { Platform } from '../platform.js';

/** The GUID of RFC 6455 section 1.3, appended to the key before hashing. */
export const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** A fresh `Sec-WebSocket-Key`: 16 random bytes in base64 (RFC 6455 section 4.1). */
export function generateKey(platform: Platform): string {
  const bytes = new Uint8Array(16);
  platform.randomFill(bytes);
  return toBase64(bytes);
}

/** The `Sec-WebSocket-Accept` value that answers `key` (RFC 6455 section 4.2.2). */
export function computeAccept(key: string, platform: Platform): string {
  return platform.sha1Base64(key + WEBSOCKET_GUID);
}

const BASE64_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Whether `key` is base64 that decodes to exactly 16 bytes (RFC 6455 section 4.2.1 item 5). */
export function isValidKey(key: string): boolean {
  if (key.length !== 24 || key[22] !== '=' || key[23] !== '=') return false;
  for (let i = 0; i < 22; i++) if (BASE64_CHARS.indexOf(key[i]!) < 0) return false;
  // The last sextet carries 2 bits of the 16th byte; the 4 bits after them must be zero.
  return (BASE64_CHARS.indexOf(key[21]!) & 0x0f) === 0;
}
