import { nodeSocketFactory } from '../node-socket-factory.js';
import type { SocketFactory } from '../socket-port.js';
import { OverteWebSocketBase } from './websocket.js';

/**
 * Overte's `WebSocket` on Node, connecting with wskit's own WebSocket (`wss:` included). Exported
 * by `wskit/overte`; the `WebSocketServer` of that module hands out instances of this class.
 */
export class WebSocket extends OverteWebSocketBase {
  protected static override factory: SocketFactory = nodeSocketFactory;
}
