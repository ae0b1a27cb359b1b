// A WebSocket endpoint under attack, run in its own process with a small heap
// (`node --max-old-space-size=64 target.mjs <json>`), so that an attack that makes it hold
// memory without bound ends the process instead of passing unnoticed.
//
// The JSON argument: { role: 'server' | 'client', library: 'wskit' | 'ws', options, url?,
// sendOnOpen?: { size, count } }. The process reports over IPC:
//   { type: 'listening', port }      (server)
//   { type: 'open' }
//   { type: 'error', code, closeCode, message }
//   { type: 'close', code, reason }
//   { type: 'memory', rss, heapUsed, maxRss }  (answer to { type: 'memory' })
//   { type: 'cpu', cpuMicros }         (answer to { type: 'cpu' })
// and exits when told { type: 'exit' }.
import { Buffer } from 'node:buffer';

const config = JSON.parse(process.argv[2] ?? '{}');
const report = (message) => process.send?.(message);

process.on('message', (message) => {
  if (message.type === 'memory') {
    globalThis.gc?.();
    const { rss, heapUsed } = process.memoryUsage();
    report({ type: 'memory', rss, heapUsed, maxRss: process.resourceUsage().maxRSS * 1024 });
  } else if (message.type === 'cpu') {
    const { user, system } = process.cpuUsage();
    report({ type: 'cpu', cpuMicros: user + system });
  } else if (message.type === 'exit') {
    process.exit(0);
  }
});

function sendBurst(send) {
  const burst = config.sendOnOpen;
  if (!burst) return;
  const payload = Buffer.alloc(burst.size, 0x61);
  for (let i = 0; i < burst.count; i++) {
    try {
      send(payload);
    } catch (error) {
      report({ type: 'error', code: error.code, message: error.message, closeCode: null });
      return;
    }
  }
  report({ type: 'sent' });
}

if (config.library === 'ws') {
  const { WebSocketServer, WebSocket } = await import('ws');
  const watch = (socket) => {
    socket.on('error', (error) =>
      report({
        type: 'error',
        code: error.code,
        closeCode: error[Symbol.for('status-code')] ?? null,
        message: error.message,
      }),
    );
    socket.on('close', (code, reason) =>
      report({ type: 'close', code, reason: reason.toString() }),
    );
  };
  if (config.role === 'server') {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0, ...config.options });
    server.on('listening', () => report({ type: 'listening', port: server.address().port }));
    server.on('connection', (socket) => {
      report({ type: 'open' });
      watch(socket);
      sendBurst((data) => socket.send(data));
    });
  } else {
    const socket = new WebSocket(config.url, config.options);
    socket.on('open', () => report({ type: 'open' }));
    watch(socket);
  }
} else {
  // The benchmark points WSKIT_BENCH_DIST at its copy of the build (bench/lib/wskit.mjs).
  const { WebSocketServer, WebSocket } = await import(process.env.WSKIT_BENCH_DIST ?? 'wskit');
  const watch = (socket) => {
    socket.addEventListener('error', (event) =>
      report({
        type: 'error',
        code: event.error?.code ?? null,
        closeCode: event.error?.closeCode ?? null,
        message: event.message,
      }),
    );
    socket.addEventListener('close', (event) =>
      report({ type: 'close', code: event.code, reason: event.reason }),
    );
  };
  if (config.role === 'server') {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0, ...config.options });
    server.on('listening', () => report({ type: 'listening', port: server.address().port }));
    server.on('error', (error) =>
      report({ type: 'server-error', code: error.code, message: error.message }),
    );
    server.on('connection', (socket) => {
      report({ type: 'open' });
      watch(socket);
      sendBurst((data) => socket.send(data));
    });
  } else {
    const socket = new WebSocket(config.url, [], config.options);
    socket.addEventListener('open', () => report({ type: 'open' }));
    watch(socket);
  }
}
