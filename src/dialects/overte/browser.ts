/**
 * The Overte dialect in a browser (`wskit/overte`, `browser` condition): Overte's script
 * `WebSocket` over the browser's native WebSocket. There is no `WebSocketServer` (a browser
 * cannot listen), and what a browser cannot do (custom headers, TLS options) is unavailable. See
 * the README's Overte section.
 */
import { browserSocketFactory } from '../browser-socket-factory.js';
import type { SocketFactory } from '../socket-port.js';
import { OverteWebSocketBase } from './websocket.js';

export * from './exports.js';

/** Overte's `WebSocket`, connecting with the browser's native WebSocket. */
export class WebSocket extends OverteWebSocketBase {
  protected static override factory: SocketFactory = browserSocketFactory;
}
