/**
 * One server process (node) of the multi-process tests: a WebSocketServer on 127.0.0.1:0 with a
 * RedisBroker on the url given as argument. Clients drive it with JSON commands:
 *   {"op":"sub","topic":t}                          -> subscribes; answers {"op":"subscribed"}
 *   {"op":"pub","topic":t,"from":f,"count":n,"every":k} -> publishes "f:0".."f:<n-1>", yielding
 *       to the event loop after every k; answers {"op":"published","sent":s,"refused":r}
 * Answers carry the command's "id" (commands run concurrently). Published messages reach subscribers as they are; a `gap` reaches them as
 * {"op":"gap","topic":t,"missed":n}. The process prints {"port":p} once it is ready and closes
 * on SIGTERM.
 */
import { setImmediate as turn } from 'node:timers/promises';
import { WebSocketServer } from '../../src/index.js';
import { redisBroker } from '../../src/redis/index.js';

const url = process.argv[2];
if (!url) throw new Error('usage: node-process.ts <redis url>');

const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', broker: redisBroker({ url }) });
wss.on('error', (error) => {
  process.stderr.write(`node error: ${(error as { code?: string }).code} ${error.message}\n`);
});
wss.on('gap', (topic, missed) => {
  for (const ws of wss.clients)
    if (ws.topics.has(topic)) ws.send(JSON.stringify({ op: 'gap', topic, missed }));
});
wss.on('connection', (ws) => {
  ws.addEventListener('message', async (event) => {
    const command = JSON.parse(String(event.data)) as {
      op: string;
      topic: string;
      from?: string;
      count?: number;
      every?: number;
      id?: number;
    };
    if (command.op === 'sub') {
      ws.subscribe(command.topic);
      await wss.brokerReady();
      ws.send(JSON.stringify({ op: 'subscribed', id: command.id }));
    } else if (command.op === 'pub') {
      let sent = 0;
      let refused = 0;
      for (let i = 0; i < (command.count ?? 0); i++) {
        try {
          wss.publish(command.topic, `${command.from}:${i}`);
          sent++;
        } catch {
          refused++;
        }
        if (command.every && i % command.every === command.every - 1) await turn();
      }
      ws.send(JSON.stringify({ op: 'published', sent, refused, id: command.id }));
    }
  });
});
wss.once('listening', async () => {
  await wss.brokerReady();
  const address = wss.address();
  process.stdout.write(
    `${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`,
  );
});
process.once('SIGTERM', () => wss.close(() => process.exit(0)));
