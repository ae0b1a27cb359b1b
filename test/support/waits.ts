/**
 * Bounded waits shared by the tests: the next event of a wskit event target or of an
 * EventEmitter, and any promise with a deadline. Every wait ends; none is a sleep.
 */
import type { EventEmitter } from 'node:events';
import type {
  CloseEvent,
  ErrorEvent,
  MessageEvent,
  ReconnectEvent,
  WebSocketEvent,
  WebSocketEventTarget,
} from '../../src/index.js';
import { WAIT_MS } from './timeouts.js';

/** Resolves with the next `type` event of a WebSocket (or any wskit event target). */
export function nextEvent(
  ws: WebSocketEventTarget,
  type: 'close',
  ms?: number,
): Promise<CloseEvent>;
export function nextEvent(
  ws: WebSocketEventTarget,
  type: 'error',
  ms?: number,
): Promise<ErrorEvent>;
export function nextEvent(
  ws: WebSocketEventTarget,
  type: 'reconnecting',
  ms?: number,
): Promise<ReconnectEvent>;
export function nextEvent(
  ws: WebSocketEventTarget,
  type: 'message' | 'ping' | 'pong',
  ms?: number,
): Promise<MessageEvent>;
export function nextEvent(
  ws: WebSocketEventTarget,
  type: string,
  ms?: number,
): Promise<WebSocketEvent>;
export function nextEvent(
  ws: WebSocketEventTarget,
  type: string,
  ms = WAIT_MS,
): Promise<WebSocketEvent> {
  return new Promise((resolve, reject) => {
    const listener = (event: WebSocketEvent) => {
      clearTimeout(timer);
      resolve(event);
    };
    const timer = setTimeout(() => {
      ws.removeEventListener(type, listener);
      reject(new Error(`timed out after ${ms} ms waiting for a "${type}" event`));
    }, ms);
    ws.addEventListener(type, listener, { once: true });
  });
}

/** Resolves with the arguments of the next `event` of an EventEmitter; rejects on timeout. */
export function nextEmit<T extends unknown[] = unknown[]>(
  emitter: EventEmitter,
  event: string,
  ms = WAIT_MS,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const listener = (...args: unknown[]) => {
      clearTimeout(timer);
      resolve(args as T);
    };
    const timer = setTimeout(() => {
      emitter.removeListener(event, listener);
      reject(new Error(`timed out after ${ms} ms waiting for "${event}"`));
    }, ms);
    emitter.once(event, listener);
  });
}

/** Rejects when `promise` has not settled within `ms`. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** Resolves after pending I/O callbacks and microtasks have run (not a timing guess). */
export function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
