import { WebSocketError } from '../errors.js';
import { backoff } from '../web/backoff.js';
import { ReconnectEvent } from '../web/reconnect.js';
import { byteSize, type WebSocketData } from './bytes.js';
import type { ResolvedReconnect } from './options.js';

export { ReconnectEvent };

/**
 * The reconnection state of one client: which attempt comes next and when, whether another is
 * allowed, and the messages `send()` queued while disconnected. It runs one timer, the delay
 * before the next attempt; connecting is the caller's job.
 */
export class Reconnect {
  readonly policy: ResolvedReconnect;
  #attempt = 0;
  #timer: NodeJS.Timeout | null = null;
  #pending: WebSocketData[] = [];
  #pendingBytes = 0;
  /** When the current connection opened (ms, monotonic), or -1 while none is open. */
  #openedAt = -1;

  constructor(policy: ResolvedReconnect) {
    this.policy = policy;
  }

  /** Bytes of the messages waiting for the next connection. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /** Whether the delay before an attempt is running. */
  get scheduled(): boolean {
    return this.#timer !== null;
  }

  /** Queues a message for the next connection; throws `ERR_WS_QUEUE_FULL` past `queueLimit`. */
  queue(data: WebSocketData): void {
    const limit = this.policy.queueLimit;
    if (this.#pending.length >= limit) {
      throw new WebSocketError(
        'ERR_WS_QUEUE_FULL',
        `the reconnect queue is full (${limit} messages): wait for the connection or raise reconnect.queueLimit`,
      );
    }
    this.#pending.push(data);
    this.#pendingBytes += byteSize(data);
  }

  /** Empties the queue and returns what it held, in order. */
  takePending(): WebSocketData[] {
    const pending = this.#pending;
    this.#pending = [];
    this.#pendingBytes = 0;
    return pending;
  }

  /** Whether another attempt may follow a close with `code` (undefined: a failed attempt). */
  allows(code: number | undefined): boolean {
    if (code !== undefined && this.policy.stopCodes.has(code)) return false;
    return this.#attempt < this.policy.maxRetries;
  }

  /** A connection opened. */
  opened(): void {
    this.#openedAt = performance.now();
  }

  /**
   * The open connection was lost. Only one that stayed open `minUptime` ms starts the count
   * over: a server that accepts and drops every connection is retried with growing delays.
   */
  lost(): void {
    if (this.#openedAt >= 0 && performance.now() - this.#openedAt >= this.policy.minUptime)
      this.#attempt = 0;
    this.#openedAt = -1;
  }

  /** Counts the next attempt and returns its number and the delay before it. */
  next(): { attempt: number; delay: number } {
    this.#attempt++;
    return { attempt: this.#attempt, delay: backoff(this.#attempt, this.policy) };
  }

  /** Runs `attempt` after `delay` ms, unless {@link cancel} comes first. */
  schedule(delay: number, attempt: () => void): void {
    this.cancel();
    this.#timer = setTimeout(() => {
      this.#timer = null;
      attempt();
    }, delay);
  }

  /** Stops the delay before the next attempt, if one is running. */
  cancel(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
