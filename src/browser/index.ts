/**
 * wskit in browsers (the `browser` condition of the `wskit` entry): the browser's own WebSocket
 * with reconnection, a bounded send queue, a heartbeat by application messages, async iteration,
 * `WebSocket.connect()`, JSON helpers, and the typed errors and events of wskit for Node. A
 * browser cannot listen, so there is no `WebSocketServer` here.
 *
 * ```ts
 * import { WebSocket } from 'wskit';
 * const ws = new WebSocket('wss://example.com/feed', [], { reconnect: true });
 * for await (const message of ws) console.log(message);
 * ```
 *
 * @module wskit (browser)
 */

export { SOCKET_ERROR_BY_CODE, socketErrorOf } from '../dialects/qt/socket-error.js';
export {
  ConnectionError,
  HandshakeError,
  ProtocolError,
  WebSocketError,
  type WebSocketErrorCode,
} from '../errors.js';
export { CloseCode } from '../protocol/close-codes.js';
export {
  CloseEvent,
  ErrorEvent,
  MessageEvent,
  type StandardBinaryData,
  WebSocketEvent,
  WebSocketEventTarget,
} from '../web/events.js';
export { ReconnectEvent, type ReconnectOptions } from '../web/reconnect.js';
export type { BrowserHeartbeatOptions, HeartbeatMessage } from './heartbeat.js';
export {
  type BrowserBinaryType,
  type BrowserMessageData,
  type BrowserWebSocketData,
  type BrowserWebSocketOptions,
  WebSocket,
} from './websocket.js';
