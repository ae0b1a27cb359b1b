// Child process (run with --expose-gc) for the memory test under compressed traffic: one side,
// `server` or `client` (first argument), of one library, `wskit` or `ws` (second argument); the
// client is given the server's port (third argument). Server and clients are in two separate
// processes, so that each side's memory is its own. Both ends use permessage-deflate with the
// settings of the compressed echo (lib/endpoints.mjs: DEFLATE, context takeover on) and insist
// on it: a connection that did not agree to it fails the test. The server is the echo server of
// the echo benchmark. The parent drives both over IPC with requests { id, cmd } and gets answers
// { id, ok, ... }:
//   warmup   (client) one connection echoes a few messages and closes, so that lazily loaded
//            code and one-time allocations are not counted
//   baseline (both)   memory with no connection open, after GC
//   run      (client) opens `connections` connections, then each sends `messages` messages of
//            `size` bytes of JSON-like text, `window` at a time, and checks every echo byte for
//            byte; answers once every echo has arrived, with the time it took
//   measure  (both)   with every connection still open: GC, then memory, peak rss and CPU time
import { memoryAfterGc, serveParent, waitFor, withTimeout } from './lib/child-side.mjs';
import { connectWebSocket, startEchoServer } from './lib/endpoints.mjs';
import { buildRing, echoChecker } from './lib/payloads.mjs';

const [role, kind, portArg] = process.argv.slice(2);
const port = Number(portArg);

if (typeof globalThis.gc !== 'function')
  throw new Error('deflate-memory.mjs needs node --expose-gc');

const errors = [];
const onError = (error) => {
  errors.push(error);
  process.send?.({ error: `deflate memory ${kind} ${role}: ${error?.stack ?? error}` });
};

/** Samples rss while the traffic runs, for the peak seen during the run only. */
function rssSampler() {
  let peak = 0;
  const sample = () => {
    peak = Math.max(peak, process.memoryUsage.rss());
  };
  sample();
  const timer = setInterval(sample, 20);
  return () => {
    clearInterval(timer);
    sample();
    return peak;
  };
}

// -- server -------------------------------------------------------------------------------------

async function server() {
  const echo = await startEchoServer(kind, onError, { deflate: true });
  let stopSampler = null;
  let cpuStart = null;
  const handlers = {
    baseline: async () => {
      await waitFor(
        () => echo.openCount() === 0,
        `${kind} ${role}: the warm-up connection to close`,
        30_000,
      );
      const result = await memoryAfterGc();
      stopSampler = rssSampler();
      cpuStart = process.cpuUsage();
      return { memory: result };
    },
    measure: async ({ connections }) => {
      const cpu = process.cpuUsage(cpuStart);
      const sampledPeakRss = stopSampler();
      const result = await memoryAfterGc();
      const open = echo.openCount();
      if (open !== connections)
        throw new Error(`${open} server connections open instead of ${connections}`);
      if (errors.length > 0) throw new Error(`server errors: ${errors.join('; ')}`);
      return { memory: { ...result, sampledPeakRss }, cpu };
    },
  };
  return { handlers, ready: { port: echo.port } };
}

// -- client -------------------------------------------------------------------------------------

/**
 * One client connection that sends `messages` messages from `ring`, starting at slot `offset`,
 * keeping `window` in flight once started; start() resolves when every echo has arrived and
 * matched.
 */
async function openClient(ring, offset, messages, window) {
  const check = echoChecker(ring);
  let sent = 0;
  let received = 0;
  let conn = null;
  let finish;
  let fail;
  const done = new Promise((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  done.catch(() => {}); // a failure before start() is reported by start()
  const sendNext = () => conn.send(ring.messages[(offset + sent++) % ring.count]);
  const onMessage = (data) => {
    try {
      check(offset + received, data);
    } catch (error) {
      fail(error);
      return;
    }
    received++;
    if (received === messages) finish();
    else if (sent < messages) sendNext();
  };
  conn = await connectWebSocket(kind, `ws://127.0.0.1:${port}/`, onMessage, fail, {
    deflate: true,
  });
  let open = true;
  conn.closed.then(() => {
    open = false;
    fail(new Error(`connection closed after ${received} echoes`));
  });
  return {
    conn,
    isOpen: () => open,
    start: () => {
      while (sent < Math.min(window, messages)) sendNext();
      return done;
    },
  };
}

async function client() {
  let ring = null;
  const clients = [];
  let stopSampler = null;
  let cpuStart = null;
  const handlers = {
    warmup: async ({ size, window }) => {
      ring = buildRing(size, 'json', window);
      const one = await openClient(ring, 0, 4 * window, window);
      await withTimeout(one.start(), 60_000, 'warm-up echoes');
      await one.conn.close();
      return {};
    },
    baseline: async () => {
      const result = await memoryAfterGc();
      stopSampler = rssSampler();
      cpuStart = process.cpuUsage();
      return { memory: result };
    },
    run: async ({ connections, messages, window, timeoutMs }) => {
      const started = process.hrtime.bigint();
      // Batches keep the server's accept backlog from overflowing.
      while (clients.length < connections) {
        const batch = Math.min(50, connections - clients.length);
        const offsets = Array.from({ length: batch }, (_, i) => (clients.length + i) * 37);
        clients.push(
          ...(await Promise.all(offsets.map((o) => openClient(ring, o, messages, window)))),
        );
      }
      const opened = process.hrtime.bigint();
      await withTimeout(
        Promise.all(clients.map((c) => c.start())),
        timeoutMs,
        `${connections} x ${messages} echoes`,
      );
      const ended = process.hrtime.bigint();
      return {
        connectSeconds: Number(opened - started) / 1e9,
        seconds: Number(ended - opened) / 1e9,
      };
    },
    measure: async ({ connections }) => {
      const cpu = process.cpuUsage(cpuStart);
      const sampledPeakRss = stopSampler();
      const result = await memoryAfterGc();
      const open = clients.filter((c) => c.isOpen()).length;
      if (open !== connections)
        throw new Error(`${open} client connections open instead of ${connections}`);
      if (errors.length > 0) throw new Error(`client errors: ${errors.join('; ')}`);
      return { memory: { ...result, sampledPeakRss }, cpu };
    },
  };
  return { handlers, ready: {} };
}

serveParent(`deflate memory ${kind} ${role}`, role === 'server' ? server() : client());
