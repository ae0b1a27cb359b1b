// The two ends of the echo benchmark, for each kind: `wskit`, `ws` (npm) and `tcp` (node:net).
// Servers echo every message back as it came (text as text, binary as binary). Clients keep a
// window of messages in flight and check every echo (see payloads.mjs).
import net from 'node:net';
import { buildRing, echoChecker, streamChecker } from './payloads.mjs';

const CLOSE_TIMEOUT_MS = 10_000;

/** Payload rings, built once per process for each size, type and window. */
const rings = new Map();
function ringFor(size, type, window) {
  const key = `${size} ${type} ${window}`;
  if (!rings.has(key)) rings.set(key, buildRing(size, type, window));
  return rings.get(key);
}

/** Starts an echo server on 127.0.0.1 and a free port; `onError` gets any socket error. */
export async function startEchoServer(kind, onError) {
  if (kind === 'tcp') {
    const server = net.createServer((socket) => {
      socket.setNoDelay(true);
      socket.on('data', (chunk) => socket.write(chunk));
      socket.on('error', onError);
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { port: server.address().port };
  }
  if (kind === 'wskit') {
    const { WebSocketServer } = await import('../../dist/esm/index.js');
    const server = new WebSocketServer({
      port: 0,
      host: '127.0.0.1',
      binaryType: 'nodebuffer',
      perMessageDeflate: false,
    });
    server.on('connection', (ws) => {
      ws.onmessage = (e) => ws.send(e.data);
      ws.onerror = (e) => onError(e.error ?? new Error(e.message));
    });
    server.on('error', onError);
    await new Promise((resolve) => server.on('listening', resolve));
    return { port: server.address().port };
  }
  if (kind === 'ws') {
    const { WebSocketServer } = await import('ws');
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
    server.on('connection', (ws) => {
      // ws's fastest echo: the Buffer goes back as it came, text without being decoded.
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
      ws.on('error', onError);
    });
    server.on('error', onError);
    await new Promise((resolve) => server.on('listening', resolve));
    return { port: server.address().port };
  }
  throw new Error(`unknown server kind ${kind}`);
}

/** `promise`, or a rejection after `ms` milliseconds. */
function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Opens a client WebSocket of `kind`; `onMessage` gets strings for text and Buffers for binary.
 * Returns { send, close, abort }.
 */
async function connectWebSocket(kind, url, onMessage, onError) {
  if (kind === 'wskit') {
    const { WebSocket } = await import('../../dist/esm/index.js');
    const ws = new WebSocket(url, undefined, {
      binaryType: 'nodebuffer',
      perMessageDeflate: false,
    });
    ws.onmessage = (e) => onMessage(e.data);
    ws.onerror = (e) => onError(e.error ?? new Error(e.message));
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onclose = () => reject(new Error('wskit client: closed before opening'));
    });
    const closed = new Promise((resolve) => {
      ws.onclose = resolve;
    });
    if (ws.extensions !== '') throw new Error(`wskit client: extension ${ws.extensions} in use`);
    return {
      send: (data) => ws.send(data),
      close: () => {
        ws.close();
        return closed;
      },
      abort: () => ws.terminate(),
    };
  }
  const { WebSocket } = await import('ws');
  const ws = new WebSocket(url, { perMessageDeflate: false });
  // ws hands text over as a Buffer; an application reads text as a string, as wskit delivers it.
  ws.on('message', (data, isBinary) => onMessage(isBinary ? data : data.toString()));
  ws.on('error', onError);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('close', () => reject(new Error('ws client: closed before opening')));
  });
  const closed = new Promise((resolve) => ws.once('close', resolve));
  if (ws.extensions !== '') throw new Error(`ws client: extension ${ws.extensions} in use`);
  return {
    send: (data) => ws.send(data),
    close: () => {
      ws.close();
      return closed;
    },
    abort: () => ws.terminate(),
  };
}

/** Opens a raw TCP connection that delivers received chunks to `onData`. */
async function connectTcp(port, onData, onError) {
  const socket = net.connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  socket.on('data', onData);
  socket.on('error', onError);
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const closed = new Promise((resolve) => socket.once('close', resolve));
  return {
    send: (data) => socket.write(data),
    close: () => {
      socket.end();
      return closed;
    },
    abort: () => socket.destroy(),
  };
}

/**
 * One echo measurement: opens a connection to `port`, sends `window` messages, then one more for
 * each echo, until `warmup + count` have come back; the last `count` echoes are timed. Checks
 * every echo and the byte total. Returns { seconds, cpu } where `cpu` is this process's
 * process.cpuUsage() over the timed part.
 */
export async function runEchoClient(kind, { port, size, type, window, warmup, count, timeoutMs }) {
  const ring = ringFor(size, type, window);
  const total = warmup + count;
  let sent = 0;
  let received = 0;
  let bytes = 0;
  let start = 0n;
  let end = 0n;
  let cpuStart = null;
  let cpu = null;
  let finish;
  let fail;
  const done = new Promise((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  const startClock = () => {
    cpuStart = process.cpuUsage();
    start = process.hrtime.bigint();
  };
  const stopClock = () => {
    end = process.hrtime.bigint();
    cpu = process.cpuUsage(cpuStart);
    finish();
  };

  let conn = null;
  let onReceive;
  if (kind === 'tcp') {
    // No message boundaries: an echo is complete each time another `size` bytes are back.
    const check = streamChecker(ring);
    onReceive = (chunk) => {
      try {
        check(bytes, chunk);
      } catch (error) {
        fail(error);
        return;
      }
      bytes += chunk.length;
      const echoed = Math.floor(bytes / size);
      while (received < echoed) {
        received++;
        if (received === warmup) startClock();
        if (received === total) stopClock();
        else if (sent < total) conn.send(ring.bytes[sent++ % ring.count]);
      }
    };
  } else {
    const check = echoChecker(ring);
    onReceive = (data) => {
      try {
        check(received, data);
      } catch (error) {
        fail(error);
        return;
      }
      bytes += data.length;
      received++;
      if (received === warmup) startClock();
      if (received === total) stopClock();
      else if (sent < total) conn.send(ring.messages[sent++ % ring.count]);
    };
  }
  const what = `${kind} client, ${total} x ${size} B ${type}`;
  conn = await withTimeout(
    kind === 'tcp'
      ? connectTcp(port, onReceive, fail)
      : connectWebSocket(kind, `ws://127.0.0.1:${port}/`, onReceive, fail),
    timeoutMs,
    `${what}: connecting`,
  );
  try {
    const payloads = kind === 'tcp' ? ring.bytes : ring.messages;
    if (warmup === 0) startClock();
    while (sent < Math.min(window, total)) conn.send(payloads[sent++ % ring.count]);
    await withTimeout(done, timeoutMs, what);
    await withTimeout(conn.close(), CLOSE_TIMEOUT_MS, `${what}: closing`);
  } catch (error) {
    conn.abort();
    throw error;
  }
  if (bytes !== total * size)
    throw new Error(`${what}: ${bytes} bytes echoed, not ${total * size}`);
  return { seconds: Number(end - start) / 1e9, cpu };
}
