// Child process of bench/pubsub.mjs. Roles (first argument):
//   node <wskit|socket.io> <redis url>   a server on 127.0.0.1:0 with its Redis broker/adapter;
//                                        clients opened with ?sub join topic "room"; what a
//                                        publisher sends is published to "room"
//   clients <wskit|socket.io> <port> <n> n subscribers of the node on <port>; also publishes
//   local <wskit|ws>                     a server without broker: wskit's publish, or ws's loop
//   fanclients <kind> <port> <n>         n ws clients of a `local` server, counting deliveries
// Messages are "<sequence> <publish time in ms, high resolution>" padded to 64 bytes; latency is
// measured at each subscriber against the shared clock (performance.timeOrigin + now()).
// Answers the parent's requests over IPC (see lib/child.mjs).
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { serveParent } from './lib/child-side.mjs';

const [role, kind, ...args] = process.argv.slice(2);
const now = () => performance.timeOrigin + performance.now();
const wskitUrl = process.env.WSKIT_BENCH_DIST ?? pathToFileURL('dist/esm/index.js').href;
const wskitRedisUrl = wskitUrl.replace(/index\.js$/, 'redis/index.js');

/** Log-scale latency histogram (1% buckets), mergeable across processes. */
const STEP = Math.log(1.01);
class Histogram {
  counts = new Map();
  add(ms) {
    const bucket = Math.max(0, Math.floor(Math.log(Math.max(ms, 0.001) * 1000) / STEP));
    this.counts.set(bucket, (this.counts.get(bucket) ?? 0) + 1);
  }
  toJSON() {
    return Object.fromEntries(this.counts);
  }
}

function payload(sequence) {
  return `${sequence} ${now().toFixed(3)} `.padEnd(64, '.');
}

let lastAt = 0;
function onPayload(text, histogram) {
  const space = text.indexOf(' ');
  lastAt = now();
  histogram.add(lastAt - Number.parseFloat(text.slice(space + 1)));
}

const handlers = { cpu: async () => ({ cpu: process.cpuUsage() }) };
let ready = {};

if (role === 'node') {
  const [redisUrl] = args;
  if (kind === 'wskit') {
    const { WebSocketServer } = await import(wskitUrl);
    const { redisBroker } = await import(wskitRedisUrl);
    const wss = new WebSocketServer({
      port: 0,
      host: '127.0.0.1',
      broker: redisBroker({ url: redisUrl }),
    });
    wss.on('connection', (ws, request) => {
      if (request.url?.includes('sub')) {
        ws.subscribe('room');
        wss.brokerReady().then(() => ws.send('joined'));
      } else {
        ws.addEventListener('message', (event) => wss.publish('room', event.data));
      }
    });
    await new Promise((resolve) => wss.once('listening', resolve));
    await wss.brokerReady();
    ready = { port: wss.address().port };
  } else {
    const { createServer } = await import('node:http');
    const { Server } = await import('socket.io');
    const { createAdapter } = await import('@socket.io/redis-adapter');
    const { createClient } = await import('redis');
    const pub = createClient({ url: redisUrl });
    const sub = pub.duplicate();
    await Promise.all([pub.connect(), sub.connect()]);
    const http = createServer();
    const io = new Server(http, { adapter: createAdapter(pub, sub), transports: ['websocket'] });
    io.on('connection', (socket) => {
      if (socket.handshake.query.sub) {
        socket.join('room');
        socket.emit('joined');
      } else {
        socket.on('pub', (data) => io.to('room').emit('m', data));
      }
    });
    await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
    ready = { port: http.address().port };
  }
} else if (role === 'clients') {
  const [port, count] = [Number(args[0]), Number(args[1])];
  let histogram = new Histogram();
  let received = 0;
  const sockets = [];
  let publisher = null;
  if (kind === 'wskit') {
    const { WebSocket } = await import(wskitUrl);
    const open = (path, onText) =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`);
        ws.onmessage = (event) => onText(event.data, ws, resolve);
        ws.onopen = () => {
          if (!path.includes('sub')) resolve(ws);
        };
        ws.onerror = (event) => reject(event.error);
      });
    const onSub = (text, ws, resolve) => {
      if (text === 'joined') return resolve(ws);
      received++;
      onPayload(text, histogram);
    };
    for (let i = 0; i < count; i += 100) {
      const batch = Math.min(100, count - i);
      sockets.push(
        ...(await Promise.all(Array.from({ length: batch }, () => open('/?sub', onSub)))),
      );
    }
    handlers.publish = async ({ rate, messages }) => {
      publisher ??= await open('/', () => {});
      return pace(rate, messages, (i) => publisher.send(payload(i)));
    };
  } else {
    const { io } = await import('socket.io-client');
    const open = (sub) =>
      new Promise((resolve, reject) => {
        const socket = io(`http://127.0.0.1:${port}`, {
          transports: ['websocket'],
          query: sub ? { sub: '1' } : {},
          forceNew: true,
          reconnection: false,
        });
        if (sub) {
          socket.on('joined', () => resolve(socket));
          socket.on('m', (text) => {
            received++;
            onPayload(text, histogram);
          });
        } else socket.on('connect', () => resolve(socket));
        socket.on('connect_error', reject);
      });
    for (let i = 0; i < count; i += 100) {
      const batch = Math.min(100, count - i);
      sockets.push(...(await Promise.all(Array.from({ length: batch }, () => open(true)))));
    }
    handlers.publish = async ({ rate, messages }) => {
      publisher ??= await open(false);
      return pace(rate, messages, (i) => publisher.emit('pub', payload(i)));
    };
  }
  handlers.stats = async () => ({ received, lastAt, histogram: histogram.toJSON() });
  handlers.reset = async () => {
    received = 0;
    histogram = new Histogram();
    return {};
  };
  ready = { connected: sockets.length };
} else if (role === 'local') {
  const { WebSocketServer: WsServer } = await import('ws');
  let server;
  let fanOut;
  let subscribers;
  if (kind === 'wskit') {
    const { WebSocketServer } = await import(wskitUrl);
    server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    server.on('connection', (ws) => ws.subscribe('room'));
    fanOut = (message) => server.publish('room', message);
    subscribers = () => server.subscriberCount('room');
  } else {
    server = new WsServer({ port: 0, host: '127.0.0.1' });
    // ws's own broadcast idiom: a loop over the clients, each send framing the message again.
    fanOut = (message) => {
      for (const client of server.clients) if (client.readyState === 1) client.send(message);
    };
    subscribers = () => server.clients.size;
  }
  await new Promise((resolve) => server.once('listening', resolve));
  handlers.subscribers = async () => ({ subscribers: subscribers() });
  handlers.fanout = async ({ messages }) => {
    const cpu = process.cpuUsage();
    const startedAt = now();
    for (let i = 0; i < messages; i++) fanOut(payload(i));
    const publishMs = now() - startedAt;
    const publishCpu = process.cpuUsage(cpu);
    return { startedAt, publishMs, publishCpuMs: (publishCpu.user + publishCpu.system) / 1000 };
  };
  ready = { port: server.address().port };
} else if (role === 'fanclients') {
  const [port, count] = [Number(args[0]), Number(args[1])];
  const { WebSocket: WsClient } = await import('ws');
  let received = 0;
  let target = Number.POSITIVE_INFINITY;
  let done = null;
  const clients = [];
  for (let i = 0; i < count; i += 500) {
    const batch = Math.min(500, count - i);
    clients.push(
      ...(await Promise.all(
        Array.from(
          { length: batch },
          () =>
            new Promise((resolve, reject) => {
              const ws = new WsClient(`ws://127.0.0.1:${port}`);
              ws.on('message', () => {
                if (++received === target) done?.(now());
              });
              ws.on('open', () => resolve(ws));
              ws.on('error', reject);
            }),
        ),
      )),
    );
  }
  let finished = null;
  handlers.arm = async ({ total }) => {
    received = 0;
    target = total;
    finished = new Promise((resolve) => {
      done = resolve;
    });
    return {};
  };
  handlers.wait = async () => ({ lastAt: await finished, received });
  ready = { connected: clients.length };
}

/** Sends `messages` at `rate` per second (in 10 ms slices); resolves with the time it took. */
async function pace(rate, messages, send) {
  const startedAt = now();
  const start = performance.now();
  let sent = 0;
  while (sent < messages) {
    const due = Math.min(messages, Math.floor(((performance.now() - start) / 1000) * rate) + 1);
    while (sent < due) send(sent++);
    await sleep(10);
  }
  return { startedAt, seconds: (performance.now() - start) / 1000, sent };
}

serveParent(`pubsub ${process.argv.slice(2).join(' ')}`, Promise.resolve({ handlers, ready }));
