/**
 * wskit for Node: the WHATWG `WebSocket` client, `WebSocketServer`, typed errors and the events.
 * The sans-I/O engine is available separately as `wskit/protocol`.
 *
 * @module wskit
 */

export { SOCKET_ERROR_BY_CODE, socketErrorOf } from './dialects/qt/socket-error.js';
export {
  ConnectionError,
  HandshakeError,
  ProtocolError,
  WebSocketError,
  type WebSocketErrorCode,
} from './errors.js';
export {
  type Broker,
  BrokerError,
  type BrokerErrorCode,
  type BrokerNode,
  type BrokerPayload,
  InProcessBroker,
} from './node/broker.js';
export type { ClientTlsOptions } from './node/client-handshake.js';
export type { PerMessageDeflateOptions } from './node/deflate/zlib-compressor.js';
export { type ZlibLimiter, zlibLimiter } from './node/deflate/zlib-limiter.js';
export { isProxyExempt } from './node/proxy.js';
export type { PublishOptions } from './node/topics.js';
export {
  type BinaryData,
  type BinaryType,
  type HeartbeatOptions,
  type MessageData,
  type NodeBinaryData,
  ReconnectEvent,
  type ReconnectOptions,
  WebSocket,
  type WebSocketData,
  type WebSocketOptions,
} from './node/websocket.js';
export {
  type AuthenticateResult,
  type BroadcastOptions,
  WebSocketServer,
  type WebSocketServerEvents,
  type WebSocketServerOptions,
} from './node/websocket-server.js';
export { createWebSocketStream, type WebSocketStreamOptions } from './node/websocket-stream.js';
export { CloseCode } from './protocol/close-codes.js';
export {
  CloseEvent,
  ErrorEvent,
  MessageEvent,
  type StandardBinaryData,
  WebSocketEvent,
  WebSocketEventTarget,
} from './web/events.js';
export { type ConnectTarget, parseWebSocketUrl } from './web/url.js';
