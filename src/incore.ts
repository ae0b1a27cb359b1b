/**
 * `wskit/incore`: InCore's QML `WebSocket` object (InCore.Foundation 2.5) for Node, on wskit's
 * WebSocket. See the README's InCore section for every member.
 *
 * @module wskit/incore
 */
import { InCoreWebSocketBase } from './dialects/incore/websocket.js';
import type { SocketFactory } from './dialects/socket-port.js';
import { nodeSocketFactory } from './node/node-socket-factory.js';

export { InCoreError as Error, InCoreState as State } from './dialects/incore/enums.js';
export {
  INCORE_SIGNALS,
  type InCoreHandlers,
  type InCoreInit,
  type InCoreProperties,
} from './dialects/incore/websocket.js';
export { Signal } from './dialects/qt/signal.js';

/** InCore's `WebSocket`, connecting with wskit's Node WebSocket. */
export class WebSocket extends InCoreWebSocketBase {
  protected static override factory: SocketFactory = nodeSocketFactory;
}
