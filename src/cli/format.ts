/**
 * How the wskit commands show things: time stamps, text made safe for a terminal, pretty JSON,
 * hex dumps, close codes.
 */
import { Buffer } from 'node:buffer';
import { CloseCode } from '../index.js';

/** `HH:MM:SS.mmm` in local time. */
export function timestamp(date: Date = new Date()): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}.${String(
    date.getMilliseconds(),
  ).padStart(3, '0')}`;
}

/** Width of `HH:MM:SS.mmm X ` (time stamp, marker, spaces): continuation lines indent by it. */
export const PREFIX_WIDTH = 15;

/** C0 and C1 controls except tab and line feed, DEL, and the bidirectional overrides. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text from the network made safe for a terminal: control characters other than tab and line
 * feed (escape sequences could rewrite the screen) are shown as `\xNN` / `\uNNNN`; a CR LF
 * pair becomes a line feed.
 */
export function safeText(text: string): string {
  return text.replace(/\r\n/g, '\n').replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** `text` pretty-printed when it is a JSON object or array, else unchanged. */
export function prettyJson(text: string): string {
  const trimmed = text.trim();
  if (!(trimmed.startsWith('{') || trimmed.startsWith('['))) return text;
  try {
    return JSON.stringify(JSON.parse(trimmed), null, 2);
  } catch {
    return text;
  }
}

/** A `hexdump -C` style dump: offset, 16 bytes in hex, and the printable ASCII. */
export function hexDump(data: Uint8Array): string[] {
  const lines: string[] = [];
  for (let offset = 0; offset < data.length; offset += 16) {
    const row = data.subarray(offset, offset + 16);
    let hex = '';
    let ascii = '';
    for (let i = 0; i < 16; i++) {
      if (i === 8) hex += ' ';
      if (i < row.length) {
        const b = row[i]!;
        hex += `${b.toString(16).padStart(2, '0')} `;
        ascii += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
      } else {
        hex += '   ';
      }
    }
    lines.push(`${offset.toString(16).padStart(8, '0')}  ${hex} |${ascii}|`);
  }
  return lines;
}

/** How much of a binary message the one-line summary shows, in bytes. */
const SUMMARY_BYTES = 32;

/** Display settings of a session. */
export interface MessageFormat {
  /** Pretty-print JSON text messages. */
  json: boolean;
  /** Show binary messages as a full hex dump (otherwise a one-line summary). */
  hexDump: boolean;
}

/**
 * The lines that show a message: the first one goes after the time stamp and direction, the
 * others are continuation lines (the caller indents them).
 */
export function messageLines(data: string | Uint8Array, format: MessageFormat): string[] {
  if (typeof data === 'string') {
    const text = format.json ? prettyJson(data) : data;
    return safeText(text).split('\n');
  }
  const size = `${data.length} byte${data.length === 1 ? '' : 's'}`;
  if (format.hexDump) return [`[binary, ${size}]`, ...hexDump(data)];
  const shown = Buffer.from(data.subarray(0, SUMMARY_BYTES)).toString('hex');
  const more = data.length > SUMMARY_BYTES ? '...' : '';
  return [`[binary, ${size}]${shown ? ` ${shown}${more}` : ''}`];
}

/** Display width of `text` in terminal cells (wide East Asian characters count as two). */
export function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (code < 0x20 || (code >= 0x7f && code < 0xa0)) continue;
    width += isWide(code) ? 2 : 1;
  }
  return width;
}

function isWide(code: number): boolean {
  return (
    (code >= 0x1100 && code <= 0x115f) ||
    (code >= 0x2e80 && code <= 0xa4cf) ||
    (code >= 0xac00 && code <= 0xd7a3) ||
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0xfe30 && code <= 0xfe4f) ||
    (code >= 0xff00 && code <= 0xff60) ||
    (code >= 0xffe0 && code <= 0xffe6) ||
    (code >= 0x1f300 && code <= 0x1faff) ||
    (code >= 0x20000 && code <= 0x3fffd)
  );
}

/** `host:port` of an address, with brackets for IPv6 and IPv4-mapped IPv6 made plain. */
export function hostPort(address: string | undefined, port: number | undefined): string {
  const host = (address ?? '?').replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
  return `${host.includes(':') ? `[${host}]` : host}:${port ?? '?'}`;
}

/** `s` quoted for a log line, as JSON does it. */
export function quote(s: string): string {
  return JSON.stringify(s);
}

const CLOSE_CODE_NAMES = new Map<number, string>(
  Object.entries(CloseCode).map(([name, code]) => [
    code,
    name.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase(),
  ]),
);

/** A close code with its meaning: `1001 (going away)`. */
export function describeCloseCode(code: number): string {
  const name =
    CLOSE_CODE_NAMES.get(code) ??
    (code >= 3000 && code <= 3999
      ? 'registered'
      : code >= 4000 && code <= 4999
        ? 'application'
        : 'unknown');
  return `${code} (${name})`;
}
