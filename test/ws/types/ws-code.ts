// Code written for `ws` and typed with @types/ws, with only the import changed.
import type { IncomingMessage } from 'node:http';
import { createServer } from 'node:http';
import type { Duplex } from 'node:stream';
import WebSocket, { createWebSocketStream, WebSocketServer } from 'wskit/ws';

const server = createServer();
const wss = new WebSocketServer({ noServer: true, clientTracking: true, maxPayload: 1024 });
const wss2: WebSocketServer = new WebSocketServer({
  port: 0,
  perMessageDeflate: { threshold: 512, zlibDeflateOptions: { level: 3 } },
  verifyClient: (
    info: { origin: string; secure: boolean; req: IncomingMessage },
    done: (result: boolean, code?: number) => void,
  ) => done(info.secure || info.origin === 'https://example.com', 401),
  handleProtocols: (protocols: Set<string>, request: IncomingMessage) =>
    protocols.has('chat') && request.url === '/' ? 'chat' : false,
});
const wss3 = new WebSocketServer({
  port: 0,
  verifyClient: (info: { req: IncomingMessage }) => info.req.headers.host !== undefined,
});

server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
  wss.handleUpgrade(request, socket, head, (ws: WebSocket, req: IncomingMessage) => {
    wss.emit('connection', ws, req);
  });
});

wss.on('connection', (ws: WebSocket, request: IncomingMessage) => {
  ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
    for (const client of wss.clients) {
      if (client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary });
    }
  });
  ws.on('close', (code: number, reason: Buffer) => console.log(code, reason.toString()));
  ws.on('error', (error: Error) => console.error(error.message));
  ws.on('pong', (data: Buffer) => data.length);
  ws.ping();
  ws.ping('x', undefined, (error) => error);
  ws.send('hello', (error?: Error | null) => error);
  ws.send(new Float32Array(2), { binary: true, compress: false, fin: true });
  console.log(request.socket.remoteAddress, ws.protocol, ws.extensions, ws.bufferedAmount);
});
wss.on('headers', (headers: string[], request: IncomingMessage) => headers.push(request.url ?? ''));
wss.on('wsClientError', (error: Error, socket: Duplex) => socket.destroy(error));
wss2.close((error?: Error) => error);
wss3.address();

const client = new WebSocket('ws://127.0.0.1:1/path', ['chat'], {
  headers: { Authorization: 'Bearer x' },
  handshakeTimeout: 1000,
  followRedirects: true,
  maxRedirects: 3,
  perMessageDeflate: false,
  rejectUnauthorized: false,
});
const other = new WebSocket(new URL('ws://127.0.0.1:1'), { origin: 'https://example.com' });
client.binaryType = 'arraybuffer';
client.on('open', () => client.send('hi'));
client.on('upgrade', (response: IncomingMessage) => response.headers);
client.on('unexpected-response', (request, response) =>
  request.destroy(new Error(String(response.statusCode))),
);
client.on('redirect', (url: string) => url.length);
client.onmessage = (event: WebSocket.MessageEvent) => event.data;
client.addEventListener('close', (event) => event.code + event.reason.length);
client.pause();
client.resume();
client.terminate();
other.close(1000, 'bye');
const duplex: Duplex = createWebSocketStream(other, { encoding: 'utf8' });
duplex.end();
const state: 0 | 1 | 2 | 3 = client.readyState;
console.log(state, client.isPaused, WebSocket.CONNECTING, client.CLOSED);
