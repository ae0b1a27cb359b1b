// wskit's core WebSocket for Node: message data is typed by binaryType, and handleUpgrade takes
// the Duplex of Node's 'upgrade' event. Compiled without the DOM lib; every @ts-expect-error
// must meet an error, or tsc reports it unused.
import type { Buffer } from 'node:buffer';
import { createServer, type IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import {
  type BinaryType,
  type ErrorEvent,
  type MessageData,
  type MessageEvent,
  WebSocket,
  type WebSocketError,
  WebSocketServer,
} from 'wskit';

/** Compiles only when `T` and `U` are the same type. */
type Same<T, U> = [T] extends [U] ? ([U] extends [T] ? true : false) : false;
function same<T, U>(proof: Same<T, U>): Same<T, U> {
  return proof;
}

// Without the option: any binary type, so data may be any of them and binaryType takes any.
const plain = new WebSocket('ws://127.0.0.1:1/');
same<typeof plain, WebSocket<BinaryType>>(true);
plain.binaryType = 'arraybuffer';
plain.binaryType = 'nodebuffer';
plain.binaryType = 'blob';
plain.onmessage = (event) => {
  same<typeof event.data, string | Blob | ArrayBuffer | Buffer>(true);
  // @ts-expect-error data may be binary: it is not always a string
  const text: string = event.data;
  return text;
};
plain.addEventListener('message', (event) => {
  same<typeof event.data, string | Blob | ArrayBuffer | Buffer>(true);
});
// A socket made without the option, assigned after construction, as browsers' code does.
const later = new WebSocket('ws://127.0.0.1:1/', 'chat', { handshakeTimeout: 1000 });
later.binaryType = 'arraybuffer';

// With the option: its type is inferred, and data has that type only.
const ab = new WebSocket('ws://127.0.0.1:1/', [], { binaryType: 'arraybuffer' });
same<typeof ab, WebSocket<'arraybuffer'>>(true);
ab.addEventListener('message', (event) => {
  same<typeof event.data, string | ArrayBuffer>(true);
});
ab.onmessage = (event) => {
  same<typeof event.data, string | ArrayBuffer>(true);
  // @ts-expect-error an "arraybuffer" socket does not deliver Blobs
  const blob: string | Blob = event.data;
  return blob;
};
ab.binaryType = 'arraybuffer';
// @ts-expect-error the setter keeps an explicitly typed socket's binary type
ab.binaryType = 'blob';

const nb = new WebSocket('ws://127.0.0.1:1/', [], { binaryType: 'nodebuffer' });
nb.onmessage = (event) => {
  same<typeof event.data, string | Buffer>(true);
};
const blob = new WebSocket('ws://127.0.0.1:1/', undefined, { binaryType: 'blob' });
blob.onmessage = (event) => {
  same<typeof event.data, string | Blob>(true);
};
// @ts-expect-error "blob" sockets take no other binary type
blob.binaryType = 'nodebuffer';

// An explicitly typed socket is still a WebSocket, for code that takes any socket.
function anySocket(ws: WebSocket): BinaryType {
  return ws.binaryType;
}
anySocket(ab);
anySocket(nb);
// @ts-expect-error but a socket of any binary type is not an "arraybuffer" one
const narrowed: WebSocket<'arraybuffer'> = plain;

// connect() infers the same way.
export async function connected(): Promise<void> {
  const ws = await WebSocket.connect('ws://127.0.0.1:1/', { binaryType: 'arraybuffer' });
  same<typeof ws, WebSocket<'arraybuffer'>>(true);
  for await (const data of ws) same<typeof data, string | ArrayBuffer>(true);
  const any = await WebSocket.connect('ws://127.0.0.1:1/');
  any.binaryType = 'nodebuffer';
  for await (const data of any) same<typeof data, MessageData>(true);
}

// Errors stay typed.
plain.onerror = (event) => {
  same<typeof event, ErrorEvent<WebSocketError>>(true);
  return event.error?.code;
};
plain.addEventListener('error', (event) => event.error?.code);

// Listeners typed by hand.
const onArrayBuffer = (event: MessageEvent<string | ArrayBuffer>) => event.data;
ab.addEventListener('message', onArrayBuffer);
// @ts-expect-error a listener for ArrayBuffers only does not fit a socket of any binary type
plain.addEventListener('message', onArrayBuffer);

// Servers hand out sockets of their binaryType: "nodebuffer" by default.
const wss = new WebSocketServer({ noServer: true });
same<typeof wss, WebSocketServer<'nodebuffer'>>(true);
wss.on('connection', (ws, request) => {
  same<typeof ws, WebSocket<'nodebuffer'>>(true);
  ws.onmessage = (event) => {
    same<typeof event.data, string | Buffer>(true);
  };
  return request.url;
});
for (const client of wss.clients) same<typeof client, WebSocket<'nodebuffer'>>(true);
wss.broadcast('hello', { filter: (ws) => ws.binaryType === 'nodebuffer' });

const abServer = new WebSocketServer({ noServer: true, binaryType: 'arraybuffer' });
abServer.on('connection', (ws) => {
  ws.addEventListener('message', (event) => {
    same<typeof event.data, string | ArrayBuffer>(true);
  });
});
// A server taken as any server.
function anyServer(server: WebSocketServer<BinaryType>): number {
  return server.clients.size;
}
anyServer(wss);
anyServer(abServer);

// handleUpgrade takes the Duplex that Node's 'upgrade' event gives.
const http = createServer();
http.on('upgrade', (request, socket, head) => {
  same<typeof socket, Duplex>(true);
  wss.handleUpgrade(request, socket, head, (ws) => {
    same<typeof ws, WebSocket<'nodebuffer'>>(true);
    wss.emit('connection', ws, request);
  });
});
export function upgrade(request: IncomingMessage, head: Buffer): void {
  // A net.Socket, and a Duplex that is none (a tunnel, a test pipe).
  abServer.handleUpgrade(request, new Socket(), head, (ws) => ws.close());
  abServer.handleUpgrade(request, new Duplex(), head, (ws) => ws.close());
  // @ts-expect-error the callback gets an "arraybuffer" socket, not a "blob" one
  abServer.handleUpgrade(request, new Duplex(), head, (ws: WebSocket<'blob'>) => ws);
}

export { later, narrowed };
