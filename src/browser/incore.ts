/**
 * `wskit/incore` in a browser: InCore's `WebSocket` object over the browser's native WebSocket.
 * What a browser cannot do (custom headers, TLS options) is unavailable: see the README.
 */
import { InCoreWebSocketBase } from '../dialects/incore/websocket.js';
import type { SocketFactory } from '../dialects/socket-port.js';
import { browserSocketFactory } from './browser-socket-factory.js';

export { InCoreError as Error, InCoreState as State } from '../dialects/incore/enums.js';
export {
  INCORE_SIGNALS,
  type InCoreHandlers,
  type InCoreInit,
  type InCoreProperties,
} from '../dialects/incore/websocket.js';
export { Signal } from '../dialects/qt/signal.js';

/** InCore's `WebSocket`, connecting with the browser's native WebSocket. */
export class WebSocket extends InCoreWebSocketBase {
  protected static override factory: SocketFactory = browserSocketFactory;
}
