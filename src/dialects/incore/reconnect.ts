/** `autoConnect`'s retries: exponential backoff from `reconnectDelay`, at most 30 s apart. */
import { backoff } from '../../web/backoff.js';

const MAX_RECONNECT_DELAY = 30_000;

/** One object's pending retry and how many have been made since the last connection. */
export class Reconnect {
  readonly #firstDelay: number;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #attempt = 0;

  /** `firstDelay`: the wait before the first retry, in ms. */
  constructor(firstDelay: number) {
    this.#firstDelay = firstDelay;
  }

  /** A connection opened: the next loss starts again from the first delay. */
  reset(): void {
    this.#attempt = 0;
  }

  /** Runs `retry` after the next delay, replacing a retry already pending. */
  schedule(retry: () => void): void {
    this.cancel();
    this.#attempt++;
    const delay = backoff(this.#attempt, {
      minDelay: this.#firstDelay,
      maxDelay: MAX_RECONNECT_DELAY,
      factor: 2,
      jitter: 0,
    });
    this.#timer = setTimeout(() => {
      this.#timer = null;
      retry();
    }, delay);
  }

  /** Drops the pending retry, if any. */
  cancel(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
