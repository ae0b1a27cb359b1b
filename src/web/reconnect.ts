/**
 * Reconnection settings and the `reconnecting` event, shared by every runtime: nothing here
 * touches a socket or a timer.
 */
import type { WebSocketError } from '../errors.js';
import { CloseCode } from '../protocol/close-codes.js';
import type { BackoffPolicy } from './backoff.js';
import { WebSocketEvent } from './events.js';

/** Automatic reconnection (the `reconnect` option). */
export interface ReconnectOptions {
  /** Delay before the first retry, in ms (default 500). */
  minDelay?: number;
  /** Longest delay between retries, in ms (default 30000). */
  maxDelay?: number;
  /** Growth of the delay per failed attempt (default 2). */
  factor?: number;
  /** Fraction of each delay that is randomised, 0-1 (default 0.5): spreads reconnect storms. */
  jitter?: number;
  /** Retries before giving up (default: unlimited). */
  maxRetries?: number;
  /** Messages `send()` may queue while disconnected (default 1000); beyond, send throws. */
  queueLimit?: number;
  /** Close codes after which no retry is made, in addition to 1008 (policy violation). */
  stopCodes?: readonly number[];
}

/** Reconnection settings with every default filled in. */
export interface ResolvedReconnect extends BackoffPolicy {
  /** Retries before giving up. */
  maxRetries: number;
  /** Messages `send()` may queue while disconnected. */
  queueLimit: number;
  /** Close codes after which no retry is made. */
  stopCodes: ReadonlySet<number>;
}

/**
 * Fills in the defaults of the `reconnect` option and checks it: null when reconnection is off.
 * Throws a TypeError for settings that cannot work.
 */
export function resolveReconnect(
  option: boolean | ReconnectOptions | undefined,
): ResolvedReconnect | null {
  if (!option) return null;
  const o = option === true ? {} : option;
  const r: ResolvedReconnect = {
    minDelay: o.minDelay ?? 500,
    maxDelay: o.maxDelay ?? 30_000,
    factor: o.factor ?? 2,
    jitter: o.jitter ?? 0.5,
    maxRetries: o.maxRetries ?? Number.POSITIVE_INFINITY,
    queueLimit: o.queueLimit ?? 1000,
    stopCodes: new Set([CloseCode.PolicyViolation, ...(o.stopCodes ?? [])]),
  };
  if (
    !(r.minDelay >= 0) ||
    !(r.maxDelay >= r.minDelay) ||
    !(r.factor >= 1) ||
    !(r.jitter >= 0 && r.jitter <= 1) ||
    !(r.maxRetries >= 0) ||
    !(r.queueLimit >= 0)
  ) {
    throw new TypeError(
      'reconnect: need 0 <= minDelay <= maxDelay, factor >= 1, 0 <= jitter <= 1, and maxRetries and queueLimit >= 0',
    );
  }
  return r;
}

/** Fired before each reconnection attempt (the `reconnecting` event). */
export class ReconnectEvent extends WebSocketEvent {
  /**
   * 1 for the first retry after a loss, counting up until a connection opens (in Node, until it
   * stays open `reconnect.minUptime` ms).
   */
  readonly attempt: number;
  /** Milliseconds until the attempt starts. */
  readonly delay: number;
  /** What ended the previous connection or attempt, when it was an error. */
  readonly error: WebSocketError | undefined;

  /** Builds the event; wskit fires it, applications rarely need to. */
  constructor(
    type: string,
    init: { attempt: number; delay: number; error?: WebSocketError | undefined },
  ) {
    super(type);
    this.attempt = init.attempt;
    this.delay = init.delay;
    this.error = init.error;
  }
}
