import { HandshakeError } from '../errors.js';
import { isToken } from './http-tokens.js';

/** An HTTP/1.1 response head: status line and headers (lower-cased names). */
export interface HttpResponseHead {
  httpVersion: string;
  status: number;
  statusText: string;
  /** Header values by lower-cased name; repeated headers are joined with ", ". */
  headers: Record<string, string>;
}

/** An HTTP/1.1 request head: request line and headers (lower-cased names). */
export interface HttpRequestHead {
  method: string;
  /** The request target as sent (origin form: path and query). */
  target: string;
  /** `1.1` for `HTTP/1.1`, as Node's `IncomingMessage.httpVersion`. */
  httpVersion: string;
  /** Header values by lower-cased name; repeated headers are joined with ", ". */
  headers: Record<string, string>;
  /** Number of header lines, repeated names counted each time. */
  headerCount: number;
}

export interface HeadLimits {
  /** Largest head, start line and headers, in bytes. Default 16 KiB. */
  maxHeaderBytes?: number;
  /** Most header lines. Default 100. */
  maxHeaders?: number;
}

/** Default of {@link HeadLimits.maxHeaderBytes}. */
export const DEFAULT_MAX_HEADER_BYTES = 16 * 1024;
/** Default of {@link HeadLimits.maxHeaders}. */
export const DEFAULT_MAX_HEADERS = 100;

const CR = 0x0d;
const LF = 0x0a;
const HTTP_PREFIX = 'HTTP/';

/** Why a head was refused; the subclass turns it into the error its side reports. */
type Refuse = (message: string, status: number) => Error;

/**
 * Reads one HTTP/1.1 head (start line and header lines) from a byte stream, in one pass: each
 * byte is looked at once and each line is parsed as soon as its CRLF arrives, so the work is
 * linear in the input however it is split, and a peer that does not speak HTTP, or breaks the
 * line grammar, is refused at the byte that shows it rather than when a timeout fires.
 */
abstract class HeadReader<Head> {
  private readonly maxHeaderBytes: number;
  private readonly maxHeaders: number;
  /** Bytes of the current head seen so far. */
  private size = 0;
  /** Latin-1 text of the current line received in earlier chunks. */
  private partial = '';
  /** The previous byte was a CR (which must be followed by LF). */
  private afterCr = false;
  /** Lines completed so far in the current head: 0 until the start line is done. */
  private lineCount = 0;
  private headers: Record<string, string> = Object.create(null);
  protected abstract readonly refuse: Refuse;

  constructor(limits: HeadLimits = {}) {
    this.maxHeaderBytes = limits.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
    this.maxHeaders = limits.maxHeaders ?? DEFAULT_MAX_HEADERS;
  }

  /** Parses the start line; throws (through `refuse`) when it is not valid. */
  protected abstract startLine(line: string): void;
  /** Checks the bytes of the start line that have arrived before its end (`offset` is their index). */
  protected abstract startByte(byte: number, offset: number): void;
  /** The head, once its blank line has arrived. */
  protected abstract finish(headers: Record<string, string>, headerCount: number): Head;

  /**
   * Feeds bytes. Returns the head and the bytes after it once the blank line has arrived (those
   * bytes belong to whatever follows the head), or null while it is incomplete. Throws when the
   * head is malformed or over a limit; the reader is ready for a new head after it returns one.
   */
  push(chunk: Uint8Array): { head: Head; rest: Uint8Array } | null {
    let lineStart = 0;
    const n = chunk.length;
    for (let i = 0; i < n; i++) {
      const byte = chunk[i]!;
      if (this.afterCr) {
        if (byte !== LF) throw this.refuse('has a bare CR: every line must end with CRLF', 400);
        this.afterCr = false;
        // The line is what came before the CR, which may have ended the previous chunk.
        const text = this.partial + latin1(chunk, lineStart, i);
        this.partial = '';
        lineStart = i + 1;
        const line = text.slice(0, -1);
        this.checkSize(i + 1);
        if (line.length === 0 && this.lineCount > 0) {
          const head = this.finish(this.headers, this.lineCount - 1);
          this.reset();
          return { head, rest: chunk.subarray(i + 1) };
        }
        this.line(line);
      } else if (byte === CR) {
        this.afterCr = true;
      } else if (byte === LF) {
        // RFC 9112 section 2.2 lets a recipient accept a bare LF; Node's parser does not, nor do we.
        throw this.refuse('has a bare LF: every line must end with CRLF', 400);
      } else if (byte === 0) {
        throw this.refuse('has a NUL byte in its head', 400);
      } else if (this.lineCount === 0) {
        this.startByte(byte, this.partial.length + i - lineStart);
      }
    }
    this.partial += latin1(chunk, lineStart, n);
    this.checkSize(n);
    this.size += n;
    return null;
  }

  /** Throws when the head is over `maxHeaderBytes` with `used` bytes of this chunk counted. */
  private checkSize(used: number): void {
    if (this.size + used > this.maxHeaderBytes) {
      throw this.refuse(`head exceeds ${this.maxHeaderBytes} bytes`, 431);
    }
  }

  private line(line: string): void {
    if (this.lineCount++ === 0) {
      this.startLine(line);
      return;
    }
    if (this.lineCount - 1 > this.maxHeaders) {
      throw this.refuse(`has more than ${this.maxHeaders} headers`, 431);
    }
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    // RFC 9112 section 5: a field name is a token; obsolete line folding is refused.
    if (!isToken(name)) {
      throw this.refuse(`has a malformed header line ${JSON.stringify(line.slice(0, 80))}`, 400);
    }
    let a = colon + 1;
    let b = line.length;
    while (a < b && (line.charCodeAt(a) === 0x20 || line.charCodeAt(a) === 0x09)) a++;
    while (b > a && (line.charCodeAt(b - 1) === 0x20 || line.charCodeAt(b - 1) === 0x09)) b--;
    const key = name.toLowerCase();
    const value = line.slice(a, b);
    const headers = this.headers;
    headers[key] = headers[key] === undefined ? value : `${headers[key]}, ${value}`;
  }

  private reset(): void {
    this.size = 0;
    this.partial = '';
    this.afterCr = false;
    this.lineCount = 0;
    this.headers = Object.create(null);
  }
}

/**
 * Reads the head of an HTTP response from a byte stream, bounded in size and header count, with
 * plain scans (no regular expressions). What follows the blank line is returned as `rest`: after
 * a 101 it is already WebSocket data (RFC 6455 section 4.1: the server may send frames right
 * after it). Errors are {@link HandshakeError}s.
 */
export class HttpHeadParser extends HeadReader<HttpResponseHead> {
  protected readonly refuse: Refuse = (message) =>
    new HandshakeError(`the server's HTTP response ${message}`);
  private httpVersion = '';
  private status = 0;
  private statusText = '';

  protected startByte(byte: number, offset: number): void {
    if (offset < HTTP_PREFIX.length && byte !== HTTP_PREFIX.charCodeAt(offset)) {
      throw new HandshakeError('the server did not answer with HTTP');
    }
  }

  protected startLine(line: string): void {
    // status-line = HTTP-version SP status-code SP [ reason-phrase ]
    const firstSpace = line.indexOf(' ');
    const httpVersion = firstSpace > 0 ? line.slice(0, firstSpace) : '';
    const code = line.slice(firstSpace + 1, firstSpace + 4);
    if (
      !httpVersion.startsWith(HTTP_PREFIX) ||
      code.length !== 3 ||
      !isDigits(code) ||
      (line.length > firstSpace + 4 && line[firstSpace + 4] !== ' ')
    ) {
      throw new HandshakeError(
        `the server did not answer with HTTP: ${JSON.stringify(line.slice(0, 80))}`,
      );
    }
    this.httpVersion = httpVersion;
    this.status = Number(code);
    this.statusText = line.slice(firstSpace + 5);
  }

  protected finish(headers: Record<string, string>): HttpResponseHead {
    return {
      httpVersion: this.httpVersion,
      status: this.status,
      statusText: this.statusText,
      headers,
    };
  }
}

/** A malformed or oversized request head, with the HTTP status to answer it with. */
export class RequestHeadError extends Error {
  override name = 'RequestHeadError';
  /** 400, or 431 when a size or count limit was passed. */
  readonly status: number;

  constructor(message: string, status: number) {
    super(message);
    this.status = status;
  }
}

/**
 * Reads the head of an HTTP request from a byte stream, for a server that receives the opening
 * handshake itself rather than from an HTTP server. Errors are {@link RequestHeadError}s that
 * carry the status to answer with.
 */
export class HttpRequestHeadParser extends HeadReader<HttpRequestHead> {
  protected readonly refuse: Refuse = (message, status) =>
    new RequestHeadError(`the HTTP request ${message}`, status);
  private method = '';
  private target = '';
  private httpVersion = '';

  protected startByte(byte: number): void {
    // The request line is method SP target SP version: visible ASCII and spaces only.
    if (byte < 0x20 || byte > 0x7e)
      throw this.refuse('has an invalid byte in its request line', 400);
  }

  protected startLine(line: string): void {
    // request-line = method SP request-target SP HTTP-version (RFC 9112 section 3)
    const a = line.indexOf(' ');
    const b = a < 0 ? -1 : line.indexOf(' ', a + 1);
    const method = a > 0 ? line.slice(0, a) : '';
    const target = b > a + 1 ? line.slice(a + 1, b) : '';
    const version = b > 0 ? line.slice(b + 1) : '';
    const digits = version.slice(HTTP_PREFIX.length);
    if (
      !isToken(method) ||
      target === '' ||
      !version.startsWith(HTTP_PREFIX) ||
      digits.length !== 3 ||
      digits[1] !== '.' ||
      !isDigits(digits[0]!) ||
      !isDigits(digits[2]!)
    ) {
      throw this.refuse(`has an invalid request line ${JSON.stringify(line.slice(0, 80))}`, 400);
    }
    this.method = method;
    this.target = target;
    this.httpVersion = digits;
  }

  protected finish(headers: Record<string, string>, headerCount: number): HttpRequestHead {
    return {
      method: this.method,
      target: this.target,
      httpVersion: this.httpVersion,
      headers,
      headerCount,
    };
  }
}

function latin1(bytes: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i += 4096) {
    s += String.fromCharCode(...bytes.subarray(i, Math.min(end, i + 4096)));
  }
  return s;
}

function isDigits(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}
