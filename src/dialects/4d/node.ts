/**
 * The 4D dialect on Node (`wskit/4d`): 4D's `4D.WebSocket` class over wskit's own client.
 *
 * ```ts
 * import { WebSocket } from 'wskit/4d';
 * const ws = WebSocket.new('ws://127.0.0.1:8080/', { onMessage: (ws, e) => console.log(e.data) });
 * ```
 */
import { nodeSocketFactory } from '../node-socket-factory.js';
import type { SocketFactory } from '../socket-port.js';
import { FourDWebSocketBase } from './websocket.js';

export * from './exports.js';

/**
 * 4D's `WebSocket` class on Node (wskit's client: ws:, wss:, http:, https:, ws+unix:). Create a
 * connection with `WebSocket.new(url, connectionHandler)`; it returns `null` for a URL that
 * cannot be connected to at all.
 */
export class WebSocket extends FourDWebSocketBase {
  /** wskit's Node client. */
  protected static override factory: SocketFactory = nodeSocketFactory;
}

/** The `4D` namespace, so that code reads as in 4D: `FourD.WebSocket.new(url, handler)`. */
export const FourD: Readonly<{ WebSocket: typeof WebSocket }> = Object.freeze({ WebSocket });
