/** Resolving once a socket opens, for any runtime's socket that fires WHATWG events. */
import { ConnectionError } from '../errors.js';
import type { CloseEvent, ErrorEvent, WebSocketEvent } from './events.js';

/** What {@link whenOpen} needs of a socket: its state and its events. */
export interface OpeningSocket {
  readonly readyState: number;
  addEventListener(
    type: 'open',
    listener: (event: WebSocketEvent) => void,
    options?: AddEventListenerOptions,
  ): void;
  addEventListener(type: 'error', listener: (event: ErrorEvent) => void): void;
  addEventListener(
    type: 'close',
    listener: (event: CloseEvent) => void,
    options?: AddEventListenerOptions,
  ): void;
  removeEventListener(type: 'error', listener: (event: ErrorEvent) => void): void;
}

const CLOSED = 3;

/**
 * Resolves with `ws` on its first `open`, or rejects with the typed error that made the
 * connection fail (the last `error` event), or a `ERR_WS_CONNECTION_CLOSED` error when it closed
 * without one.
 */
export function whenOpen<S extends OpeningSocket>(ws: S): Promise<S> {
  return new Promise((resolve, reject) => {
    let lastError: unknown;
    const onError = (event: ErrorEvent) => {
      lastError = event.error;
    };
    ws.addEventListener('error', onError);
    ws.addEventListener(
      'open',
      () => {
        ws.removeEventListener('error', onError);
        resolve(ws);
      },
      { once: true },
    );
    ws.addEventListener(
      'close',
      (event: CloseEvent) => {
        if (ws.readyState !== CLOSED) return;
        ws.removeEventListener('error', onError);
        reject(
          lastError ??
            new ConnectionError(
              'ERR_WS_CONNECTION_CLOSED',
              `the connection closed with ${event.code} before it opened`,
            ),
        );
      },
      { once: true },
    );
  });
}
