/**
 * wskit for Node: the WHATWG `WebSocket` client, `WebSocketServer`, typed errors and the events.
 * The sans-I/O engine is available separately as `wskit/protocol`.
 */
export {
  CloseEvent,
  ErrorEvent,
  MessageEvent,
  WebSocketEvent,
  WebSocketEventTarget,
} from './core/events.js';
export {
  ConnectionError,
  HandshakeError,
  ProtocolError,
  SOCKET_ERROR_BY_CODE,
  socketErrorOf,
  WebSocketError,
  type WebSocketErrorCode,
} from './errors.js';
export type { ClientTlsOptions } from './node/client-handshake.js';
export {
  type BinaryType,
  WebSocket,
  type WebSocketData,
  type WebSocketOptions,
} from './node/websocket.js';
export {
  type AuthenticateResult,
  type BroadcastOptions,
  WebSocketServer,
  type WebSocketServerOptions,
} from './node/websocket-server.js';
export { CloseCode } from './protocol/close-codes.js';
