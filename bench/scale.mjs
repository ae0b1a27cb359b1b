// Child process of the scale benchmark: one side, `server` or `client` (first argument), of one
// server kind, `wskit` or `ws` (second argument); the client gets the port (third argument).
// run.mjs starts it through `sh -c 'ulimit -n ...'` so that it may hold 10,000 sockets: the file
// limit is raised for the benchmark's processes only, never by the library.
//
// The clients are `ws` clients for both servers, so that only the server differs. Requests:
//   baseline (both)  memory after GC with no connection open
//   open     (client) opens `count` connections, 250 at a time; answers with the wall time
//   wait     (server) waits until `count` connections are open; answers with the time from the
//                     first accepted connection to the last, and memory after GC
//   expect   (client) resolves once every connection has received `count` messages; answers
//                     with the time (performance.timeOrigin + now) when the last one arrived
//   broadcast (server) sends one `size`-byte binary message to every client: wskit
//                     `server.broadcast(data)`, ws `for (const c of wss.clients) c.send(data)`;
//                     answers with the start time, the synchronous time of the call and its CPU
import { memoryAfterGc, serveParent, waitFor } from './lib/child-side.mjs';
import { importWskit } from './lib/wskit.mjs';

const [role, kind, portArg] = process.argv.slice(2);
const now = () => performance.timeOrigin + performance.now();

async function server() {
  const { WebSocketServer } = kind === 'wskit' ? await importWskit() : await import('ws');
  const options = { port: 0, host: '127.0.0.1', backlog: 4096, perMessageDeflate: false };
  const wss = new WebSocketServer(options);
  let open = 0;
  let first = 0;
  let last = 0;
  wss.on('connection', (ws) => {
    if (open === 0) first = now();
    open++;
    last = now();
    ws.on?.('error', () => {});
  });
  await new Promise((resolve) => wss.on('listening', resolve));
  return {
    ready: { port: wss.address().port },
    handlers: {
      baseline: async () => ({ memory: await memoryAfterGc(0) }),
      wait: async ({ count }) => {
        await waitFor(() => open >= count, `${kind} ${role}: ${count} connections`, 120_000, 5);
        return { acceptMs: last - first, memory: await memoryAfterGc(0) };
      },
      broadcast: async ({ size }) => {
        const data = Buffer.alloc(size, 7);
        const cpu0 = process.cpuUsage();
        const start = now();
        if (kind === 'wskit') wss.broadcast(data);
        else for (const c of wss.clients) c.send(data);
        const syncMs = now() - start;
        const cpu = process.cpuUsage(cpu0);
        return { start, syncMs, cpuMicros: cpu.user + cpu.system };
      },
    },
  };
}

async function client() {
  const { WebSocket } = await import('ws');
  const url = `ws://127.0.0.1:${portArg}/`;
  const sockets = [];
  let received = 0;
  let lastArrival = 0;
  const connectOne = () =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      ws.on('message', () => {
        received++;
        lastArrival = now();
      });
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
    });
  return {
    ready: {},
    handlers: {
      baseline: async () => ({ memory: await memoryAfterGc(0) }),
      open: async ({ count }) => {
        const start = now();
        while (sockets.length < count) {
          const batch = Math.min(250, count - sockets.length);
          sockets.push(...(await Promise.all(Array.from({ length: batch }, connectOne))));
        }
        return { openMs: now() - start };
      },
      expect: async ({ count }) => {
        await waitFor(() => received >= count, `${kind} ${role}: ${count} messages`, 120_000, 5);
        received = 0;
        return { lastArrival };
      },
    },
  };
}

serveParent(`scale ${kind} ${role}`, role === 'server' ? server() : client());
