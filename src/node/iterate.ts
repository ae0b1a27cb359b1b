import { ConnectionError } from '../errors.js';
import { CloseCode } from '../protocol/close-codes.js';
import type { CloseEvent, ErrorEvent, MessageEvent } from '../web/events.js';

/** What {@link iterateMessages} needs of a socket: its state, its events and flow control. */
export interface IterableSocket {
  readonly readyState: number;
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  addEventListener(type: 'error', listener: (event: ErrorEvent) => void): void;
  addEventListener(type: 'close', listener: (event: CloseEvent) => void): void;
  removeEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  removeEventListener(type: 'error', listener: (event: ErrorEvent) => void): void;
  removeEventListener(type: 'close', listener: (event: CloseEvent) => void): void;
  pause(): void;
  resume(): void;
}

const CLOSED = 3;
/** Messages waiting for the loop before reading pauses, and the level at which it resumes. */
const PAUSE_ABOVE = 64;
const RESUME_AT = 16;

/**
 * The messages of `ws` as an async iterator: ends when the connection closes cleanly, throws
 * the typed error when it fails. Reading pauses while more than 64 messages wait for the loop.
 */
export function iterateMessages(ws: IterableSocket): AsyncIterableIterator<unknown> {
  const buffered: unknown[] = [];
  let waiting: {
    resolve: (r: IteratorResult<unknown>) => void;
    reject: (e: unknown) => void;
  } | null = null;
  let ended = false;
  let failure: unknown;
  let paused = false;
  const onMessage = (event: MessageEvent) => {
    if (waiting) {
      const w = waiting;
      waiting = null;
      w.resolve({ value: event.data, done: false });
      return;
    }
    buffered.push(event.data);
    if (buffered.length > PAUSE_ABOVE && !paused) {
      paused = true;
      ws.pause();
    }
  };
  const onError = (event: ErrorEvent) => {
    failure ??= event.error;
  };
  const onClose = (event: CloseEvent) => {
    if (ws.readyState !== CLOSED) return;
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
    ws.removeEventListener('message', onMessage);
    ws.removeEventListener('error', onError);
    ws.removeEventListener('close', onClose);
  };
  ws.addEventListener('message', onMessage);
  ws.addEventListener('error', onError);
  ws.addEventListener('close', onClose);
  if (ws.readyState === CLOSED) ended = true;
  const iterator: AsyncIterableIterator<unknown> = {
    next: () => {
      if (buffered.length > 0) {
        const value = buffered.shift();
        if (paused && buffered.length <= RESUME_AT) {
          paused = false;
          ws.resume();
        }
        return Promise.resolve({ value, done: false });
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
      if (paused) ws.resume();
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
