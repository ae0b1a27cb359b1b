/**
 * Liveness checks for browsers, where a page cannot send ping frames: after `interval` ms
 * without an incoming message the socket sends an application message, and declares the peer
 * dead when nothing at all arrives within `timeout` ms.
 */

/** What may be sent as the heartbeat message. */
export type HeartbeatMessage = string | ArrayBuffer | ArrayBufferView | Blob;

/** Keep-alive by application messages (the browser `heartbeat` option). */
export interface BrowserHeartbeatOptions {
  /** Milliseconds without an incoming message before the heartbeat message is sent. */
  interval: number;
  /** Milliseconds to wait for any message after it before the peer is declared dead (default: `interval`). */
  timeout?: number;
  /**
   * The message to send (default "ping"); the server must answer it with any message. A function
   * is called each time, e.g. to stamp the time.
   */
  message?: HeartbeatMessage | (() => HeartbeatMessage);
}

/** Checks the `heartbeat` option; null when it is off. Throws a TypeError for unusable settings. */
export function checkBrowserHeartbeat(
  option: BrowserHeartbeatOptions | undefined,
): BrowserHeartbeatOptions | null {
  if (!option) return null;
  if (!(option.interval > 0) || (option.timeout !== undefined && !(option.timeout > 0))) {
    throw new TypeError('heartbeat: interval and timeout must be positive numbers of milliseconds');
  }
  return option;
}

/** The timers of one connection's heartbeat. */
export class Heartbeat {
  #idle: ReturnType<typeof setTimeout> | null = null;
  #reply: ReturnType<typeof setTimeout> | null = null;
  #stopped = false;

  /**
   * Starts watching: `send` sends the heartbeat message, `dead` is called once when no message
   * answered it in time.
   */
  constructor(
    readonly options: BrowserHeartbeatOptions,
    readonly send: (message: HeartbeatMessage) => void,
    readonly dead: (timeout: number) => void,
  ) {
    this.#arm();
  }

  /** Any incoming message proves the peer alive. */
  received(): void {
    if (this.#stopped) return;
    if (this.#reply) clearTimeout(this.#reply);
    this.#reply = null;
    this.#arm();
  }

  /** Stops both timers for good. */
  stop(): void {
    this.#stopped = true;
    if (this.#idle) clearTimeout(this.#idle);
    if (this.#reply) clearTimeout(this.#reply);
    this.#idle = null;
    this.#reply = null;
  }

  #arm(): void {
    if (this.#idle) clearTimeout(this.#idle);
    this.#idle = setTimeout(() => {
      this.#idle = null;
      const { message = 'ping' } = this.options;
      const timeout = this.options.timeout ?? this.options.interval;
      this.#reply = setTimeout(() => {
        this.#reply = null;
        if (this.#stopped) return;
        this.stop();
        this.dead(timeout);
      }, timeout);
      this.send(typeof message === 'function' ? message() : message);
    }, this.options.interval);
  }
}
