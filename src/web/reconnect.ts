/**
 * Reconnection shared by every runtime: the settings, the `reconnecting` event, and the state of
 * one reconnecting socket (attempt count, retry timer, messages queued while disconnected).
 * Connecting is the socket's job; nothing here touches a network.
 */
import { WebSocketError } from '../errors.js';
import { CloseCode } from '../protocol/close-codes.js';
import { type BackoffPolicy, backoff } from './backoff.js';
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

/** The defaults of {@link ReconnectOptions}. */
export const RECONNECT_DEFAULTS = Object.freeze({
  minDelay: 500,
  maxDelay: 30_000,
  factor: 2,
  jitter: 0.5,
  maxRetries: Number.POSITIVE_INFINITY,
  queueLimit: 1000,
});

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
    ...RECONNECT_DEFAULTS,
    stopCodes: new Set([CloseCode.PolicyViolation, ...(o.stopCodes ?? [])]),
  };
  for (const key of Object.keys(RECONNECT_DEFAULTS) as (keyof typeof RECONNECT_DEFAULTS)[])
    if (o[key] !== undefined) r[key] = o[key];
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

/** What {@link Reconnect.retry} needs of the socket it reconnects. */
export interface ReconnectingSocket {
  /** CONNECTING (0) while a retry is still wanted. */
  readonly readyState: number;
  dispatchEvent(event: WebSocketEvent): boolean;
}

const CONNECTING = 0;

/**
 * The reconnection state of one socket: which attempt comes next and when, whether another is
 * allowed, and the messages `send()` queued while disconnected. It runs one timer, the delay
 * before the next attempt. Retries count from 1 again once a connection opens; a runtime may
 * count otherwise by overriding {@link opened}.
 */
export class Reconnect<D> {
  readonly #policy: ResolvedReconnect;
  /** The number of the last attempt since the count started over. */
  protected attempt = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #pending: D[] = [];
  #pendingBytes = 0;
  #stopped = false;
  /** What ended the last connection or attempt: the `error` of the next `reconnecting` event. */
  lastError: WebSocketError | undefined;

  /** Reconnects as `policy` says. */
  constructor(policy: ResolvedReconnect) {
    this.#policy = policy;
  }

  /** Bytes of the messages waiting for the next connection. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /**
   * Queues a message of `size` bytes (as `bufferedAmount` counts it) for the next connection;
   * throws `ERR_WS_QUEUE_FULL` past `queueLimit`.
   */
  queue(data: D, size: number): void {
    const limit = this.#policy.queueLimit;
    if (this.#pending.length >= limit) {
      throw new WebSocketError(
        'ERR_WS_QUEUE_FULL',
        `the reconnect queue is full (${limit} messages): wait for the connection or raise reconnect.queueLimit`,
      );
    }
    this.#pending.push(data);
    this.#pendingBytes += size;
  }

  /** Empties the queue and returns what it held, in order (sent first on a new connection). */
  takePending(): D[] {
    const pending = this.#pending;
    this.#pending = [];
    this.#pendingBytes = 0;
    return pending;
  }

  /**
   * Empties the queue for good (the socket closed without a retry) and returns the error that
   * reports the messages that will never be sent, or null when there were none.
   */
  dropPending(): WebSocketError | null {
    const count = this.#pending.length;
    if (count === 0) return null;
    this.takePending();
    return new WebSocketError(
      'ERR_WS_NOT_SENT',
      `${count} message(s) queued while reconnecting were not sent: the connection closed for good`,
    );
  }

  /**
   * Whether another attempt may follow a close with `code` (undefined: an attempt that failed
   * before a close code): not after {@link stop}, a stop code or the last allowed retry.
   */
  allows(code: number | undefined): boolean {
    if (this.#stopped) return false;
    if (code !== undefined && this.#policy.stopCodes.has(code)) return false;
    return this.attempt < this.#policy.maxRetries;
  }

  /** A connection opened: the next loss counts its retries from 1. */
  opened(): void {
    this.attempt = 0;
    this.lastError = undefined;
  }

  /**
   * Counts the next attempt, fires `reconnecting` on `socket` with its number, delay and
   * {@link lastError}, and runs `connect` after the delay, unless the socket has left CONNECTING (a
   * listener closed it) or {@link stop} came first.
   */
  retry(socket: ReconnectingSocket, connect: () => void): void {
    const attempt = ++this.attempt;
    const delay = backoff(attempt, this.#policy);
    const error = this.lastError;
    socket.dispatchEvent(new ReconnectEvent('reconnecting', { attempt, delay, error }));
    if (socket.readyState !== CONNECTING || this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (socket.readyState === CONNECTING && !this.#stopped) connect();
    }, delay);
  }

  /** The application closed the socket: no further attempt, and the delay stops if running. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
