// The two ends of the echo benchmark, for each kind: `wskit`, `ws` (npm) and `tcp` (node:net).
// Servers echo every message back as it came (text as text, binary as binary). Clients keep a
// window of messages in flight and check every echo (see payloads.mjs).
//
// With `deflate` set, both ends of a WebSocket pairing use permessage-deflate with the same
// settings (DEFLATE below, translated for each library), the client checks that the server
// agreed to it, the server checks each connection's agreed extension (and drops the connection
// if it is not permessage-deflate), and the server counts the bytes on the wire of its last
// connection, so that the parent can check that messages really travelled compressed.
import http from 'node:http';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { withTimeout } from './child-side.mjs';
import { buildRing, echoChecker, streamChecker } from './payloads.mjs';
import { importWskit } from './wskit.mjs';

const CLOSE_TIMEOUT_MS = 10_000;

/**
 * permessage-deflate settings of the compressed benchmarks, the same for both libraries and both
 * ends: zlib's default level (6) and memory level (8), messages of 1024 bytes or more compressed,
 * context takeover on (the default of both libraries: nothing asks for no_context_takeover),
 * default window (15 bits), at most 10 zlib jobs at once per process (both libraries' default).
 */
export const DEFLATE = { threshold: 1024, level: 6, memLevel: 8, concurrencyLimit: 10 };

/** `perMessageDeflate` option of `kind` (client or server alike) for DEFLATE, or false. */
export function deflateOption(kind, deflate) {
  if (!deflate) return false;
  if (kind === 'wskit') return { ...DEFLATE };
  const { threshold, level, memLevel, concurrencyLimit } = DEFLATE;
  return { threshold, concurrencyLimit, zlibDeflateOptions: { level, memLevel } };
}

/** Throws unless `extensions` (a Sec-WebSocket-Extensions value) is what `deflate` calls for. */
export function checkExtensions(extensions, deflate, who) {
  const agreed = /^permessage-deflate(;|$)/.test(extensions ?? '');
  if (deflate && !agreed)
    throw new Error(`${who}: permessage-deflate not agreed (extensions "${extensions}")`);
  if (!deflate && extensions !== '') throw new Error(`${who}: extension "${extensions}" in use`);
}

/**
 * Whether `ws`, as loaded in this process, masks with the native `bufferutil` addon: ws loads it
 * unless WS_NO_BUFFER_UTIL is set, and falls back to its JavaScript loop when it cannot. Read from
 * ws's own buffer-util module (by file, since ws's exports hide it), so it is what ws really does.
 */
export function wsUsesBufferutil() {
  const require = createRequire(import.meta.url);
  const wsDir = path.dirname(require.resolve('ws/package.json'));
  const { mask } = require(path.join(wsDir, 'lib', 'buffer-util.js'));
  return mask.toString().includes('bufferUtil');
}

/** Payload rings, built once per process for each size, type and window. */
const rings = new Map();
function ringFor(size, type, window) {
  const key = `${size} ${type} ${window}`;
  if (!rings.has(key)) rings.set(key, buildRing(size, type, window));
  return rings.get(key);
}

/**
 * Starts an echo server on 127.0.0.1 and a free port; `onError` gets any socket error. Returns
 * { port, lastConnection(), openCount() }: lastConnection() describes the most recent WebSocket
 * connection, { extensions, bytesRead, bytesWritten } (wire bytes, handshake included), or null;
 * openCount() is the number of open WebSocket connections.
 */
export async function startEchoServer(kind, onError, { deflate = false } = {}) {
  if (kind === 'tcp') {
    if (deflate) throw new Error('raw TCP has no compressed variant');
    const server = net.createServer((socket) => {
      socket.setNoDelay(true);
      socket.on('data', (chunk) => socket.write(chunk));
      socket.on('error', onError);
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { port: server.address().port, lastConnection: () => null, openCount: () => null };
  }
  // The HTTP server is ours (rather than the library's own, from the `port` option) so that the
  // TCP sockets, and the bytes they carried, can be seen.
  const httpServer = http.createServer((_req, res) => res.writeHead(426).end());
  let lastSocket = null;
  let lastExtensions = null;
  httpServer.on('connection', (socket) => {
    lastSocket = socket;
    lastExtensions = null;
  });
  const lastConnection = () =>
    lastSocket && {
      extensions: lastExtensions,
      bytesRead: lastSocket.bytesRead,
      bytesWritten: lastSocket.bytesWritten,
    };
  /** Records the agreed extensions; false (after reporting and dropping) if they are wrong. */
  const accept = (ws, terminate) => {
    lastExtensions = ws.extensions;
    try {
      checkExtensions(ws.extensions, deflate, `${kind} server`);
      return true;
    } catch (error) {
      onError(error);
      terminate();
      return false;
    }
  };
  const perMessageDeflate = deflateOption(kind, deflate);
  let server;
  if (kind === 'wskit') {
    const { WebSocketServer } = await importWskit();
    server = new WebSocketServer({
      server: httpServer,
      binaryType: 'nodebuffer',
      perMessageDeflate,
    });
    server.on('connection', (ws) => {
      if (!accept(ws, () => ws.terminate())) return;
      ws.onmessage = (e) => ws.send(e.data);
      ws.onerror = (e) => onError(e.error ?? new Error(e.message));
    });
  } else if (kind === 'ws') {
    const { WebSocketServer } = await import('ws');
    server = new WebSocketServer({ server: httpServer, perMessageDeflate });
    server.on('connection', (ws) => {
      if (!accept(ws, () => ws.terminate())) return;
      // ws's fastest echo: the Buffer goes back as it came, text without being decoded.
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
      ws.on('error', onError);
    });
  } else {
    throw new Error(`unknown server kind ${kind}`);
  }
  server.on('error', onError);
  await new Promise((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const openCount = () => {
    let open = 0;
    for (const ws of server.clients) if (ws.readyState === 1) open++;
    return open;
  };
  return { port: httpServer.address().port, lastConnection, openCount };
}

/**
 * Opens a client WebSocket of `kind`; `onMessage` gets strings for text and Buffers for binary.
 * Returns { send, close, abort, closed, extensions }; `closed` resolves when the connection
 * closes, whoever closes it.
 */
export async function connectWebSocket(kind, url, onMessage, onError, { deflate = false } = {}) {
  const perMessageDeflate = deflateOption(kind, deflate);
  if (kind === 'wskit') {
    const { WebSocket } = await importWskit();
    const ws = new WebSocket(url, undefined, { binaryType: 'nodebuffer', perMessageDeflate });
    ws.onmessage = (e) => onMessage(e.data);
    ws.onerror = (e) => onError(e.error ?? new Error(e.message));
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onclose = () => reject(new Error('wskit client: closed before opening'));
    });
    const closed = new Promise((resolve) => {
      ws.onclose = resolve;
    });
    try {
      checkExtensions(ws.extensions, deflate, 'wskit client');
    } catch (error) {
      ws.terminate();
      throw error;
    }
    return {
      send: (data) => ws.send(data),
      close: () => {
        ws.close();
        return closed;
      },
      abort: () => ws.terminate(),
      closed,
      extensions: ws.extensions,
    };
  }
  const { WebSocket } = await import('ws');
  const ws = new WebSocket(url, { perMessageDeflate });
  // ws hands text over as a Buffer; an application reads text as a string, as wskit delivers it.
  ws.on('message', (data, isBinary) => onMessage(isBinary ? data : data.toString()));
  ws.on('error', onError);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('close', () => reject(new Error('ws client: closed before opening')));
  });
  const closed = new Promise((resolve) => ws.once('close', resolve));
  try {
    checkExtensions(ws.extensions, deflate, 'ws client');
  } catch (error) {
    ws.terminate();
    throw error;
  }
  return {
    send: (data) => ws.send(data),
    close: () => {
      ws.close();
      return closed;
    },
    abort: () => ws.terminate(),
    closed,
    extensions: ws.extensions,
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
    closed,
    extensions: null,
  };
}

/**
 * One echo measurement: opens a connection to `port`, sends `window` messages, then one more for
 * each echo, until `warmup + count` have come back; the last `count` echoes are timed. Checks
 * every echo and the byte total; a connection that closes before the last echo fails at once.
 * Returns { seconds, cpu, extensions } where `cpu` is this process's process.cpuUsage() over
 * the timed part (all threads, so zlib's work on the thread pool included) and `extensions` the
 * extensions the server agreed to.
 */
export async function runEchoClient(
  kind,
  { port, size, type, window, warmup, count, timeoutMs, deflate = false },
) {
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
  done.catch(() => {}); // a failure while connecting is reported when `done` is awaited
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
      : connectWebSocket(kind, `ws://127.0.0.1:${port}/`, onReceive, fail, { deflate }),
    timeoutMs,
    `${what}: connecting`,
  );
  conn.closed.then(() => fail(new Error(`${what}: connection closed after ${received} echoes`)));
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
  return { seconds: Number(end - start) / 1e9, cpu, extensions: conn.extensions };
}
