/**
 * Helpers for the dialect tests of issue 10: collect the process warnings under which the
 * dialects report an exception thrown by user code, and wait for a condition without sleeping.
 */
import { WAIT_MS } from '../support/timeouts.js';

/** The warnings a dialect emitted for user-code exceptions since `start()`; `stop()` detaches. */
export class CallbackWarnings {
  readonly causes: unknown[] = [];
  readonly #listener = (warning: Error & { code?: string }) => {
    if (warning.code === 'WSKIT_CALLBACK_THREW') this.causes.push(warning.cause);
  };

  start(): this {
    process.on('warning', this.#listener);
    return this;
  }

  stop(): void {
    process.removeListener('warning', this.#listener);
  }
}

/** Resolves once `condition()` holds, checking after each macrotask; rejects after `ms`. */
export async function until(condition: () => boolean, what: string, ms = WAIT_MS): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
