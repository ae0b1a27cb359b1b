import { HandshakeError } from '../errors.js';
import { isToken } from './http-tokens.js';
import { portablePlatform } from './platform.js';

/** An HTTP/1.1 response head: status line and headers (lower-cased names). */
export interface HttpResponseHead {
  httpVersion: string;
  status: number;
  statusText: string;
  /** Header values by lower-cased name; repeated headers are joined with ", ". */
  headers: Record<string, string>;
}

/** Bounds of an HTTP head: bytes and header count. */
export interface HeadLimits {
  /** Largest head, status line and headers, in bytes. Default 16 KiB. */
  maxHeaderBytes?: number;
  /** Most header lines. Default 100. */
  maxHeaders?: number;
}

export const DEFAULT_MAX_HEADER_BYTES = 16 * 1024;
export const DEFAULT_MAX_HEADERS = 100;

/**
 * Reads the head of an HTTP response from a byte stream, bounded in size and header count, with
 * plain scans (no regular expressions). What follows the blank line is returned as `rest`: it is
 * already WebSocket data (RFC 6455 section 4.1: the server may send frames right after 101).
 */
export class HttpHeadParser {
  private readonly maxHeaderBytes: number;
  private readonly maxHeaders: number;
  private chunks: Uint8Array[] = [];
  private total = 0;

  constructor(limits: HeadLimits = {}) {
    this.maxHeaderBytes = limits.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
    this.maxHeaders = limits.maxHeaders ?? DEFAULT_MAX_HEADERS;
  }

  /** Feeds bytes; returns the head and the bytes after it once the head is complete. */
  push(chunk: Uint8Array): { head: HttpResponseHead; rest: Uint8Array } | null {
    const scanFrom = Math.max(0, this.total - 3);
    this.chunks.push(chunk);
    this.total += chunk.length;
    const data =
      this.chunks.length === 1 ? chunk : portablePlatform.concat(this.chunks, this.total);
    this.chunks = [data];
    for (let i = scanFrom; i + 3 < data.length; i++) {
      if (
        data[i] === 0x0d &&
        data[i + 1] === 0x0a &&
        data[i + 2] === 0x0d &&
        data[i + 3] === 0x0a
      ) {
        if (i + 4 > this.maxHeaderBytes) break;
        const head = parseHead(data.subarray(0, i), this.maxHeaders);
        this.chunks = [];
        this.total = 0;
        return { head, rest: data.subarray(i + 4) };
      }
    }
    if (data.length > this.maxHeaderBytes) {
      throw new HandshakeError(
        `the server's HTTP response head exceeds ${this.maxHeaderBytes} bytes`,
      );
    }
    return null;
  }
}

function latin1(bytes: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i += 4096) {
    s += String.fromCharCode(...bytes.subarray(i, Math.min(end, i + 4096)));
  }
  return s;
}

function parseHead(bytes: Uint8Array, maxHeaders: number): HttpResponseHead {
  const lines: string[] = [];
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i === bytes.length || (bytes[i] === 0x0d && bytes[i + 1] === 0x0a)) {
      lines.push(latin1(bytes, start, i));
      start = i + 2;
      i++;
    } else if (bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x00) {
      throw new HandshakeError(
        'the server sent a malformed HTTP response: bare CR, LF or NUL in the head',
      );
    }
  }
  const statusLine = lines[0] ?? '';
  // status-line = HTTP-version SP status-code SP [ reason-phrase ]
  const firstSpace = statusLine.indexOf(' ');
  const httpVersion = firstSpace > 0 ? statusLine.slice(0, firstSpace) : '';
  const statusText3 = statusLine.slice(firstSpace + 1, firstSpace + 4);
  if (
    !httpVersion.startsWith('HTTP/') ||
    statusText3.length !== 3 ||
    !isDigits(statusText3) ||
    (statusLine.length > firstSpace + 4 && statusLine[firstSpace + 4] !== ' ')
  ) {
    throw new HandshakeError(
      `the server did not answer with HTTP: ${JSON.stringify(statusLine.slice(0, 80))}`,
    );
  }
  const status = Number(statusText3);
  const statusText = statusLine.slice(firstSpace + 5);
  if (lines.length - 1 > maxHeaders) {
    throw new HandshakeError(`the server's HTTP response has more than ${maxHeaders} headers`);
  }
  const headers: Record<string, string> = Object.create(null);
  for (let l = 1; l < lines.length; l++) {
    const line = lines[l]!;
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    // RFC 9112 section 5: a field name is a token; obsolete line folding is refused.
    if (!isToken(name)) {
      throw new HandshakeError(
        `the server sent a malformed header line: ${JSON.stringify(line.slice(0, 80))}`,
      );
    }
    let a = colon + 1;
    let b = line.length;
    while (a < b && (line.charCodeAt(a) === 0x20 || line.charCodeAt(a) === 0x09)) a++;
    while (b > a && (line.charCodeAt(b - 1) === 0x20 || line.charCodeAt(b - 1) === 0x09)) b--;
    const key = name.toLowerCase();
    const value = line.slice(a, b);
    headers[key] = headers[key] === undefined ? value : `${headers[key]}, ${value}`;
  }
  return { httpVersion, status, statusText, headers };
}

function isDigits(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}
