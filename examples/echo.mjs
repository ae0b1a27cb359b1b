// Starts a local wskit echo server, connects a wskit client, exchanges a few messages, prints
// them, and shuts everything down. Run with: npm run example
import { WebSocket, WebSocketServer } from 'wskit';

const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });

server.on('connection', (socket, request) => {
  console.log(
    `server: connection from ${request.socket.remoteAddress}, protocol "${socket.protocol}"`,
  );
  socket.onmessage = (event) => socket.send(event.data);
  socket.onclose = (event) => console.log(`server: client closed (${event.code} ${event.reason})`);
});

server.on('listening', () => {
  const { port } = server.address();
  const url = `ws://127.0.0.1:${port}/echo`;
  console.log(`server: listening on ${url}`);

  const client = new WebSocket(url, ['chat'], { binaryType: 'nodebuffer' });
  const outgoing = ['hello', 'wskit speaks RFC 6455', '¡unicode ✓ 🚀!', Buffer.from([1, 2, 3, 4])];
  let received = 0;

  client.onopen = () => {
    console.log(`client: open, protocol "${client.protocol}"`);
    for (const message of outgoing) client.send(message);
  };
  client.onmessage = (event) => {
    const shown =
      typeof event.data === 'string'
        ? JSON.stringify(event.data)
        : `<binary ${event.data.toString('hex')}>`;
    console.log(`client: received ${shown}`);
    if (++received === outgoing.length) client.close(1000, 'done');
  };
  client.onerror = (event) => {
    console.error(`client: error ${event.error.code}: ${event.message}`);
    process.exitCode = 1;
  };
  client.onclose = (event) => {
    console.log(`client: closed, code ${event.code}, clean ${event.wasClean}`);
    server.close(() => console.log('server: closed'));
  };
});
