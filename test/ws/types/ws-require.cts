// CommonJS code written for `ws`: `require` gives the class, carrying Server and friends.
import WebSocket = require('wskit/ws');

const wss = new WebSocket.Server({ port: 0 });
wss.on('connection', (ws: WebSocket) => {
  ws.on('message', (data: WebSocket.RawData) => ws.send(data));
});
const server: WebSocket.WebSocketServer = new WebSocket.WebSocketServer({ noServer: true });
const options: WebSocket.ClientOptions = { headers: { 'X-A': 'b' } };
new WebSocket('ws://127.0.0.1:1', options).on('open', () => server.close());
