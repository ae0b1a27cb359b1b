/**
 * The InCore dialect in a browser (`wskit/incore`, `browser` condition): InCore's `WebSocket`
 * object over the browser's native WebSocket. What a browser cannot do (custom headers, TLS
 * options) is unavailable: see the README.
 */
import { browserSocketFactory } from '../browser-socket-factory.js';
import type { SocketFactory } from '../socket-port.js';
import { InCoreWebSocketBase } from './websocket.js';

export * from './exports.js';

/** InCore's `WebSocket`, connecting with the browser's native WebSocket. */
export class WebSocket extends InCoreWebSocketBase {
  protected static override factory: SocketFactory = browserSocketFactory;
}
