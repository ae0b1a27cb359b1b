import { createWebSocketStream } from './stream.js';
import { WebSocket } from './websocket.js';
import { WebSocketServer } from './websocket-server.js';

WebSocket.WebSocket = WebSocket;
WebSocket.Server = WebSocketServer;
WebSocket.WebSocketServer = WebSocketServer;
WebSocket.createWebSocketStream = createWebSocketStream;

export { CloseEvent, ErrorEvent, Event, MessageEvent, type WebSocketEventMap } from './events.js';
export type {
  ClientOptions,
  FinishRequestCallback,
  PerMessageDeflateOptions,
  ServerOptions,
  VerifyClientCallbackAsync,
  VerifyClientCallbackSync,
  VerifyClientInfo,
} from './options.js';
export {
  type BinaryType,
  type RawData,
  type SendData,
  type SendOptions,
  WebSocket,
  type WebSocketEvents,
} from './websocket.js';
export {
  WebSocketServer as Server,
  WebSocketServer,
  type WebSocketServerEvents,
} from './websocket-server.js';
export { createWebSocketStream };
/** `ws`'s default export: the `WebSocket` class, carrying `Server`, `WebSocketServer`, ... */
export default WebSocket;
