/** A WebSocketServer in this process: waiting for it to listen, echoing, closing it. */
import type { Buffer } from 'node:buffer';
import type { AddressInfo } from 'node:net';
import type { MessageEvent, WebSocketServer } from '../index.js';

/** Resolves with the bound address once `server` listens; rejects with its listen error. */
export function listening(server: WebSocketServer): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      server.removeListener('listening', onListening);
      reject(error);
    };
    const onListening = () => {
      server.removeListener('error', onError);
      resolve(server.address() as AddressInfo);
    };
    server.once('error', onError);
    server.once('listening', onListening);
  });
}

/** Makes `server` send every message back to its sender. */
export function echoMessages(server: WebSocketServer): void {
  server.on('connection', (ws) => {
    ws.addEventListener('message', (event: MessageEvent) => ws.send(event.data as string | Buffer));
  });
}

/** Closes `server` (clients get 1001); resolves when it has closed or after `ms`. */
export function closeServer(server: WebSocketServer, ms = 3000): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      for (const client of server.clients) client.terminate();
      resolve();
    }, ms);
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
