/**
 * `for await (const data of socket)`: an async iterator over a WebSocket's incoming messages,
 * for any runtime's socket that fires WHATWG `message`, `error` and `close` events.
 */
import { ConnectionError } from '../errors.js';
import { CloseCode } from '../protocol/close-codes.js';
import type { CloseEvent, ErrorEvent, MessageEvent, WebSocketEventTarget } from './events.js';

const CLOSED = 3;

/** What the iterator needs of a socket. */
export interface IteratedSocket extends WebSocketEventTarget {
  /** The WHATWG ready state: the iteration ends once it is CLOSED (3) for good. */
  readonly readyState: number;
}

/** Optional flow control and mapping of the iterated messages. */
export interface MessageIteratorOptions {
  /** Called when more than `highWater` messages wait for the loop (default 64). */
  pause?: () => void;
  /** Called once the waiting messages are down to a quarter of `highWater`. */
  resume?: () => void;
  /** Messages waiting before `pause` is called. */
  highWater?: number;
  /** Turns each message's data into the yielded value; a throw rejects that step. */
  map?: (data: unknown) => unknown;
}

/**
 * Iterates over the messages `socket` receives from now on. Ends when the socket closes cleanly;
 * throws the typed error when it fails (a close without a closing handshake is
 * `ERR_WS_CONNECTION_CLOSED`). With reconnection, closes followed by a retry do not end it.
 * `T` is what the caller knows the yielded values to be: the socket's message data, or what
 * `map` returns.
 */
export function messageIterator<T = unknown>(
  socket: IteratedSocket,
  options: MessageIteratorOptions = {},
): AsyncIterableIterator<T> {
  const highWater = options.highWater ?? 64;
  const map = options.map ?? ((data: unknown) => data);
  const buffered: unknown[] = [];
  let waiting: {
    resolve: (r: IteratorResult<unknown>) => void;
    reject: (e: unknown) => void;
  } | null = null;
  let ended = false;
  let failure: unknown;
  let paused = false;
  const deliver = (
    data: unknown,
    resolve: (r: IteratorResult<unknown>) => void,
    reject: (e: unknown) => void,
  ) => {
    let value: unknown;
    try {
      value = map(data);
    } catch (error) {
      reject(error);
      return;
    }
    resolve({ value, done: false });
  };
  const onMessage = (event: MessageEvent) => {
    if (waiting) {
      const w = waiting;
      waiting = null;
      deliver(event.data, w.resolve, w.reject);
      return;
    }
    buffered.push(event.data);
    if (buffered.length > highWater && !paused && options.pause) {
      paused = true;
      options.pause();
    }
  };
  const onError = (event: ErrorEvent) => {
    failure ??= event.error;
  };
  const onClose = (event: CloseEvent) => {
    if (socket.readyState !== CLOSED) {
      // A retry follows: the failure of the lost connection is not the iteration's end.
      failure = undefined;
      return;
    }
    ended = true;
    if (!event.wasClean && failure === undefined && event.code === CloseCode.Abnormal) {
      failure = new ConnectionError(
        'ERR_WS_CONNECTION_CLOSED',
        'the connection closed without a closing handshake (1006)',
      );
    }
    cleanup();
    if (waiting) {
      const w = waiting;
      waiting = null;
      if (failure !== undefined) w.reject(failure);
      else w.resolve({ value: undefined, done: true });
    }
  };
  const cleanup = () => {
    socket.removeEventListener('message', onMessage);
    socket.removeEventListener('error', onError);
    socket.removeEventListener('close', onClose);
  };
  socket.addEventListener('message', onMessage);
  socket.addEventListener('error', onError);
  socket.addEventListener('close', onClose);
  if (socket.readyState === CLOSED) ended = true;
  const iterator: AsyncIterableIterator<unknown> = {
    next: () => {
      if (buffered.length > 0) {
        const data = buffered.shift();
        if (paused && buffered.length <= highWater / 4) {
          paused = false;
          options.resume?.();
        }
        return new Promise((resolve, reject) => deliver(data, resolve, reject));
      }
      if (ended) {
        if (failure !== undefined) {
          const f = failure;
          failure = undefined;
          return Promise.reject(f);
        }
        return Promise.resolve({ value: undefined, done: true });
      }
      return new Promise((resolve, reject) => {
        waiting = { resolve, reject };
      });
    },
    return: () => {
      ended = true;
      cleanup();
      if (paused) options.resume?.();
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator as AsyncIterableIterator<T>;
}
