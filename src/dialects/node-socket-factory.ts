import { WebSocket, type WebSocketOptions } from '../node/websocket.js';
import { adoptSocket, type PortSocket, type SocketFactory } from './socket-port.js';

/** The dialects' socket factory on Node: wskit's own WebSocket. */
export const nodeSocketFactory: SocketFactory = (url, options = {}) =>
  adoptSocket(
    new WebSocket(url, options.protocols, {
      // Each dialect checks close codes by its product's rules (Qt's are wider than WHATWG's).
      anyValidCloseCode: true,
      ...(options.node as WebSocketOptions | undefined),
    }) as unknown as PortSocket,
  );
