/** What both bindings of the Overte dialect export besides their `WebSocket` class. */
export { Signal } from '../qt/signal.js';
export { CloseCode, ReadyState, SocketError } from './enums.js';
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
} from './websocket.js';
