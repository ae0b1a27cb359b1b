import { Reconnect } from '../web/reconnect.js';
import type { WebSocketData } from './bytes.js';
import type { ResolvedReconnect } from './options.js';

export { ReconnectEvent } from '../web/reconnect.js';

/**
 * Reconnection of a Node client: the portable {@link Reconnect}, with retries counted from 1
 * again only after a connection that stayed open `minUptime` ms, so that a server that accepts
 * and drops every connection is retried with growing delays.
 */
export class NodeReconnect extends Reconnect<WebSocketData> {
  readonly #minUptime: number;
  /** When the current connection opened (ms, monotonic), or -1 while none is open. */
  #openedAt = -1;

  constructor(policy: ResolvedReconnect) {
    super(policy);
    this.#minUptime = policy.minUptime;
  }

  /** A connection opened: its uptime decides, once lost, whether the count starts over. */
  override opened(): void {
    this.lastError = undefined;
    this.#openedAt = performance.now();
  }

  /** The open connection was lost (before {@link allows} decides on a retry). */
  lost(): void {
    if (this.#openedAt >= 0 && performance.now() - this.#openedAt >= this.#minUptime)
      this.attempt = 0;
    this.#openedAt = -1;
  }
}
