/**
 * A process-wide limit on concurrent zlib jobs. Every zlib job runs on libuv's small thread
 * pool and holds its own buffers; thousands at once fragment memory and starve DNS and file I/O
 * of threads. Jobs beyond the limit wait in a FIFO queue.
 */
export class ZlibLimiter {
  #limit: number;
  #running = 0;
  #queue: Array<(done: () => void) => void> = [];

  constructor(limit: number) {
    this.#limit = limit;
  }

  get limit(): number {
    return this.#limit;
  }

  set limit(value: number) {
    if (!Number.isInteger(value) || value < 1)
      throw new RangeError(`zlib concurrency must be a positive integer, got ${value}`);
    this.#limit = value;
    this.#next();
  }

  /** Jobs running now. */
  get running(): number {
    return this.#running;
  }

  /** Jobs waiting for a slot. */
  get waiting(): number {
    return this.#queue.length;
  }

  /** Runs `job` when a slot is free; the job calls `done` exactly once when it finishes. */
  run(job: (done: () => void) => void): void {
    this.#queue.push(job);
    this.#next();
  }

  #next(): void {
    while (this.#running < this.#limit && this.#queue.length > 0) {
      const job = this.#queue.shift()!;
      this.#running++;
      let finished = false;
      job(() => {
        if (finished) return;
        finished = true;
        this.#running--;
        this.#next();
      });
    }
  }
}

/** The limiter every permessage-deflate context of this process shares (default 10 jobs). */
export const zlibLimiter = new ZlibLimiter(10);
