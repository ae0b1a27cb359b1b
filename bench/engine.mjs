// Engine micro-benchmarks, as ws's own bench/parser.benchmark.js and sender.benchmark.js measure
// its Receiver and Sender: no sockets, one process, CPU time per message.
//
//   receive: a stream of masked client frames (what a server reads), cut into 64 KiB chunks as a
//            socket delivers them, fed to the wskit engine (server role) and to ws's Receiver
//   send:    frame building and masking (client role) into a sink that drops the bytes, wskit's
//            engine against ws's Sender over a socket stand-in whose write() does nothing
//
// at 64 B, 16 KiB and 1 MiB, binary and text. wskit runs with its Node platform (bufferutil's
// native mask when installed, as it is here) and with the WebAssembly SIMD kernel alone (what it
// uses without bufferutil, and in browsers); ws with bufferutil. Each figure is the median of
// BENCH_REPS (default 5) interleaved runs of about 0.2 s, after one unmeasured run of every case
// of the size and type (the first runs of a case are slower: JIT compilation, heap growth).
//
// Run alone: `node bench/engine.mjs` (after a build), or as part of run.mjs (part `engine`).
// Prints a table; with --json, prints the results as JSON on stdout instead.
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { importWskitModule } from './lib/wskit.mjs';

const require = createRequire(import.meta.url);
const wsDir = path.dirname(require.resolve('ws/package.json'));
const Receiver = require(path.join(wsDir, 'lib', 'receiver.js'));
const Sender = require(path.join(wsDir, 'lib', 'sender.js'));
const { wsUsesBufferutil } = await import('./lib/endpoints.mjs');

const { WebSocketProtocol, wasmMask } = await importWskitModule('protocol/index.js');
const { nodePlatform, bufferutilReady } = await importWskitModule('node/node-platform.js');
const wskitBufferutil = await bufferutilReady;

const QUICK = process.env.BENCH_QUICK === '1';
const REPS = Number.parseInt(process.env.BENCH_REPS ?? '', 10) || (QUICK ? 1 : 5);
const TARGET_NS = QUICK ? 20e6 : 200e6;
const CHUNK = 64 * 1024;
const SIZES = [
  { label: '64 B', size: 64 },
  { label: '16 KiB', size: 16 * 1024 },
  { label: '1 MiB', size: 1024 * 1024 },
];
const TYPES = ['binary', 'text'];

/** One masked client frame carrying `payload`. */
function maskedFrame(payload, text) {
  const n = payload.length;
  const head = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const out = Buffer.allocUnsafe(head + 4 + n);
  out[0] = 0x80 | (text ? 1 : 2);
  if (n < 126) out[1] = 0x80 | n;
  else if (n < 65536) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(n, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeUInt32BE(0, 2);
    out.writeUInt32BE(n, 6);
  }
  const mask = randomBytes(4);
  mask.copy(out, head);
  for (let i = 0; i < n; i++) out[head + 4 + i] = payload[i] ^ mask[i & 3];
  return out;
}

function payloadOf(size, text) {
  return text ? Buffer.alloc(size, 'wskit bench, ascii text. ') : randomBytes(size);
}

/** A stream of frames of about 1 MiB (at least 4 frames), cut into 64 KiB chunks. */
function receiveStream(size, text) {
  const count = Math.max(4, Math.floor((1024 * 1024) / size));
  const frame = maskedFrame(payloadOf(size, text), text);
  const stream = Buffer.concat(Array.from({ length: count }, () => frame));
  const chunks = [];
  for (let i = 0; i < stream.length; i += CHUNK) chunks.push(stream.subarray(i, i + CHUNK));
  return { count, chunks };
}

/** Runs `once` (which handles `perRun` messages) until TARGET_NS; returns CPU ns per message. */
function measure(once, perRun, prepare) {
  let runs = 0;
  let cpu = 0;
  let wall = 0;
  while (wall < TARGET_NS || runs < 3) {
    const input = prepare();
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    once(input);
    wall += Number(process.hrtime.bigint() - t0);
    const c = process.cpuUsage(c0);
    cpu += (c.user + c.system) * 1000;
    runs++;
  }
  return { cpuNs: cpu / (runs * perRun), wallNs: wall / (runs * perRun) };
}

// Both parsers unmask in place, so each run gets fresh copies of the chunks (copied untimed).
const freshChunks = (chunks) => () => chunks.map((c) => Buffer.from(c));

function wskitReceiver(platform, count) {
  let received = 0;
  const sink = {
    write() {},
    writePair() {},
    onMessage() {
      received++;
    },
    onPing() {},
    onPong() {},
    onClose() {},
    onError(error) {
      throw error;
    },
  };
  return (chunks) => {
    const engine = new WebSocketProtocol({ role: 'server', maxPayload: 0, platform }, sink);
    received = 0;
    for (const chunk of chunks) engine.receive(chunk);
    if (received !== count) throw new Error(`wskit received ${received} of ${count}`);
  };
}

function wsReceiver(count) {
  return (chunks) => {
    let received = 0;
    const receiver = new Receiver({ isServer: true, maxPayload: 0, binaryType: 'nodebuffer' });
    receiver.on('message', () => received++);
    receiver.on('error', (error) => {
      throw error;
    });
    for (const chunk of chunks) receiver.write(chunk);
    if (received !== count) throw new Error(`ws received ${received} of ${count}`);
  };
}

const SEND_BATCH = (size) => Math.max(4, Math.floor((1024 * 1024) / size));

function wskitSender(platform, payload, text) {
  const sink = {
    write() {},
    writePair() {},
    onMessage() {},
    onPing() {},
    onPong() {},
    onClose() {},
    onError() {},
  };
  const engine = new WebSocketProtocol({ role: 'client', platform }, sink);
  const data = text ? payload.toString() : payload;
  const n = SEND_BATCH(payload.length);
  return () => {
    for (let i = 0; i < n; i++) {
      if (text) engine.sendText(data);
      else engine.sendBinary(data);
    }
  };
}

function wsSender(payload, text) {
  const socket = { write: () => true, cork() {}, uncork() {} };
  const sender = new Sender(socket);
  const data = text ? payload.toString() : payload;
  const options = { binary: !text, fin: true, mask: true, compress: false };
  const n = SEND_BATCH(payload.length);
  return () => {
    for (let i = 0; i < n; i++) sender.send(data, options);
  };
}

const wasmPlatform = { ...nodePlatform, mask: wasmMask };
const CONTENDERS = [
  { key: 'wskit', label: 'wskit (Node platform)', platform: nodePlatform },
  { key: 'wskit-wasm', label: 'wskit (WebAssembly mask)', platform: wasmPlatform },
  { key: 'ws', label: 'ws + bufferutil' },
];

export async function runEngineBench() {
  const results = [];
  for (const s of SIZES) {
    for (const type of TYPES) {
      const text = type === 'text';
      const { count, chunks } = receiveStream(s.size, text);
      const payload = payloadOf(s.size, text);
      const cases = [];
      for (const c of CONTENDERS) {
        const receive = c.key === 'ws' ? wsReceiver(count) : wskitReceiver(c.platform, count);
        cases.push({ path: 'receive', c, run: receive, per: count, prepare: freshChunks(chunks) });
        const send =
          c.key === 'ws' ? wsSender(payload, text) : wskitSender(c.platform, payload, text);
        cases.push({ path: 'send', c, run: send, per: SEND_BATCH(s.size), prepare: () => null });
      }
      const samples = new Map(cases.map((k) => [k, []]));
      // One unmeasured round first: the first runs of a case are slower (JIT, heap growth).
      for (const k of cases) measure(k.run, k.per, k.prepare);
      for (let rep = 0; rep < REPS; rep++) {
        for (let i = 0; i < cases.length; i++) {
          const k = cases[(i + rep) % cases.length];
          samples.get(k).push(measure(k.run, k.per, k.prepare));
        }
      }
      for (const k of cases) {
        const cpu = median(samples.get(k).map((x) => x.cpuNs));
        const wall = median(samples.get(k).map((x) => x.wallNs));
        results.push({
          path: k.path,
          size: s.size,
          sizeLabel: s.label,
          type,
          contender: k.c.key,
          label: k.c.label,
          cpuNsPerMessage: cpu,
          wallNsPerMessage: wall,
          megabytesPerSecond: (s.size / wall) * 1e3,
        });
      }
    }
  }
  return {
    reps: REPS,
    bufferutil: { ws: wsUsesBufferutil(), wskit: wskitBufferutil },
    results,
  };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const fmt = (n, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** The engine table: CPU µs per message for each contender, and ws / wskit. */
export function formatEngineBench(report) {
  const lines = [
    `Engine micro-benchmarks (no sockets; CPU µs per message, median of ${report.reps}; ` +
      `bufferutil used by ws: ${report.bufferutil.ws}, by wskit's Node platform: ` +
      `${report.bufferutil.wskit})`,
  ];
  const header = [
    'path',
    'size',
    'type',
    ...CONTENDERS.map((c) => c.label),
    'ws / wskit',
    'ws / wskit (wasm)',
  ];
  const rows = [];
  for (const pathName of ['receive', 'send']) {
    for (const s of SIZES) {
      for (const type of TYPES) {
        const find = (key) =>
          report.results.find(
            (r) =>
              r.path === pathName && r.size === s.size && r.type === type && r.contender === key,
          );
        const us = (r) => (r ? r.cpuNsPerMessage / 1000 : null);
        const cells = CONTENDERS.map((c) => us(find(c.key)));
        const ws = us(find('ws'));
        rows.push([
          pathName,
          s.label,
          type,
          ...cells.map((x) => (x === null ? '-' : fmt(x, x < 10 ? 2 : x < 100 ? 1 : 0))),
          ws && cells[0] ? `${fmt(ws / cells[0], 2)}×` : '-',
          ws && cells[1] ? `${fmt(ws / cells[1], 2)}×` : '-',
        ]);
      }
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) =>
    cells
      .map((c, i) => (i < 3 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i])))
      .join('  ');
  lines.push(line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line));
  lines.push('ws / wskit: above 1, wskit needs less CPU per message.');
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const report = await runEngineBench();
  if (process.argv.includes('--json')) console.log(JSON.stringify(report, null, 2));
  else console.log(formatEngineBench(report));
}
