/**
 * A process-wide limit on concurrent zlib jobs. Every zlib job runs on libuv's small thread
 * pool and holds its own buffers; thousands at once fragment memory and starve DNS and file I/O
 * of threads. Jobs beyond the limit wait in a FIFO queue.
 *
 * The limit belongs to the process, not to a connection: set it once at start-up with
 * `zlibLimiter.limit = n` (the one way to change it).
 */
export class ZlibLimiter {
  #limit: number;
  /** Where the limit came from: the default, the setter, or a `concurrencyLimit` option. */
  #source: 'default' | 'setter' | 'option' = 'default';
  #warned = false;
  #running = 0;
  #queue: Array<(done: () => void) => void> = [];

  constructor(limit: number) {
    this.#limit = limit;
  }

  get limit(): number {
    return this.#limit;
  }

  /** Sets the process-wide limit; jobs waiting start at once if the limit grew. */
  set limit(value: number) {
    checkLimit(value);
    this.#source = 'setter';
    this.#apply(value);
  }

  /**
   * Applies a `perMessageDeflate.concurrencyLimit` option (kept for `ws` compatibility, where
   * it is process-wide too). Only the first such value counts, and only when the limit was not
   * set with `zlibLimiter.limit`; a later, different value is reported once as a process warning
   * instead of changing the limit under every other connection.
   */
  adoptOption(value: number): void {
    checkLimit(value);
    if (this.#source === 'default') {
      this.#source = 'option';
      this.#apply(value);
      return;
    }
    if (value !== this.#limit && !this.#warned) {
      this.#warned = true;
      process.emitWarning(
        `perMessageDeflate.concurrencyLimit ${value} ignored: the process-wide zlib limit is already ${this.#limit}; set it once with zlibLimiter.limit`,
        { code: 'WSKIT_ZLIB_LIMIT' },
      );
    }
  }

  #apply(value: number): void {
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

function checkLimit(value: number): void {
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError(`zlib concurrency must be a positive integer, got ${value}`);
}

/** The limiter every permessage-deflate context of this process shares (default 10 jobs); change its `limit` once at start-up. */
export const zlibLimiter = new ZlibLimiter(10);
