/**
 * `wskit/overte`: Overte's script `WebSocket` and `WebSocketServer` (Overte script API, High
 * Fidelity lineage) for Node, on wskit's WebSocket and server. See the README's Overte section
 * for every member and where wskit goes beyond Overte (`wss:`, `binaryType`, `bufferedAmount`,
 * `extensions`, `protocol`).
 *
 * @module wskit/overte
 */

export { CloseCode, ReadyState, SocketError } from './dialects/overte/enums.js';
export { WebSocket } from './dialects/overte/node-websocket.js';
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
} from './dialects/overte/websocket.js';
export { WebSocketServer } from './dialects/overte/websocket-server.js';
export { Signal } from './dialects/qt/signal.js';
