import { adoptSocket, type PortSocket, type SocketFactory } from './socket-port.js';

/** The dialects' socket factory in a browser: the native WebSocket. */
export const browserSocketFactory: SocketFactory = (url, options = {}) =>
  adoptSocket(new globalThis.WebSocket(url, options.protocols) as unknown as PortSocket);
