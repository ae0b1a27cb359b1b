import type { PortSocket, SocketFactory } from '../dialects/socket-port.js';

/** The dialects' socket factory in a browser: the native WebSocket, binary data as ArrayBuffer. */
export const browserSocketFactory: SocketFactory = (url, options = {}) => {
  const socket = new globalThis.WebSocket(url, options.protocols);
  socket.binaryType = 'arraybuffer';
  return socket as unknown as PortSocket;
};
