/**
 * Reads the body of an HTTP/1.1 response that refused an upgrade, framed as RFC 9112 section 6.3
 * says: none, `Content-Length`, `Transfer-Encoding: chunked` (de-chunked here), or until the
 * connection closes. Only the first `maxBytes` of it are kept: the body is for an error message.
 */
import { listHasToken, splitList } from './http-tokens.js';

/** How the body of a response is delimited (RFC 9112 section 6.3). */
export type BodyFraming =
  | { kind: 'none' }
  | { kind: 'length'; length: number }
  | { kind: 'chunked' }
  | { kind: 'close' };

/** The framing of the body that follows a response head with this status and these headers. */
export function bodyFraming(
  status: number,
  headers: Readonly<Record<string, string>>,
): BodyFraming {
  // RFC 9112 section 6.3 item 1: 1xx, 204 and 304 answers never have a body.
  if ((status >= 100 && status < 200) || status === 204 || status === 304) return { kind: 'none' };
  const te = headers['transfer-encoding'];
  if (te !== undefined) {
    // Item 4: chunked must be the last coding; anything else is delimited by the close.
    const codings = splitList(te);
    const last = codings[codings.length - 1];
    return last !== undefined && listHasToken(last, 'chunked')
      ? { kind: 'chunked' }
      : { kind: 'close' };
  }
  const cl = headers['content-length'];
  if (cl !== undefined) {
    // Item 5: repeated identical values ("5, 5") are one length; anything else is not a length.
    const values = splitList(cl);
    const first = values[0];
    if (
      first !== undefined &&
      first.length <= 15 &&
      isDecimal(first) &&
      values.every((v) => v === first)
    ) {
      return { kind: 'length', length: Number(first) };
    }
  }
  return { kind: 'close' };
}

const CR = 0x0d;
const LF = 0x0a;

type ChunkState = 'size' | 'extension' | 'size-lf' | 'data' | 'data-cr' | 'data-lf' | 'trailer';

/** Collects the start of a response body, de-chunking it when it is chunked. */
export class HttpBodyReader {
  private readonly framing: BodyFraming;
  private readonly maxBytes: number;
  private readonly kept: Uint8Array[] = [];
  private keptBytes = 0;
  /** Body bytes still expected (`length` framing) or left in the current chunk (`chunked`). */
  private remaining: number;
  private state: ChunkState = 'size';
  private sizeDigits = 0;
  /** Whether the current trailer line has any byte yet (an empty one ends the message). */
  private trailerLineEmpty = true;
  private complete: boolean;

  constructor(framing: BodyFraming, maxBytes: number) {
    this.framing = framing;
    this.maxBytes = maxBytes;
    this.remaining = framing.kind === 'length' ? framing.length : 0;
    this.complete = framing.kind === 'none' || (framing.kind === 'length' && framing.length === 0);
  }

  /** Whether the whole body has arrived, or as much of it as is kept. */
  get done(): boolean {
    return this.complete || this.keptBytes >= this.maxBytes;
  }

  /** The body bytes kept so far (at most `maxBytes`). */
  body(): Uint8Array {
    const out = new Uint8Array(this.keptBytes);
    let offset = 0;
    for (const piece of this.kept) {
      out.set(piece, offset);
      offset += piece.length;
    }
    return out;
  }

  /** Feeds bytes that follow the head; returns {@link done}. Framing errors end the body there. */
  push(chunk: Uint8Array): boolean {
    if (this.done) return true;
    // 'none' framing is done from the start.
    switch (this.framing.kind) {
      case 'close':
        this.keep(chunk, 0, chunk.length);
        break;
      case 'length': {
        const take = Math.min(this.remaining, chunk.length);
        this.keep(chunk, 0, take);
        this.remaining -= take;
        if (this.remaining === 0) this.complete = true;
        break;
      }
      case 'chunked':
        this.dechunk(chunk);
        break;
    }
    return this.done;
  }

  private keep(chunk: Uint8Array, start: number, end: number): void {
    const room = this.maxBytes - this.keptBytes;
    const stop = Math.min(end, start + room);
    if (stop > start) {
      this.kept.push(chunk.slice(start, stop));
      this.keptBytes += stop - start;
    }
  }

  /** RFC 9112 section 7.1: chunk-size [ chunk-ext ] CRLF chunk-data CRLF ... last-chunk trailers CRLF. */
  private dechunk(chunk: Uint8Array): void {
    let i = 0;
    const n = chunk.length;
    while (i < n && !this.complete) {
      const byte = chunk[i]!;
      switch (this.state) {
        case 'size': {
          const digit = hexValue(byte);
          if (digit >= 0 && this.sizeDigits < 8) {
            this.remaining = this.remaining * 16 + digit;
            this.sizeDigits++;
          } else if (this.sizeDigits > 0 && (byte === 0x3b || byte === 0x20 || byte === 0x09)) {
            this.state = 'extension';
          } else if (this.sizeDigits > 0 && byte === CR) {
            this.state = 'size-lf';
          } else if (this.sizeDigits > 0 && byte === LF) {
            this.endSizeLine();
          } else {
            this.complete = true; // Not chunked framing after all: keep what was decoded.
          }
          i++;
          break;
        }
        case 'extension':
          if (byte === LF) this.endSizeLine();
          i++;
          break;
        case 'size-lf':
          if (byte === LF) this.endSizeLine();
          else this.complete = true;
          i++;
          break;
        case 'data': {
          const take = Math.min(this.remaining, n - i);
          this.keep(chunk, i, i + take);
          this.remaining -= take;
          i += take;
          if (this.remaining === 0) this.state = 'data-cr';
          break;
        }
        case 'data-cr':
          if (byte === CR) this.state = 'data-lf';
          else if (byte === LF) this.nextChunk();
          else this.complete = true;
          i++;
          break;
        case 'data-lf':
          if (byte === LF) this.nextChunk();
          else this.complete = true;
          i++;
          break;
        case 'trailer':
          if (byte === LF) {
            if (this.trailerLineEmpty) this.complete = true;
            this.trailerLineEmpty = true;
          } else if (byte !== CR) {
            this.trailerLineEmpty = false;
          }
          i++;
          break;
      }
    }
  }

  private endSizeLine(): void {
    if (this.remaining === 0) {
      this.state = 'trailer';
      this.trailerLineEmpty = true;
    } else {
      this.state = 'data';
    }
  }

  private nextChunk(): void {
    this.state = 'size';
    this.sizeDigits = 0;
    this.remaining = 0;
  }
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

function isDecimal(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}
