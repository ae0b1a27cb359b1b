/**
 * `wskit bench`: N connections send M messages each to an echo server, pipelined with a
 * window, and the round trip of every message is timed.
 */
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import {
  type CloseEvent,
  type ErrorEvent,
  type MessageEvent,
  WebSocket,
  type WebSocketOptions,
  WebSocketServer,
} from '../../index.js';
import { exclusive, numberOption, type OptionSpec, type ParsedArgs, UsageError } from '../args.js';
import { describeError } from '../describe.js';
import type { Io } from '../io.js';
import { closeServer, echoMessages, listening } from '../local-server.js';
import { type Command, HELP_OPTION } from './base.js';
import { CLIENT_TLS_OPTIONS, checkUrl, clientTlsOf } from './client-options.js';

const OPTIONS: readonly OptionSpec[] = [
  {
    name: 'connections',
    short: 'c',
    kind: 'value',
    value: '<n>',
    help: 'connections (default 10)',
  },
  {
    name: 'messages',
    short: 'n',
    kind: 'value',
    value: '<n>',
    help: 'messages per connection (default 1000)',
  },
  { name: 'size', short: 's', kind: 'value', value: '<bytes>', help: 'message size (default 64)' },
  {
    name: 'window',
    short: 'w',
    kind: 'value',
    value: '<n>',
    help: 'messages in flight per connection (default 16)',
  },
  { name: 'local', kind: 'flag', help: 'start a local echo server (in this process) and use it' },
  { name: 'binary', kind: 'flag', help: 'binary messages (default)' },
  { name: 'text', kind: 'flag', help: 'text messages' },
  { name: 'deflate', kind: 'flag', help: 'offer (and with --local, accept) permessage-deflate' },
  { name: 'json', kind: 'flag', help: 'print the results as one JSON object on stdout' },
  ...CLIENT_TLS_OPTIONS,
  {
    name: 'timeout',
    kind: 'value',
    value: '<seconds>',
    help: 'give up when no echo arrives for this long (default 10)',
  },
  HELP_OPTION,
];

const HELP = `Usage: wskit bench <url> [options]
       wskit bench --local [options]

Measures an echo server: every connection sends its messages keeping --window of them in
flight, and times each one from send to echo. Prints messages, duration, throughput
(messages/s and MB/s of payload, one way, 1 MB = 10^6 bytes) and round-trip latency
percentiles. A progress bar is drawn on stderr when it is a terminal.

Options:
{options}

Examples:
  wskit bench --local
  wskit bench ws://127.0.0.1:8080 -c 50 -n 10000 -s 1024 --json`;

/** The machine-readable results (`--json`). */
export interface BenchResult {
  url: string;
  local: boolean;
  connections: number;
  messagesPerConnection: number;
  size: number;
  window: number;
  binary: boolean;
  deflate: boolean;
  /** Messages echoed, all connections together. */
  messages: number;
  /** Payload bytes sent (and echoed). */
  bytes: number;
  /** From the first send to the last echo, in ms. */
  durationMs: number;
  msgsPerSec: number;
  /** Payload megabytes (10^6 bytes) per second, one way. */
  mbPerSec: number;
  /** Time to open every connection, in ms. */
  connectMs: number;
  /** Round trips, send to echo, in ms. */
  latencyMs: { min: number; mean: number; p50: number; p90: number; p99: number; max: number };
}

interface BenchSettings {
  url: string;
  local: boolean;
  connections: number;
  messages: number;
  size: number;
  window: number;
  binary: boolean;
  deflate: boolean;
  stallMs: number;
  socket: WebSocketOptions;
}

/** A failure while benchmarking, already explained. */
class BenchError extends Error {}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

function round(n: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

function openAll(settings: BenchSettings): Promise<WebSocket[]> {
  return Promise.all(
    Array.from({ length: settings.connections }, () =>
      WebSocket.connect(settings.url, { ...settings.socket, binaryType: 'nodebuffer' }),
    ),
  ).catch((error: unknown) => {
    throw new BenchError(describeError(error, settings.url));
  });
}

/** Runs one connection's share; `latencies` gets each round trip at `offset + i`. */
function drive(
  ws: WebSocket,
  index: number,
  settings: BenchSettings,
  payload: string | Buffer,
  latencies: Float64Array,
  onEcho: () => void,
): Promise<void> {
  const { messages, window } = settings;
  const offset = index * messages;
  const sentAt = new Float64Array(messages);
  let sent = 0;
  let received = 0;
  return new Promise((resolve, reject) => {
    let failure: unknown;
    const onMessage = (event: MessageEvent) => {
      const now = performance.now();
      const data = event.data as string | Buffer;
      const length = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
      if (length !== settings.size || typeof data !== typeof payload) {
        cleanup();
        reject(
          new BenchError(
            `answer ${received + 1} on connection ${index + 1} was ${typeof data === 'string' ? 'text' : 'binary'} of ${length} byte${length === 1 ? '' : 's'}, expected ${typeof payload === 'string' ? 'text' : 'binary'} of ${settings.size}: is ${settings.url} an echo server?`,
          ),
        );
        ws.terminate();
        return;
      }
      latencies[offset + received] = now - sentAt[received]!;
      received++;
      onEcho();
      if (sent < messages) {
        sentAt[sent++] = performance.now();
        ws.send(payload);
      }
      if (received === messages) {
        cleanup();
        resolve();
      }
    };
    const onError = (event: ErrorEvent) => {
      failure = event.error;
    };
    const onClose = (event: CloseEvent) => {
      cleanup();
      const why = failure !== undefined ? `: ${describeError(failure, settings.url)}` : '';
      reject(
        new BenchError(
          `connection ${index + 1} closed with ${event.code} after ${received} of ${messages} echoes${why}`,
        ),
      );
    };
    const cleanup = () => {
      ws.removeEventListener('message', onMessage);
      ws.removeEventListener('error', onError);
      ws.removeEventListener('close', onClose);
    };
    ws.addEventListener('message', onMessage);
    ws.addEventListener('error', onError);
    ws.addEventListener('close', onClose);
    const first = Math.min(window, messages);
    for (let i = 0; i < first; i++) {
      sentAt[sent++] = performance.now();
      ws.send(payload);
    }
  });
}

/** A progress bar on stderr, redrawn at most 10 times a second; inert when stderr is no terminal. */
function progressBar(io: Io, total: number): { tick(): void; stop(): void } {
  if (io.stderr.isTTY !== true) return { tick() {}, stop() {} };
  let done = 0;
  const started = performance.now();
  const draw = () => {
    const width = Math.max(10, Math.min(40, (io.stderr.columns ?? 80) - 45));
    const filled = Math.round((done / total) * width);
    const seconds = (performance.now() - started) / 1000;
    const rate = seconds > 0 ? Math.round(done / seconds) : 0;
    io.stderr.write(
      `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.floor((done / total) * 100)).padStart(3)}% ${done}/${total} ${rate} msg/s\x1b[K`,
    );
  };
  const timer = setInterval(draw, 100);
  return {
    tick() {
      done++;
    },
    stop() {
      clearInterval(timer);
      io.stderr.write('\r\x1b[K');
    },
  };
}

async function runBench(settings: BenchSettings, io: Io): Promise<BenchResult> {
  const total = settings.connections * settings.messages;
  const payload = settings.binary
    ? randomBytes(settings.size)
    : randomBytes(settings.size)
        .toString('base64')
        .replace(/[+/=]/g, 'x')
        .padEnd(settings.size, 'x')
        .slice(0, settings.size);
  const connectStart = performance.now();
  const sockets = await openAll(settings);
  const connectMs = performance.now() - connectStart;
  const latencies = new Float64Array(total);
  const bar = progressBar(io, total);
  let lastEcho = performance.now();
  const watchdog = setInterval(() => {
    if (performance.now() - lastEcho > settings.stallMs) {
      for (const ws of sockets) ws.terminate();
    }
  }, 100);
  const start = performance.now();
  try {
    await Promise.all(
      sockets.map((ws, i) =>
        drive(ws, i, settings, payload, latencies, () => {
          lastEcho = performance.now();
          bar.tick();
        }),
      ),
    ).catch((error: unknown) => {
      if (performance.now() - lastEcho > settings.stallMs) {
        throw new BenchError(
          `no echo for ${settings.stallMs / 1000} s (--timeout): is ${settings.url} an echo server?`,
        );
      }
      throw error;
    });
  } finally {
    clearInterval(watchdog);
    bar.stop();
    await closeAll(sockets);
  }
  const durationMs = performance.now() - start;
  latencies.sort();
  let sum = 0;
  for (const v of latencies) sum += v;
  const bytes = total * settings.size;
  return {
    url: settings.url,
    local: settings.local,
    connections: settings.connections,
    messagesPerConnection: settings.messages,
    size: settings.size,
    window: settings.window,
    binary: settings.binary,
    deflate: settings.deflate,
    messages: total,
    bytes,
    durationMs: round(durationMs),
    msgsPerSec: Math.round(total / (durationMs / 1000)),
    mbPerSec: round(bytes / 1e6 / (durationMs / 1000)),
    connectMs: round(connectMs),
    latencyMs: {
      min: round(latencies[0] ?? 0),
      mean: round(total > 0 ? sum / total : 0),
      p50: round(percentile(latencies, 50)),
      p90: round(percentile(latencies, 90)),
      p99: round(percentile(latencies, 99)),
      max: round(latencies[total - 1] ?? 0),
    },
  };
}

/** Closes every socket with 1000, waiting at most 2 s for the closing handshakes. */
function closeAll(sockets: WebSocket[]): Promise<void> {
  return Promise.all(
    sockets.map(
      (ws) =>
        new Promise<void>((resolve) => {
          if (ws.readyState === WebSocket.CLOSED) return resolve();
          const timer = setTimeout(() => {
            ws.terminate();
            resolve();
          }, 2000);
          ws.addEventListener(
            'close',
            () => {
              if (ws.readyState !== WebSocket.CLOSED) return;
              clearTimeout(timer);
              resolve();
            },
            { once: true },
          );
          if (ws.readyState === WebSocket.OPEN) ws.close(1000);
        }),
    ),
  ).then(() => undefined);
}

function report(r: BenchResult): string {
  const lat = r.latencyMs;
  const kind = r.binary ? 'binary' : 'text';
  return [
    `wskit bench: ${r.url}${r.local ? ' (local echo server, same process)' : ''}`,
    `  ${r.connections} connections x ${r.messagesPerConnection} messages x ${r.size} bytes (${kind}), window ${r.window}${r.deflate ? ', permessage-deflate offered' : ''}`,
    `  messages    ${r.messages}`,
    `  duration    ${(r.durationMs / 1000).toFixed(3)} s (connecting took ${r.connectMs.toFixed(1)} ms)`,
    `  throughput  ${r.msgsPerSec} msgs/s, ${r.mbPerSec.toFixed(2)} MB/s`,
    `  latency     p50 ${lat.p50.toFixed(3)} ms, p90 ${lat.p90.toFixed(3)} ms, p99 ${lat.p99.toFixed(3)} ms, max ${lat.max.toFixed(3)} ms`,
  ].join('\n');
}

/** Runs the benchmark the arguments describe; resolves the exit status. */
async function bench(args: ParsedArgs, io: Io): Promise<number> {
  exclusive(args, 'binary', 'text');
  const local = args.flag('local');
  if (local && args.positionals.length > 0)
    throw new UsageError('bench takes a URL or --local, not both');
  if (!local && args.positionals.length === 0)
    throw new UsageError(
      'bench needs the URL of an echo server, or --local to start one, e.g. wskit bench --local',
    );
  if (args.positionals.length > 1)
    throw new UsageError(`bench takes one URL, got "${args.positionals.join(' ')}"`);
  const connections = numberOption(args, 'connections', 10, { min: 1, max: 10_000, integer: true });
  const messages = numberOption(args, 'messages', 1000, { min: 1, max: 1e8, integer: true });
  const size = numberOption(args, 'size', 64, { min: 0, max: 64 * 1024 * 1024, integer: true });
  const window = numberOption(args, 'window', 16, { min: 1, max: 1e6, integer: true });
  const stallMs = numberOption(args, 'timeout', 10, { min: 0.1 }) * 1000;
  const deflate = args.flag('deflate');
  const socket: WebSocketOptions = { perMessageDeflate: deflate, proxy: false };
  const tls = clientTlsOf(args);
  if (tls) socket.tls = tls;

  let server: WebSocketServer | null = null;
  let url: string;
  if (local) {
    server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: deflate });
    echoMessages(server);
    const address = await listening(server);
    url = `ws://127.0.0.1:${address.port}/`;
  } else {
    url = checkUrl(args.positionals[0]!);
    // The environment's proxy settings apply to remote targets.
    delete socket.proxy;
  }
  const settings: BenchSettings = {
    url,
    local,
    connections,
    messages,
    size,
    window,
    binary: !args.flag('text'),
    deflate,
    stallMs,
    socket,
  };
  try {
    const result = await runBench(settings, io);
    io.stdout.write(args.flag('json') ? `${JSON.stringify(result)}\n` : `${report(result)}\n`);
    return 0;
  } catch (error) {
    io.stderr.write(
      `wskit: bench: ${error instanceof BenchError ? error.message : describeError(error, url)}\n`,
    );
    return 1;
  } finally {
    if (server) await closeServer(server);
  }
}

/** `wskit bench`. */
export const benchCommand: Command = {
  name: 'bench',
  options: OPTIONS,
  help: HELP,
  run: bench,
};
