/**
 * `wskit/overte` in a browser: Overte's script `WebSocket` over the browser's native WebSocket.
 * There is no `WebSocketServer` (a browser cannot listen), and what a browser cannot do (custom
 * headers, TLS options) is unavailable; `onerror` receives -1 (`UnknownSocketError`), since
 * browsers give no error detail. See the README's Overte section.
 */

import { OverteWebSocketBase } from '../dialects/overte/websocket.js';
import type { SocketFactory } from '../dialects/socket-port.js';
import { browserSocketFactory } from './browser-socket-factory.js';

export { CloseCode, ReadyState, SocketError } from '../dialects/overte/enums.js';
export {
  type CloseData,
  type MessageData,
  type OnCloseCallback,
  type OnErrorCallback,
  type OnMessageCallback,
  type OnOpenCallback,
  type OverteBinaryType,
  OverteWebSocketBase,
  type OverteWebSocketOptions,
} from '../dialects/overte/websocket.js';

/** Overte's `WebSocket`, connecting with the browser's native WebSocket. */
export class WebSocket extends OverteWebSocketBase {
  protected static override factory: SocketFactory = browserSocketFactory;
}
