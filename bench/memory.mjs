// Child process (run with --expose-gc) for the idle-connection memory test: one side, `server` or
// `client` (first argument), of one kind, `wskit`, `ws` or `tcp` (second argument). The client is
// given the server's port (third argument). The parent drives both over IPC with requests
// { id, cmd } and gets answers { id, ok, ... }:
//   warmup   (client) opens and closes one connection, so that lazily loaded code and one-time
//            allocations of the first connection are not counted per connection
//   baseline (both)   memory with no connection open
//   open     (client) opens `count` connections and waits until every one is open
//   measure  (both)   waits until `count` connections are open on this side, lets them sit idle,
//                     and reports memory; it fails if any connection is not open
// Every connection has a message handler, as an application's would.
import net from 'node:net';
import { memoryAfterGc, serveParent, waitFor } from './lib/child-side.mjs';
import { importWskit } from './lib/wskit.mjs';

const [role, kind, portArg] = process.argv.slice(2);
const port = Number(portArg);
const noop = () => {};

if (typeof globalThis.gc !== 'function') throw new Error('memory.mjs needs node --expose-gc');

// -- server -------------------------------------------------------------------------------------

async function startServer() {
  if (kind === 'tcp') {
    let open = 0;
    const server = net.createServer((socket) => {
      open++;
      socket.on('data', (chunk) => socket.write(chunk));
      socket.on('close', () => open--);
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', 511, resolve));
    return { port: server.address().port, openCount: () => open };
  }
  const { WebSocketServer } = kind === 'wskit' ? await importWskit() : await import('ws');
  const options = { port: 0, host: '127.0.0.1' };
  if (kind === 'wskit') options.binaryType = 'nodebuffer';
  options.perMessageDeflate = false;
  const server = new WebSocketServer(options);
  server.on('connection', (ws) => {
    if (kind === 'wskit') ws.onmessage = (e) => ws.send(e.data);
    else ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  await new Promise((resolve) => server.on('listening', resolve));
  const openCount = () => {
    let open = 0;
    for (const ws of server.clients) if (ws.readyState === 1) open++;
    return open;
  };
  return { port: server.address().port, openCount };
}

// -- client -------------------------------------------------------------------------------------

let WebSocketClass = null;
const clients = [];

async function connectOne() {
  if (kind === 'tcp') {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('data', noop);
    await new Promise((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return socket;
  }
  const url = `ws://127.0.0.1:${port}/`;
  let ws;
  if (kind === 'wskit') {
    ws = new WebSocketClass(url, undefined, { binaryType: 'nodebuffer', perMessageDeflate: false });
    ws.onmessage = noop;
  } else {
    ws = new WebSocketClass(url, { perMessageDeflate: false });
    ws.on('message', noop);
  }
  await new Promise((resolve, reject) => {
    ws.addEventListener('open', resolve, { once: true });
    ws.addEventListener('error', (e) => reject(e.error ?? new Error(e.message)), { once: true });
  });
  return ws;
}

function isOpen(client) {
  return kind === 'tcp'
    ? !client.destroyed && client.readyState === 'open'
    : client.readyState === 1;
}

async function closeOne(client) {
  if (kind === 'tcp') {
    const closed = new Promise((resolve) => client.once('close', resolve));
    client.end();
    return closed;
  }
  const closed = new Promise((resolve) => client.addEventListener('close', resolve));
  client.close();
  return closed;
}

// -- driver -------------------------------------------------------------------------------------

async function main() {
  if (role === 'server') {
    const server = await startServer();
    const handlers = {
      baseline: async () => {
        await waitFor(
          () => server.openCount() === 0,
          `${kind} ${role}: the warm-up connection to close`,
          20_000,
        );
        return { memory: await memoryAfterGc() };
      },
      measure: async ({ count }) => {
        await waitFor(
          () => server.openCount() === count,
          `${kind} ${role}: ${count} open connections`,
          20_000,
        );
        const result = await memoryAfterGc();
        const open = server.openCount();
        if (open !== count) throw new Error(`${open} connections open instead of ${count}`);
        return { memory: result };
      },
    };
    return { handlers, ready: { port: server.port } };
  }
  if (kind !== 'tcp') {
    WebSocketClass = (kind === 'wskit' ? await importWskit() : await import('ws')).WebSocket;
  }
  const handlers = {
    warmup: async () => {
      await closeOne(await connectOne());
      return {};
    },
    baseline: async () => ({ memory: await memoryAfterGc() }),
    open: async ({ count }) => {
      // Batches keep the server's accept backlog from overflowing.
      while (clients.length < count) {
        const batch = Math.min(100, count - clients.length);
        clients.push(...(await Promise.all(Array.from({ length: batch }, connectOne))));
      }
      return {};
    },
    measure: async ({ count }) => {
      const result = await memoryAfterGc();
      const open = clients.filter(isOpen).length;
      if (open !== count) throw new Error(`${open} client connections open instead of ${count}`);
      return { memory: result };
    },
  };
  return { handlers, ready: {} };
}

serveParent(`memory ${kind} ${role}`, main());
