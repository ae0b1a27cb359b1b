/**
 * The read buffer of InCore's IoDevice mode: bytes of received binary messages, consumed from
 * the front, as a sequential `QIODevice` buffers what its socket received.
 */
export class ReadBuffer {
  #chunks: Uint8Array[] = [];
  #size = 0;

  get size(): number {
    return this.#size;
  }

  append(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.#chunks.push(bytes);
    this.#size += bytes.length;
  }

  clear(): void {
    this.#chunks = [];
    this.#size = 0;
  }

  /** Index of the first `\n`, or -1. */
  indexOfNewline(): number {
    let offset = 0;
    for (const chunk of this.#chunks) {
      const i = chunk.indexOf(0x0a);
      if (i >= 0) return offset + i;
      offset += chunk.length;
    }
    return -1;
  }

  /** Copies up to `max` bytes from the front; removes them unless `peek`. */
  take(max: number, peek = false): Uint8Array {
    const n = Math.max(0, Math.min(max, this.#size));
    const out = new Uint8Array(n);
    let filled = 0;
    let used = 0;
    for (const chunk of this.#chunks) {
      if (filled === n) break;
      const part = Math.min(chunk.length, n - filled);
      out.set(part === chunk.length ? chunk : chunk.subarray(0, part), filled);
      filled += part;
      if (part === chunk.length) used++;
      else if (!peek) this.#chunks[used] = chunk.subarray(part);
    }
    if (!peek) {
      this.#chunks.splice(0, used);
      this.#size -= n;
    }
    return out;
  }
}
