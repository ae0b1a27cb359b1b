/**
 * The 4D dialect in a browser (`wskit/4d`, `browser` condition): 4D's `4D.WebSocket` class over
 * the native `WebSocket`.
 *
 * ```ts
 * import { WebSocket } from 'wskit/4d';
 * const ws = WebSocket.new('wss://example.com/feed', { onMessage: (ws, e) => console.log(e.data) });
 * ```
 */
import { browserSocketFactory } from '../browser-socket-factory.js';
import type { SocketFactory } from '../socket-port.js';
import { FourDWebSocketBase } from './websocket.js';

export * from './exports.js';

/**
 * 4D's `WebSocket` class in a browser (the native `WebSocket`). Create a connection with
 * `WebSocket.new(url, connectionHandler)`; it returns `null` for a URL that cannot be connected
 * to at all. Browsers give no detail about failed connections.
 */
export class WebSocket extends FourDWebSocketBase {
  /** The browser's native WebSocket. */
  protected static override factory: SocketFactory = browserSocketFactory;
}

/** The `4D` namespace, so that code reads as in 4D: `FourD.WebSocket.new(url, handler)`. */
export const FourD: Readonly<{ WebSocket: typeof WebSocket }> = Object.freeze({ WebSocket });
