import { reportUserError } from '../shared.js';

/**
 * A Qt-style signal: handlers are attached with `connect(fn)` and detached with
 * `disconnect(fn)`; `emit(...args)` calls them in connection order. A throwing handler does not
 * stop the others, nor end the process: its exception is reported (`reportUserError`: a process
 * warning in Node, `reportError` in browsers), as QML logs a handler's error and carries on.
 */
export class Signal<Args extends unknown[] = []> {
  #handlers: Array<(...args: Args) => unknown> = [];
  readonly #name: string;

  /** @param name - The signal's name, used when a handler's exception is reported. */
  constructor(name = 'a signal') {
    this.#name = name;
  }

  /** Calls `handler` on every emission from now on. Connecting the same function twice calls it twice, as in Qt. */
  connect(handler: (...args: Args) => unknown): void {
    if (typeof handler !== 'function') throw new TypeError('Signal.connect() needs a function');
    this.#handlers.push(handler);
  }

  /** Detaches one connection of `handler`; without an argument, detaches all. Returns whether one was found. */
  disconnect(handler?: (...args: Args) => unknown): boolean {
    if (handler === undefined) {
      const had = this.#handlers.length > 0;
      this.#handlers = [];
      return had;
    }
    const i = this.#handlers.lastIndexOf(handler);
    if (i < 0) return false;
    this.#handlers = this.#handlers.filter((_, j) => j !== i);
    return true;
  }

  /** Number of connected handlers. */
  get connections(): number {
    return this.#handlers.length;
  }

  /** Calls every connected handler with `args`. */
  emit(...args: Args): void {
    for (const handler of this.#handlers) {
      try {
        handler(...args);
      } catch (error) {
        reportUserError(error, `a handler of ${this.#name}`);
      }
    }
  }
}
