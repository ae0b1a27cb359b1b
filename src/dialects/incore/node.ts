/**
 * The InCore dialect on Node (`wskit/incore`): InCore's QML `WebSocket` object (InCore.Foundation
 * 2.5) on wskit's WebSocket. See the README's InCore section for every member.
 */
import { nodeSocketFactory } from '../node-socket-factory.js';
import type { SocketFactory } from '../socket-port.js';
import { InCoreWebSocketBase } from './websocket.js';

export * from './exports.js';

/** InCore's `WebSocket`, connecting with wskit's Node WebSocket. */
export class WebSocket extends InCoreWebSocketBase {
  protected static override factory: SocketFactory = nodeSocketFactory;
}
