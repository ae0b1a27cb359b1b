/**
 * The read buffer of InCore's IoDevice mode: bytes of received binary messages, consumed from
 * the front, as a sequential `QIODevice` buffers what its socket received.
 *
 * Linear in the bytes received: appending never copies what is held, each byte is searched for
 * a newline at most once (the search resumes where the last one stopped), and consuming from
 * the front advances an index instead of shifting the list of chunks.
 */
export class ReadBuffer {
  #chunks: Uint8Array[] = [];
  /** Index of the first chunk still holding unread bytes. */
  #head = 0;
  #size = 0;
  /** Stream offset of the first unread byte. */
  #start = 0;
  /** Where the newline search resumes: a chunk index, the chunk's stream offset, an offset in it. */
  #scanChunk = 0;
  #scanChunkStart = 0;
  #scanOffset = 0;
  /** Stream offset of the first newline at or after `#start`, or -1 when none is known. */
  #newline = -1;
  /** Bytes examined by the newline search since creation; for tests of linearity. */
  #bytesSearched = 0;

  get size(): number {
    return this.#size;
  }

  /** How many bytes the newline search has examined in all (each received byte at most once). */
  get bytesSearched(): number {
    return this.#bytesSearched;
  }

  append(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.#chunks.push(bytes);
    this.#size += bytes.length;
  }

  clear(): void {
    this.#start += this.#size;
    this.#size = 0;
    this.#reset();
  }

  /** Index of the first `\n` from the front, or -1. */
  indexOfNewline(): number {
    if (this.#newline < 0) this.#search();
    return this.#newline < 0 ? -1 : this.#newline - this.#start;
  }

  /** Resumes the newline search at the first byte not searched yet. */
  #search(): void {
    const chunks = this.#chunks;
    while (this.#scanChunk < chunks.length) {
      const chunk = chunks[this.#scanChunk]!;
      const from = this.#scanOffset;
      const at = chunk.indexOf(0x0a, from);
      if (at >= 0) {
        this.#bytesSearched += at + 1 - from;
        this.#newline = this.#scanChunkStart + at;
        this.#scanOffset = at + 1;
        return;
      }
      this.#bytesSearched += chunk.length - from;
      this.#scanChunkStart += chunk.length;
      this.#scanChunk++;
      this.#scanOffset = 0;
    }
  }

  /** Copies up to `max` bytes from the front; removes them unless `peek`. */
  take(max: number, peek = false): Uint8Array {
    const n = Math.max(0, Math.min(max, this.#size));
    const out = new Uint8Array(n);
    let filled = 0;
    let i = this.#head;
    while (filled < n) {
      const chunk = this.#chunks[i]!;
      const part = Math.min(chunk.length, n - filled);
      out.set(part === chunk.length ? chunk : chunk.subarray(0, part), filled);
      filled += part;
      if (part < chunk.length) {
        if (!peek) this.#chunks[i] = chunk.subarray(part);
        break;
      }
      i++;
    }
    if (!peek) this.#consume(n, i);
    return out;
  }

  /** Drops `n` bytes from the front; `head` is the first chunk that still holds unread bytes. */
  #consume(n: number, head: number): void {
    this.#size -= n;
    this.#start += n;
    this.#head = head;
    if (this.#newline >= 0 && this.#newline < this.#start) this.#newline = -1;
    if (this.#size === 0) {
      this.#reset();
      return;
    }
    const scanAt = this.#scanChunkStart + this.#scanOffset;
    if (this.#scanChunk < head || scanAt < this.#start) {
      // The search had not reached the new front: resume from it.
      this.#scanChunk = head;
      this.#scanChunkStart = this.#start;
      this.#scanOffset = 0;
    } else if (this.#scanChunk === head) {
      // The front chunk may have been cut: its bytes now start at the new front.
      this.#scanOffset = scanAt - this.#start;
      this.#scanChunkStart = this.#start;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#chunks.length) {
      // Compact now and then, so consumed chunks do not pile up: amortised O(1) per chunk.
      this.#chunks = this.#chunks.slice(this.#head);
      this.#scanChunk -= this.#head;
      this.#head = 0;
    }
  }

  #reset(): void {
    this.#chunks = [];
    this.#head = 0;
    this.#scanChunk = 0;
    this.#scanChunkStart = this.#start;
    this.#scanOffset = 0;
    this.#newline = -1;
  }
}
