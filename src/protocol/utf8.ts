/** Whole-buffer UTF-8 check. Node passes `buffer.isUtf8` (SIMD); the default works anywhere. */
export type Utf8Check = (bytes: Uint8Array) => boolean;

const fatalDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Portable whole-buffer UTF-8 check for runtimes without `buffer.isUtf8`. */
export function isUtf8Portable(bytes: Uint8Array): boolean {
  try {
    fatalDecoder.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * Incremental UTF-8 validator for text messages that arrive in fragments (RFC 6455 section 8.1:
 * an endpoint that finds invalid UTF-8 MUST fail the connection, and it need not wait for the
 * last fragment to do so). Each fragment is checked as it arrives: the bytes of a code point split
 * across fragments are checked byte by byte against the ranges of RFC 3629 section 4, and the
 * complete code points in between go through the fast whole-buffer check.
 */
export class Utf8Validator {
  private need = 0;
  private lower = 0x80;
  private upper = 0xbf;

  constructor(private readonly isUtf8: Utf8Check) {}

  /** Forgets any partial character: ready for a new message. */
  reset(): void {
    this.need = 0;
    this.lower = 0x80;
    this.upper = 0xbf;
  }

  /** True when no code point is left open: the text may end here. */
  get complete(): boolean {
    return this.need === 0;
  }

  /** Feeds the next bytes; false as soon as they cannot be part of valid UTF-8. */
  push(bytes: Uint8Array): boolean {
    const n = bytes.length;
    let i = 0;
    while (this.need > 0 && i < n) {
      if (!this.step(bytes[i]!)) return false;
      i++;
    }
    if (i === n) return true;
    // A code point cut by the end of this fragment is checked byte by byte, the rest at once.
    let end = n;
    let j = n - 1;
    let back = 0;
    while (j >= i && back < 3 && (bytes[j]! & 0xc0) === 0x80) {
      j--;
      back++;
    }
    if (j >= i) {
      const lead = bytes[j]!;
      const length = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
      if (j + length > n) end = j;
    }
    if (end > i && !this.isUtf8(i === 0 && end === n ? bytes : bytes.subarray(i, end)))
      return false;
    for (let k = end; k < n; k++) if (!this.step(bytes[k]!)) return false;
    return true;
  }

  private step(byte: number): boolean {
    if (this.need === 0) {
      if (byte < 0x80) return true;
      if (byte >= 0xc2 && byte <= 0xdf) this.open(1, 0x80, 0xbf);
      else if (byte === 0xe0) this.open(2, 0xa0, 0xbf);
      else if (byte === 0xed) this.open(2, 0x80, 0x9f);
      else if (byte >= 0xe1 && byte <= 0xef) this.open(2, 0x80, 0xbf);
      else if (byte === 0xf0) this.open(3, 0x90, 0xbf);
      else if (byte >= 0xf1 && byte <= 0xf3) this.open(3, 0x80, 0xbf);
      else if (byte === 0xf4) this.open(3, 0x80, 0x8f);
      else return false;
      return true;
    }
    if (byte < this.lower || byte > this.upper) return false;
    this.lower = 0x80;
    this.upper = 0xbf;
    this.need--;
    return true;
  }

  private open(need: number, lower: number, upper: number): void {
    this.need = need;
    this.lower = lower;
    this.upper = upper;
  }
}
