import type { PortSocket, SocketFactory } from '../dialects/socket-port.js';
import { WebSocket, type WebSocketOptions } from './websocket.js';

/** The dialects' socket factory on Node: wskit's own WebSocket, binary data as ArrayBuffer. */
export const nodeSocketFactory: SocketFactory = (url, options = {}) =>
  new WebSocket(url, options.protocols, {
    binaryType: 'arraybuffer',
    ...(options.node as WebSocketOptions | undefined),
  }) as unknown as PortSocket;
