// Payloads of the echo benchmark, and the checks that make a broken echo fail instead of look fast.
//
// Each measurement cycles through a ring of distinct messages built up front (256 small ones, or
// 16 MiB worth of large ones, and always at least twice the window), so the client allocates
// nothing per message and never mutates a buffer a library may still hold. Message i is
// ring[i % count]; every echo is compared with what was sent, and each message names its slot
// (binary: first 4 bytes; text: first 4 digits; json: "page"; log: "# segment"), so that a
// mismatch report says whether a message was lost, reordered or altered.
//
// Types: `binary` (random bytes) and `text` (random ASCII) are incompressible. `json` and `log`
// are realistic compressible text for the permessage-deflate benchmark: `json` is a page of an
// API answer (an array of user objects with ids, names, e-mails, tags, numbers and dates), `log`
// is access-log lines. Both are ASCII, exactly `size` bytes, and every slot draws its own values
// (so a message is not a copy of the one before it, which the deflate window would reduce to
// almost nothing); zlib's default level makes them about 5.5x (json, 16 KiB) and 6.5x (log)
// smaller. For these two types `bytes` is null (they are only sent as text over WebSocket).
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

const pick = (next, list) => list[next() % list.length];
const pad2 = (n) => String(n).padStart(2, '0');

const FIRST_NAMES = [
  'Alice',
  'Bob',
  'Carmen',
  'Dmitri',
  'Elena',
  'Farid',
  'Grace',
  'Hiroshi',
  'Ines',
  'Jonas',
  'Kofi',
  'Lena',
  'Mateo',
  'Nadia',
  'Oskar',
  'Priya',
  'Quentin',
  'Rosa',
  'Sven',
  'Tomasz',
  'Uma',
  'Viktor',
  'Wen',
  'Yara',
  'Zoltan',
];
const LAST_NAMES = [
  'Kowalski',
  'Nguyen',
  'Schmidt',
  'Okafor',
  'Haddad',
  'Rossi',
  'Tanaka',
  'Silva',
  'Novak',
  'Larsen',
  'Fischer',
  'Moreau',
  'Ivanova',
  'Garcia',
  'Dubois',
  'Jensen',
  'Kim',
  'Petrov',
  'Costa',
  'Mendes',
];
const CITIES = [
  'Lisbon',
  'Berlin',
  'Osaka',
  'Lagos',
  'Montreal',
  'Krakow',
  'Austin',
  'Lyon',
  'Pune',
  'Tallinn',
  'Bogota',
  'Perth',
];
const TAGS = [
  'admin',
  'beta',
  'trial',
  'premium',
  'eu',
  'us',
  'apac',
  'mobile',
  'desktop',
  'api',
  'legacy',
  'vip',
  'churn-risk',
  'newsletter',
];

/** Random lowercase letters: the filler that brings a message to its exact size. */
function letters(next, n) {
  let out = '';
  for (let i = 0; i < n; i++) out += String.fromCharCode(97 + (next() % 26));
  return out;
}

/**
 * A page of an API answer, exactly `size` bytes of valid JSON:
 * {"page":<slot>,"pageSize":100,"items":[{"id":..,"name":..,...},...],"next":null,"pad":".."}
 */
export function jsonText(size, slot) {
  const next = filler(0x2545f491 ^ (slot * 2654435761) ^ size);
  const head = `{"page":${slot},"pageSize":100,"items":[`;
  const tail = '],"next":null,"pad":""}';
  const budget = size - head.length - tail.length;
  if (budget < 0) throw new RangeError(`json payloads are at least ${head.length + tail.length} B`);
  const items = [];
  let length = 0;
  let id = 100_000 + slot * 5000;
  for (;;) {
    id += 1 + (next() % 50);
    const first = pick(next, FIRST_NAMES);
    const last = pick(next, LAST_NAMES);
    const tags = Array.from({ length: next() % 4 }, () => `"${pick(next, TAGS)}"`).join(',');
    const created =
      `2025-${pad2(1 + (next() % 12))}-${pad2(1 + (next() % 28))}` +
      `T${pad2(next() % 24)}:${pad2(next() % 60)}:${pad2(next() % 60)}Z`;
    const item =
      `{"id":${id},"name":"${first} ${last}",` +
      `"email":"${first.toLowerCase()}.${last.toLowerCase()}${next() % 100}@example.com",` +
      `"city":"${pick(next, CITIES)}","tags":[${tags}],"score":${(next() % 100_000) / 100},` +
      `"orders":${next() % 500},"active":${next() % 4 !== 0},"created":"${created}"}`;
    const added = (items.length > 0 ? 1 : 0) + item.length;
    if (length + added > budget) break;
    items.push(item);
    length += added;
  }
  const text = `${head}${items.join(',')}],"next":null,"pad":"${letters(next, budget - length)}"}`;
  if (text.length !== size) throw new Error(`json payload of ${text.length} B, not ${size}`);
  return text;
}

const LEVELS = ['INFO ', 'INFO ', 'INFO ', 'INFO ', 'DEBUG', 'DEBUG', 'WARN ', 'ERROR'];
const METHODS = ['GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE'];
const PATHS = [
  '/api/v1/users/',
  '/api/v1/orders/',
  '/api/v1/products/',
  '/api/v2/search?q=',
  '/static/app.',
  '/healthz?probe=',
];
const STATUSES = [200, 200, 200, 200, 201, 204, 304, 400, 404, 500];
const BODY_SIZES = [512, 1024, 2048, 4096, 173, 88, 15360];
const SESSIONS = ['a81f', 'c3d2', '77e0', '19bb', 'f00d', 'beef', '0c4a', 'd1e5'];

/** Access-log lines, exactly `size` bytes: "# segment <slot>\n" then one request per line. */
export function logText(size, slot) {
  const next = filler(0x68e31da4 ^ (slot * 2654435761) ^ size);
  let time = Date.UTC(2026, 10, 22, 3, 0, 0) + slot * 600_000;
  const lines = [`# segment ${slot}\n`];
  let length = lines[0].length;
  if (length > size) throw new RangeError(`log payloads are at least ${length} B`);
  for (;;) {
    time += next() % 40;
    const line =
      `${new Date(time).toISOString()} ${pick(next, LEVELS)} [worker-${next() % 8}] ` +
      `${pick(next, METHODS)} ${pick(next, PATHS)}${next() % 2000} ${pick(next, STATUSES)} ` +
      `${next() % 400}ms ${pick(next, BODY_SIZES)}B user=${pick(next, FIRST_NAMES).toLowerCase()} ` +
      `session=${pick(next, SESSIONS)}\n`;
    if (length + line.length > size) break;
    lines.push(line);
    length += line.length;
  }
  const rest = size - length;
  const text = lines.join('') + (rest > 0 ? `${'-'.repeat(rest - 1)}\n` : '');
  if (text.length !== size) throw new Error(`log payload of ${text.length} B, not ${size}`);
  return text;
}

/** The slot a message names (see the top of this file), or NaN. */
function slotOf(type, data) {
  if (type === 'binary') return data.length >= 4 ? data.readUInt32LE(0) : Number.NaN;
  const pattern = { text: /^(\d{4})/, json: /^\{"page":(\d+),/, log: /^# segment (\d+)\n/ }[type];
  const match = pattern.exec(data.slice(0, 32));
  return match ? Number(match[1]) : Number.NaN;
}

/**
 * Builds the ring for one size and type. Binary: Buffers (own, aligned ArrayBuffers) with the
 * slot as a little-endian uint32 first. Text: flat ASCII strings starting with the slot in 4
 * digits (ASCII, so characters = bytes). Json and log: flat ASCII strings, see above.
 * `bytes[i]` is the wire payload of message slot i (null for json and log).
 */
export function buildRing(size, type, window) {
  if (size < 4) throw new RangeError('payloads are at least 4 bytes');
  const count = Math.max(2 * window, Math.min(256, Math.floor((16 << 20) / size)));
  if (type === 'json' || type === 'log') {
    const make = type === 'json' ? jsonText : logText;
    // Flattened once here, so that no library pays for flattening a rope on its first send.
    const messages = Array.from({ length: count }, (_, slot) => make(size, slot));
    for (const m of messages) m.charCodeAt(0);
    return { size, type, count, bytes: null, messages };
  }
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
    const got = slotOf(type, data);
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
