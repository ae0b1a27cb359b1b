// wskit benchmark: pipelined echo throughput against `ws` and raw TCP, the same with
// permessage-deflate, memory per idle connection, and memory after compressed traffic. Run with
// `npm run bench` (builds first) or `node bench/run.mjs` after a build.
// Publish/subscribe (topics, wskit/redis against Socket.IO and ws) is measured by bench/pubsub.mjs.
//
//   BENCH_REPS=n     repetitions (default 5; the median is reported), after one unmeasured
//                    warm-up round of the echo benchmarks (see Warm-up below)
//   BENCH_QUICK=1    tiny counts and one repetition (warm-up round kept): a smoke run
//   BENCH_SCALE=x    multiplies every message count of the echo benchmarks (e.g. 3 on an idle,
//                    fast machine)
//   BENCH_CONNS=n    connections in the idle-connection memory test (default 1000)
//   BENCH_DEFLATE_CONNS=n, BENCH_DEFLATE_MESSAGES=n
//                    connections, and messages per connection, of the memory test under
//                    compressed traffic (default 100 x 1000)
//   BENCH_SPLIT=1    echo client and server in separate processes (see below)
//   BENCH_ONLY=part[,part...]
//                    only these parts: echo, deflate (compressed echo), memory (idle
//                    connections), deflate-memory (memory after compressed traffic), hostile
//                    (attacks of test/hostile/ against wskit and ws: bench/hostile.ts)
//
// Process placement. By default the client and the server of each pairing (raw TCP included)
// run together in one child process per pairing, started once and reused by every repetition;
// this process only gives orders and collects results, and is idle while a measurement runs.
// One process per pairing means a measurement needs a single core and involves no cross-process
// wake-ups, so msg/s is (client + server) cost per round trip on one core, and CPU time per
// message is measured exactly. With client and server in two processes on a two-core machine
// (BENCH_SPLIT=1, available for comparison), throughput swings by 2x from run to run depending on
// whether the two processes fall into a batching rhythm or wake each other for every message,
// which says more about the scheduler than about the libraries; in that mode the server's CPU
// time is measured over the whole measurement (warm-up included) and added per message.
// Warm-up. The first rounds in a fresh child are slower for every library, raw TCP included (JIT
// compilation, heap and socket-buffer growth): measured on this VM, one case repeated in a fresh
// child reached its steady CPU time per message after about 30,000 messages at 64 B, 15,000-20,000
// at 16 KiB (both libraries) and several hundred at 1 MiB, 2-3x slower before. A measurement of
// 0.1 s (the counts of earlier versions at 16 KiB and 1 MiB) mostly measured that warm-up and
// swung by 50% between runs. So each echo benchmark starts with one unmeasured
// round (WARMUP_ROUNDS) of every case in every child, in the same interleaved order, with half the
// measured count (WARMUP_ROUND_SHARE) plus the usual in-connection warm-up; its results are
// discarded and the median is taken over the BENCH_REPS measured repetitions. Every pairing gets
// the same warm-up. Each measurement also starts with an untimed ~10% of its own messages.
// The memory tests run their server and their clients in two fresh child processes per library
// (with --expose-gc), so each side's memory is measured on its own.
//
// wskit is imported from a copy of dist/esm taken at start (lib/wskit.mjs), so that a build
// running meanwhile in the same checkout cannot pull it away from under the children.
//
// Exit status: 0 whatever the speed; 1 only if something is broken (an echo that does not match,
// a child that crashes, a connection that fails or hangs, and in the compressed parts an end that
// did not agree to permessage-deflate or messages that did not travel compressed); 2 for an
// unknown BENCH_ONLY part.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { formatEngineBench } from './engine.mjs';
import { Child } from './lib/child.mjs';
import { DEFLATE } from './lib/endpoints.mjs';
import { snapshotWskit } from './lib/wskit.mjs';

const env = process.env;
const QUICK = env.BENCH_QUICK === '1';
const REPS = positiveInt(env.BENCH_REPS, QUICK ? 1 : 5);
// Unmeasured rounds of every echo case before the measured repetitions, each with this share of
// the measured message count (see the header).
const WARMUP_ROUNDS = 1;
const WARMUP_ROUND_SHARE = 0.5;
const SCALE = Number(env.BENCH_SCALE ?? 1) * (QUICK ? 0.01 : 1);
const CONNS = positiveInt(env.BENCH_CONNS, QUICK ? 50 : 1000);
const DEFLATE_CONNS = positiveInt(env.BENCH_DEFLATE_CONNS, QUICK ? 10 : 100);
// 100 x 1,000 takes about 100 s per library on a two-core VM (every echo is two deflates and two
// inflates); BENCH_DEFLATE_MESSAGES lowers it for a shorter run.
const DEFLATE_MESSAGES_DEFAULT = 1000;
const DEFLATE_MESSAGES = positiveInt(
  env.BENCH_DEFLATE_MESSAGES,
  QUICK ? 20 : DEFLATE_MESSAGES_DEFAULT,
);
const SPLIT = env.BENCH_SPLIT === '1';
const PROGRESS = process.stderr.isTTY;
const PARTS = ['echo', 'engine', 'deflate', 'memory', 'scale', 'deflate-memory', 'hostile'];
const ONLY = (env.BENCH_ONLY ?? '')
  .split(',')
  .map((part) => part.trim())
  .filter(Boolean);
const unknownParts = ONLY.filter((part) => !PARTS.includes(part));
if (unknownParts.length > 0) {
  console.error(`BENCH_ONLY: unknown part(s) ${unknownParts.join(', ')}; use ${PARTS.join(', ')}`);
  process.exit(2);
}
const wanted = (part) => ONLY.length === 0 || ONLY.includes(part);
const MEASUREMENT_TIMEOUT_MS = 120_000;

// Window: messages in flight. Count: echoes timed: 0.3-2.8 s per measurement at 16 KiB and 1 MiB
// on a slow two-core VM, 0.06-0.6 s at 64 B (the echo part takes about 150 s there); raise
// BENCH_SCALE on a fast machine.
const SIZES = [
  { label: '64 B', size: 64, window: 64, count: 30_000 },
  { label: '16 KiB', size: 16 * 1024, window: 16, count: 16_000 },
  { label: '1 MiB', size: 1024 * 1024, window: 4, count: 240 },
];
const TYPES = ['binary', 'text'];
// `ws` runs with its optional native addon `bufferutil` (a dev dependency here), as production
// deployments install it, and as installed by default without it (WS_NO_BUFFER_UTIL=1 in its
// child process, which ws honours). Each child reports which one ws really used, and a pairing
// whose ws did not run as labelled fails.
const NO_BUFFERUTIL = { WS_NO_BUFFER_UTIL: '1' };
const PAIRINGS = [
  { key: 'wskit-wskit', label: 'wskit ↔ wskit', client: 'wskit', server: 'wskit' },
  {
    key: 'wsb-wsb',
    label: 'ws+bufferutil ↔ ws+bufferutil',
    client: 'ws',
    server: 'ws',
    bufferutil: true,
  },
  {
    key: 'ws-ws',
    label: 'ws ↔ ws (no bufferutil)',
    client: 'ws',
    server: 'ws',
    bufferutil: false,
    env: NO_BUFFERUTIL,
  },
  {
    key: 'wskit-wsb',
    label: 'wskit client → ws+bufferutil server',
    client: 'wskit',
    server: 'ws',
    bufferutil: true,
  },
  {
    key: 'wsb-wskit',
    label: 'ws+bufferutil client → wskit server',
    client: 'ws',
    server: 'wskit',
    bufferutil: true,
  },
  { key: 'tcp', label: 'raw TCP (ceiling)', client: 'tcp', server: 'tcp' },
];
/** The ws configurations wskit ↔ wskit is compared with in the ratio tables. */
const RATIO_BASES = [
  { key: 'wsb-wsb', label: 'ws+bufferutil' },
  { key: 'ws-ws', label: 'ws (no bufferutil)' },
];
const MEMORY_KINDS = ['wskit', 'ws', 'tcp'];

// Compressed echo: realistic compressible text (lib/payloads.mjs), both ends with
// permessage-deflate (lib/endpoints.mjs: DEFLATE). Counts for about 0.3-1 s per measurement on
// the slow two-core VM, where zlib's level 6 deflates about 30 MB/s.
const DEFLATE_SIZES = [
  { label: '16 KiB', size: 16 * 1024, type: 'json', window: 16, count: 600 },
  { label: '1 MiB', size: 1024 * 1024, type: 'log', window: 4, count: 10 },
];
// Compressed: zlib dominates, so ws runs only with bufferutil (its production configuration).
const DEFLATE_PAIRINGS = PAIRINGS.filter((p) => p.key !== 'tcp' && p.key !== 'ws-ws');
/** Below this payload / wire bytes ratio, messages did not travel compressed (payloads: ~5-7). */
const MIN_WIRE_RATIO = 2;
// Memory after compressed traffic: every client keeps this many messages in flight.
const DEFLATE_MEMORY = { size: 16 * 1024, type: 'json', window: 4, timeoutMs: 300_000 };
const DEFLATE_MEMORY_KINDS = ['wskit', 'ws'];

function positiveInt(text, fallback) {
  const n = Number.parseInt(text ?? '', 10);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const errors = [];
function recordError(where, error) {
  const message = `${where}: ${error?.message ?? error}`;
  errors.push(message);
  console.error(`ERROR ${message}`);
}

// -- echo ---------------------------------------------------------------------------------------

/** The plain echo benchmark and the compressed one: their cases, pairings and ends. */
const ECHO_SUITES = {
  echo: {
    name: 'echo',
    deflate: false,
    pairings: PAIRINGS,
    cases: () => echoCases(SIZES, TYPES),
  },
  deflate: {
    name: 'compressed echo',
    deflate: true,
    pairings: DEFLATE_PAIRINGS,
    cases: () => echoCases(DEFLATE_SIZES),
  },
};

/** Each size with each of `types` (or with its own `type`), counts scaled and warm-up added. */
function echoCases(sizes, types) {
  const cases = [];
  for (const s of sizes) {
    const count = Math.max(4, Math.round(s.count * SCALE));
    // QUICK: one window of warm-up is enough for a smoke run.
    const warmup = QUICK ? s.window : Math.max(2 * s.window, Math.round(count / 10));
    for (const type of types ?? [s.type]) cases.push({ ...s, count, warmup, type });
  }
  return cases;
}

/** Whether wskit used bufferutil, as each echo child that ran wskit reported it. */
const wskitMasks = new Set();

/** Starts the echo children of `suite`; returns { endsOf(pairing) => { client, server }, stop }. */
async function startEchoChildren(suite) {
  const children = [];
  const extra = suite.deflate ? ['deflate'] : [];
  const start = async (p, ...args) => {
    const child = await Child.start(
      `echo ${args.join(' ')}${p.env ? ' (no bufferutil)' : ''}`,
      'echo-child.mjs',
      [...args, ...extra],
      [],
      p.env ?? {},
    );
    children.push(child);
    if (p.client === 'wskit' || p.server === 'wskit') wskitMasks.add(child.ready.wskitBufferutil);
    const usesWs = p.client === 'ws' || p.server === 'ws';
    if (usesWs && child.ready.bufferutil !== p.bufferutil)
      throw new Error(
        `${p.label}: ws ${child.ready.bufferutil ? 'uses' : 'does not use'} bufferutil in its child`,
      );
    return child;
  };
  const stop = () => Promise.all(children.map((c) => c.stop()));
  const ends = new Map();
  try {
    for (const p of suite.pairings) {
      if (SPLIT) {
        const variant = p.env ? ' plain' : '';
        const serverKey = `server ${p.server}${variant}`;
        const clientKey = `client ${p.client}${variant}`;
        const server = ends.get(serverKey) ?? (await start(p, 'server', p.server));
        const client = ends.get(clientKey) ?? (await start(p, 'client', p.client));
        ends.set(serverKey, server).set(clientKey, client);
        ends.set(p.key, { client, server });
      } else {
        const child = await start(p, 'pair', p.client, p.server);
        ends.set(p.key, { client: child, server: child });
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { endsOf: (p) => ends.get(p.key), stop };
}

const cpuMicros = (cpu) => cpu.user + cpu.system;

/**
 * One measurement; returns { seconds, cpuPerMessage (µs, client + server) }, and with `deflate`
 * also the extensions each end agreed to and the wire ratios (payload bytes / bytes on the wire,
 * each way, handshake and frame headers included). Throws, failing the measurement, when
 * permessage-deflate was not agreed by both ends or the messages did not travel compressed.
 */
async function measureEcho({ client, server }, c, deflate) {
  const serverBefore = SPLIT ? (await server.request({ cmd: 'cpu' })).cpu : null;
  const result = await client.request({
    cmd: 'echo',
    ...(SPLIT ? { port: server.ready.port } : {}),
    size: c.size,
    type: c.type,
    window: c.window,
    warmup: c.warmup,
    count: c.count,
    timeoutMs: MEASUREMENT_TIMEOUT_MS,
  });
  let cpuPerMessage = cpuMicros(result.cpu) / c.count;
  if (SPLIT) {
    const serverAfter = (await server.request({ cmd: 'cpu' })).cpu;
    cpuPerMessage += (cpuMicros(serverAfter) - cpuMicros(serverBefore)) / (c.warmup + c.count);
  }
  if (!deflate) return { seconds: result.seconds, cpuPerMessage };

  const { connection } = await server.request({ cmd: 'connection' });
  const agreed = (extensions) => /^permessage-deflate(;|$)/.test(extensions ?? '');
  if (!agreed(result.extensions))
    throw new Error(`the client sees extensions "${result.extensions}", not permessage-deflate`);
  if (!connection || !agreed(connection.extensions))
    throw new Error(`the server agreed to "${connection?.extensions}", not permessage-deflate`);
  const payload = (c.warmup + c.count) * c.size;
  const wire = { clientToServer: connection.bytesRead, serverToClient: connection.bytesWritten };
  const wireRatio = {};
  for (const [way, bytes] of Object.entries(wire)) {
    wireRatio[way] = payload / bytes;
    if (!(wireRatio[way] >= MIN_WIRE_RATIO))
      throw new Error(
        `permessage-deflate agreed, but ${bytes} bytes went ${way} for ${payload} bytes of ` +
          `messages (ratio ${wireRatio[way].toFixed(2)}): they were not compressed`,
      );
  }
  return {
    seconds: result.seconds,
    cpuPerMessage,
    extensions: { client: result.extensions, server: connection.extensions },
    wireRatio,
  };
}

async function runEcho(suite) {
  const cases = suite.cases();
  const pairings = suite.pairings;
  const { endsOf, stop } = await startEchoChildren(suite);
  try {
    const runs = new Map(); // `${size}|${type}|${pairing}` -> [{ rep, seconds, cpuPerMessage }]
    const total = (WARMUP_ROUNDS + REPS) * cases.length * pairings.length;
    let done = 0;
    // Rounds below 0 are the warm-up: the same measurements, in the same order, discarded.
    for (let rep = -WARMUP_ROUNDS; rep < REPS; rep++) {
      const warmup = rep < 0;
      const round = warmup ? `warm-up ${rep + WARMUP_ROUNDS + 1}` : `rep ${rep + 1}`;
      if (!PROGRESS)
        console.error(
          `${suite.name}: ${warmup ? `${round} (not measured)` : `repetition ${rep + 1} of ${REPS}`}`,
        );
      for (const c of cases) {
        // Interleaved, and the pairing order rotates with each repetition, so that drift and
        // position effects fall on every pairing alike.
        for (let k = 0; k < pairings.length; k++) {
          const p = pairings[(k + rep + pairings.length * WARMUP_ROUNDS) % pairings.length];
          const where = `${suite.name} ${c.label} ${c.type}, ${p.label} (${round})`;
          done++;
          if (PROGRESS) process.stderr.write(`\r[${done}/${total}] ${where}`.padEnd(72));
          const key = `${c.size}|${c.type}|${p.key}`;
          if (!runs.has(key)) runs.set(key, []);
          const ends = endsOf(p);
          try {
            const job = warmup
              ? { ...c, count: Math.max(4, Math.round(c.count * WARMUP_ROUND_SHARE)) }
              : c;
            const measured = await measureEcho(ends, job, suite.deflate);
            if (!warmup) runs.get(key).push({ rep: rep + 1, ...measured });
          } catch (error) {
            recordError(where, error);
            // Let the aborted connection's errors (e.g. EPIPE on the server) arrive, so they
            // are reported with this measurement rather than the next.
            await sleep(200);
          }
          for (const child of new Set([ends.client, ends.server])) {
            while (child.errors.length > 0) recordError(where, child.errors.shift());
            if (child.exited) throw new Error(`${child.name} crashed during ${where}`);
          }
        }
      }
    }
    if (PROGRESS) process.stderr.write(`\r${' '.repeat(72)}\r`);
    return summarizeEcho(cases, runs, pairings);
  } finally {
    await stop();
  }
}

function summarizeEcho(cases, runs, pairings) {
  const results = [];
  for (const c of cases) {
    for (const p of pairings) {
      const reps = (runs.get(`${c.size}|${c.type}|${p.key}`) ?? []).map((r) => ({
        ...r,
        messagesPerSecond: c.count / r.seconds,
        megabytesPerSecond: (c.count * c.size) / r.seconds / 1e6,
      }));
      const rates = reps.map((r) => r.messagesPerSecond);
      const rate = reps.length > 0 ? median(rates) : null;
      results.push({
        size: c.size,
        sizeLabel: c.label,
        type: c.type,
        pairing: p.key,
        pairingLabel: p.label,
        client: p.client,
        server: p.server,
        window: c.window,
        warmupMessages: c.warmup,
        messages: c.count,
        reps,
        median:
          rate === null
            ? null
            : {
                messagesPerSecond: rate,
                megabytesPerSecond: (rate * c.size) / 1e6,
                cpuMicrosPerMessage: median(reps.map((r) => r.cpuPerMessage)),
                ...(reps[0].wireRatio
                  ? {
                      wireRatio: {
                        clientToServer: median(reps.map((r) => r.wireRatio.clientToServer)),
                        serverToClient: median(reps.map((r) => r.wireRatio.serverToClient)),
                      },
                    }
                  : {}),
              },
        spread: rate === null ? null : (Math.max(...rates) - Math.min(...rates)) / rate,
      });
    }
  }
  const ratios = cases.flatMap((c) => {
    const find = (key) =>
      results.find((r) => r.size === c.size && r.type === c.type && r.pairing === key)?.median;
    const wskit = find('wskit-wskit');
    return RATIO_BASES.filter((b) => pairings.some((p) => p.key === b.key)).map((b) => {
      const ws = find(b.key);
      return {
        size: c.size,
        sizeLabel: c.label,
        type: c.type,
        against: b.key,
        againstLabel: b.label,
        // Both above 1 when wskit is better: msg/s wskit / ws, and CPU per message ws / wskit.
        throughput: wskit && ws ? wskit.messagesPerSecond / ws.messagesPerSecond : null,
        cpuEfficiency: wskit && ws ? ws.cpuMicrosPerMessage / wskit.cpuMicrosPerMessage : null,
      };
    });
  });
  return { results, ratios };
}

// -- memory -------------------------------------------------------------------------------------

async function memoryOnce(kind, count) {
  const execArgv = ['--expose-gc'];
  const server = await Child.start(
    `${kind} memory server`,
    'memory.mjs',
    ['server', kind],
    execArgv,
  );
  let client = null;
  try {
    client = await Child.start(
      `${kind} memory client`,
      'memory.mjs',
      ['client', kind, String(server.ready.port)],
      execArgv,
    );
    await client.request({ cmd: 'warmup' });
    const [serverBefore, clientBefore] = await Promise.all([
      server.request({ cmd: 'baseline' }),
      client.request({ cmd: 'baseline' }),
    ]);
    await client.request({ cmd: 'open', count });
    const [serverAfter, clientAfter] = await Promise.all([
      server.request({ cmd: 'measure', count }),
      client.request({ cmd: 'measure', count }),
    ]);
    const perConnection = (before, after) => {
      const kib = (field) => (after.memory[field] - before.memory[field]) / count / 1024;
      return {
        heapPlusExternal: kib('heapUsed') + kib('external'),
        heapUsed: kib('heapUsed'),
        external: kib('external'),
        arrayBuffers: kib('arrayBuffers'),
        rss: kib('rss'),
        before: before.memory,
        after: after.memory,
      };
    };
    for (const child of [server, client])
      while (child.errors.length > 0) recordError(`memory ${kind}`, child.errors.shift());
    return {
      server: perConnection(serverBefore, serverAfter),
      client: perConnection(clientBefore, clientAfter),
    };
  } finally {
    await client?.stop();
    await server.stop();
  }
}

async function runMemory() {
  const runs = Object.fromEntries(MEMORY_KINDS.map((k) => [k, []]));
  for (let rep = 0; rep < REPS; rep++) {
    for (const kind of MEMORY_KINDS) {
      const what = `memory: ${CONNS} idle ${kind} connections (rep ${rep + 1})`;
      if (PROGRESS) process.stderr.write(`\r${what}`.padEnd(72));
      else console.error(what);
      try {
        runs[kind].push(await memoryOnce(kind, CONNS));
      } catch (error) {
        recordError(`memory ${kind} (rep ${rep + 1})`, error);
      }
    }
  }
  if (PROGRESS) process.stderr.write(`\r${' '.repeat(72)}\r`);
  const fields = ['heapPlusExternal', 'heapUsed', 'external', 'arrayBuffers', 'rss'];
  return MEMORY_KINDS.map((kind) => {
    const side = (name) =>
      runs[kind].length === 0
        ? null
        : Object.fromEntries(fields.map((f) => [f, median(runs[kind].map((r) => r[name][f]))]));
    return {
      kind,
      connections: CONNS,
      server: side('server'),
      client: side('client'),
      reps: runs[kind],
    };
  });
}

// -- engine micro-benchmarks --------------------------------------------------------------------

/** bench/engine.mjs in a child process of its own (JSON on its stdout). */
function runEngine() {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [fileURLToPath(new URL('engine.mjs', import.meta.url)), '--json'],
      { maxBuffer: 16 * 1024 * 1024, timeout: 600_000 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`engine.mjs: ${error.message}\n${stderr}`));
        else resolve(JSON.parse(stdout));
      },
    );
  });
}

// -- hostile: test/hostile/'s attacks against wskit and ws (bench/hostile.ts, through tsx) ------

function runHostile() {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('hostile.ts', import.meta.url)), '--json'],
      {
        cwd: fileURLToPath(new URL('..', import.meta.url)),
        maxBuffer: 16 * 1024 * 1024,
        timeout: 300_000,
      },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`hostile.ts: ${error.message}\n${stderr}`));
        const result = JSON.parse(stdout);
        for (const e of result.errors) recordError('hostile', e);
        resolve(result);
      },
    );
  });
}

// -- scale: 10,000 connections to one server process -------------------------------------------

const SCALE_CONNS = positiveInt(env.BENCH_SCALE_CONNS, QUICK ? 500 : 10_000);
const SCALE_KINDS = ['wskit', 'ws'];
const BROADCAST_SIZES = [64, 16 * 1024];
const BROADCAST_REPS = QUICK ? 1 : 5;
/** Open files each side needs: its sockets and some to spare. */
const SCALE_FILE_LIMIT = Math.min(20_000, SCALE_CONNS + 1000);

async function scaleOnce(kind) {
  const server = await Child.start(
    `${kind} scale server`,
    'scale.mjs',
    ['server', kind],
    ['--expose-gc'],
    {},
    SCALE_FILE_LIMIT,
  );
  let client = null;
  try {
    client = await Child.start(
      `${kind} scale clients`,
      'scale.mjs',
      ['client', kind, String(server.ready.port)],
      ['--expose-gc'],
      {},
      SCALE_FILE_LIMIT,
    );
    const before = await server.request({ cmd: 'baseline' });
    const [opened, accepted] = await Promise.all([
      client.request({ cmd: 'open', count: SCALE_CONNS }),
      server.request({ cmd: 'wait', count: SCALE_CONNS }),
    ]);
    const kib = (field) => (accepted.memory[field] - before.memory[field]) / SCALE_CONNS / 1024;
    const broadcasts = [];
    for (const size of BROADCAST_SIZES) {
      const runs = [];
      for (let rep = 0; rep < BROADCAST_REPS; rep++) {
        const arrived = client.request({ cmd: 'expect', count: SCALE_CONNS });
        const sent = await server.request({ cmd: 'broadcast', size });
        const { lastArrival } = await arrived;
        runs.push({ ...sent, allArrivedMs: lastArrival - sent.start });
      }
      broadcasts.push({
        size,
        syncMs: median(runs.map((r) => r.syncMs)),
        cpuMs: median(runs.map((r) => r.cpuMicros)) / 1000,
        allArrivedMs: median(runs.map((r) => r.allArrivedMs)),
        runs,
      });
    }
    for (const child of [server, client])
      while (child.errors.length > 0) recordError(`scale ${kind}`, child.errors.shift());
    return {
      kind,
      connections: SCALE_CONNS,
      openMs: opened.openMs,
      acceptMs: accepted.acceptMs,
      serverPerConnectionKiB: {
        heapPlusExternal: kib('heapUsed') + kib('external'),
        heapUsed: kib('heapUsed'),
        external: kib('external'),
        rss: kib('rss'),
      },
      broadcasts,
    };
  } finally {
    await client?.stop();
    await server.stop();
  }
}

async function runScale() {
  const results = [];
  for (const kind of SCALE_KINDS) {
    const what = `scale: ${SCALE_CONNS} ${kind} connections`;
    if (PROGRESS) process.stderr.write(`\r${what}`.padEnd(72));
    else console.error(what);
    try {
      results.push(await scaleOnce(kind));
    } catch (error) {
      recordError(`scale ${kind}`, error);
      results.push({ kind, failed: true });
    }
  }
  if (PROGRESS) process.stderr.write(`\r${' '.repeat(72)}\r`);
  return results;
}

function printScale(results) {
  const first = results.find((r) => !r.failed);
  console.log(
    `\nScale: ${first?.connections ?? SCALE_CONNS} connections to one server process (ws clients ` +
      'in a second process; file limit raised for the benchmark processes only)',
  );
  const rows = results.map((r) =>
    r.failed
      ? [r.kind, 'FAILED', '-', '-', '-', ...BROADCAST_SIZES.flatMap(() => ['-', '-', '-'])]
      : [
          r.kind,
          fmt(r.openMs / 1000, 2),
          fmt(r.acceptMs / 1000, 2),
          fmt(r.serverPerConnectionKiB.heapPlusExternal, 2),
          fmt(r.serverPerConnectionKiB.rss, 1),
          ...r.broadcasts.flatMap((b) => [
            fmt(b.syncMs, 1),
            fmt(b.cpuMs, 1),
            fmt(b.allArrivedMs, 1),
          ]),
        ],
  );
  console.log(
    table(
      [
        'server',
        'open s',
        'accept s',
        'KiB/conn heap+ext',
        'KiB/conn rss',
        ...BROADCAST_SIZES.flatMap((size) => {
          const label = size >= 1024 ? `${size / 1024} KiB` : `${size} B`;
          return [`${label} call ms`, `${label} CPU ms`, `${label} all in ms`];
        }),
      ],
      rows,
      ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
  );
  console.log(
    [
      'open s: the clients opening every connection (250 at a time); accept s: first to last',
      'connection accepted by the server. KiB/conn: server memory per connection after GC.',
      'Broadcast of one binary message to every client, median of the repetitions: wskit',
      '`server.broadcast(data)` (one frame encoded once), ws `for (const c of wss.clients)',
      'c.send(data)`; call ms: the synchronous call, CPU ms: its CPU time, all in ms: until the last',
      'client had it.',
    ].join('\n'),
  );
}

// -- memory after compressed traffic -------------------------------------------------------------

async function deflateMemoryOnce(kind) {
  const execArgv = ['--expose-gc'];
  const server = await Child.start(
    `${kind} deflate memory server`,
    'deflate-memory.mjs',
    ['server', kind],
    execArgv,
  );
  let client = null;
  try {
    client = await Child.start(
      `${kind} deflate memory clients`,
      'deflate-memory.mjs',
      ['client', kind, String(server.ready.port)],
      execArgv,
    );
    const { size, window, timeoutMs } = DEFLATE_MEMORY;
    await client.request({ cmd: 'warmup', size, window });
    const [serverBefore, clientBefore] = await Promise.all([
      server.request({ cmd: 'baseline' }),
      client.request({ cmd: 'baseline' }),
    ]);
    const run = await client.request({
      cmd: 'run',
      connections: DEFLATE_CONNS,
      messages: DEFLATE_MESSAGES,
      window,
      timeoutMs,
    });
    const [serverAfter, clientAfter] = await Promise.all([
      server.request({ cmd: 'measure', connections: DEFLATE_CONNS }),
      client.request({ cmd: 'measure', connections: DEFLATE_CONNS }),
    ]);
    for (const child of [server, client])
      while (child.errors.length > 0) recordError(`deflate memory ${kind}`, child.errors.shift());
    const side = (before, after) => ({
      ...after.memory,
      cpuSeconds: cpuMicros(after.cpu) / 1e6,
      baseline: before.memory,
    });
    return {
      kind,
      connections: DEFLATE_CONNS,
      messagesPerConnection: DEFLATE_MESSAGES,
      size,
      type: DEFLATE_MEMORY.type,
      window,
      connectSeconds: run.connectSeconds,
      seconds: run.seconds,
      messagesPerSecond: (DEFLATE_CONNS * DEFLATE_MESSAGES) / run.seconds,
      server: side(serverBefore, serverAfter),
      client: side(clientBefore, clientAfter),
    };
  } finally {
    await client?.stop();
    await server.stop();
  }
}

async function runDeflateMemory() {
  const results = [];
  for (const kind of DEFLATE_MEMORY_KINDS) {
    const what =
      `memory: ${DEFLATE_CONNS} ${kind} connections x ${DEFLATE_MESSAGES} compressed ` +
      `${DEFLATE_MEMORY.size / 1024} KiB messages`;
    if (PROGRESS) process.stderr.write(`\r${what}`.padEnd(72));
    else console.error(what);
    try {
      results.push(await deflateMemoryOnce(kind));
    } catch (error) {
      recordError(`deflate memory ${kind}`, error);
      results.push({ kind, failed: true });
    }
  }
  if (PROGRESS) process.stderr.write(`\r${' '.repeat(72)}\r`);
  return results;
}

// -- output -------------------------------------------------------------------------------------

const fmtInt = (n) => Math.round(n).toLocaleString('en-US');
const fmt = (n, digits = 1) =>
  n === null || n === undefined
    ? '-'
    : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function table(headers, rows, align) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) =>
    cells
      .map((cell, i) =>
        align[i] === 'r' ? String(cell).padStart(widths[i]) : String(cell).padEnd(widths[i]),
      )
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function printReport(report) {
  const { echo, deflate, memory, deflateMemory, engine } = report;
  const scale = report.scaleConnections;
  const load = (l) => l.map((x) => x.toFixed(1)).join(' ');
  console.log(
    `\nwskit ${report.versions.wskit} vs ws ${report.versions.ws} ` +
      `(bufferutil ${report.versions.bufferutil}) · node ${report.node} · ` +
      `${report.cpu.model} × ${report.cpu.cores} · ` +
      `${report.reps} rep(s) after ${report.warmupRounds} warm-up round(s), median` +
      (report.quick ? ' · QUICK: smoke run, the numbers mean nothing' : ''),
  );
  console.log(
    `load average (1/5/15 min) at start ${load(report.loadAverage.start)}, ` +
      `at end ${load(report.loadAverage.end)}`,
  );
  if (report.loadAverage.start[0] > report.cpu.cores - 1)
    console.log(
      'WARNING: the machine was busy before the run; msg/s is unreliable, CPU µs/msg less so',
    );

  if (echo.results.length > 0) printEcho(report);
  if (engine) console.log(`\n${formatEngineBench(engine)}`);
  if (deflate.results.length > 0) printDeflate(report);
  if (memory.length > 0) printMemory(report);
  if (scale) printScale(scale);
  if (deflateMemory.length > 0) printDeflateMemory(report);
  if (report.hostile) console.log(`\n${report.hostile.table}`);
  console.log(
    [
      '',
      'msg/s: echoes per second (median of the reps). MB/s: payload bytes echoed per second, one',
      'way (1 MB = 10^6 B; uncompressed bytes when compressed). CPU µs/msg: user + system CPU time',
      "of client and server per echo (all threads, so zlib's thread pool too). of TCP: msg/s",
      'relative to raw TCP moving the same bytes. spread: (max - min) / median of msg/s over the',
      'reps. Ratios: msg/s wskit / ws, and CPU µs/msg ws / wskit. wire c→s / s→c: payload bytes /',
      'bytes on the TCP connection, client to server and back (how much permessage-deflate saved).',
      'heap+external = heapUsed + external (external already includes arrayBuffers); rss is noisy.',
    ].join('\n'),
  );
}

function printEcho(report) {
  const { echo } = report;
  const masks = report.wskitBufferutil;
  console.log(
    `\nEcho round trips, pipelined (${report.processPlacement}; wskit masks with ` +
      `${masks.length === 1 ? (masks[0] ? 'bufferutil' : 'WebAssembly SIMD') : 'mixed kernels'})`,
  );
  const rows = [];
  for (const r of echo.results) {
    const tcp = echo.results.find(
      (x) => x.size === r.size && x.type === r.type && x.pairing === 'tcp',
    )?.median;
    const m = r.median;
    rows.push([
      r.sizeLabel,
      r.type,
      r.pairingLabel,
      r.window,
      fmtInt(r.messages),
      m ? fmtInt(m.messagesPerSecond) : 'FAILED',
      m ? fmt(m.megabytesPerSecond) : '-',
      m ? fmt(m.cpuMicrosPerMessage, m.cpuMicrosPerMessage < 100 ? 1 : 0) : '-',
      m && tcp ? `${Math.round((100 * m.messagesPerSecond) / tcp.messagesPerSecond)}%` : '-',
      r.spread === null ? '-' : `${fmt(100 * r.spread, 0)}%`,
    ]);
  }
  console.log(
    table(
      [
        'size',
        'type',
        'pairing',
        'window',
        'messages',
        'msg/s',
        'MB/s',
        'CPU µs/msg',
        'of TCP',
        'spread',
      ],
      rows,
      ['l', 'l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
  );

  const times = (x) => (x ? `${fmt(x, 2)}×` : '-');
  for (const base of RATIO_BASES) {
    console.log(`\nwskit ↔ wskit vs ${base.label} ↔ same (above 1: wskit is better)`);
    const ratioOf = (size, type) =>
      echo.ratios.find((x) => x.size === size && x.type === type && x.against === base.key);
    console.log(
      table(
        ['size', ...TYPES.flatMap((t) => [`${t} msg/s`, `${t} CPU`])],
        SIZES.map((s) => [
          s.label,
          ...TYPES.flatMap((t) => [
            times(ratioOf(s.size, t)?.throughput),
            times(ratioOf(s.size, t)?.cpuEfficiency),
          ]),
        ]),
        ['l', 'r', 'r', 'r', 'r'],
      ),
    );
  }
}

function printDeflate(report) {
  const { deflate } = report;
  const d = report.deflateSettings;
  console.log(
    `\nCompressed echo round trips, pipelined (${report.processPlacement}; permessage-deflate on ` +
      `both ends: level ${d.level}, memLevel ${d.memLevel}, threshold ${d.threshold} B, ` +
      'context takeover, 15-bit windows)',
  );
  const rows = deflate.results.map((r) => {
    const m = r.median;
    const wire = m?.wireRatio;
    return [
      r.sizeLabel,
      r.type,
      r.pairingLabel,
      r.window,
      fmtInt(r.messages),
      m ? fmtInt(m.messagesPerSecond) : 'FAILED',
      m ? fmt(m.megabytesPerSecond) : '-',
      m ? fmt(m.cpuMicrosPerMessage, m.cpuMicrosPerMessage < 100 ? 1 : 0) : '-',
      wire ? `${fmt(wire.clientToServer, 2)} / ${fmt(wire.serverToClient, 2)}` : '-',
      r.spread === null ? '-' : `${fmt(100 * r.spread, 0)}%`,
    ];
  });
  console.log(
    table(
      [
        'size',
        'payload',
        'pairing',
        'window',
        'messages',
        'msg/s',
        'MB/s',
        'CPU µs/msg',
        'wire c→s / s→c',
        'spread',
      ],
      rows,
      ['l', 'l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
  );
  console.log('\ncompressed: wskit ↔ wskit vs ws+bufferutil ↔ same (above 1: wskit is better)');
  const times = (x) => (x ? `${fmt(x, 2)}×` : '-');
  console.log(
    table(
      ['size', 'payload', 'msg/s wskit / ws', 'CPU ws / wskit'],
      deflate.ratios.map((r) => [r.sizeLabel, r.type, times(r.throughput), times(r.cpuEfficiency)]),
      ['l', 'l', 'r', 'r'],
    ),
  );
}

function printDeflateMemory(report) {
  const results = report.deflateMemory;
  const first = results.find((r) => !r.failed);
  const shape = first
    ? `${first.connections} connections × ${fmtInt(first.messagesPerConnection)} compressed ` +
      `${first.size / 1024} KiB ${first.type} messages each, ${first.window} in flight per connection`
    : 'compressed traffic';
  console.log(
    `\nMemory after ${shape}, MiB, connections still open, after GC (server and clients in ` +
      'separate processes)',
  );
  const mib = (bytes) => fmt(bytes / 1024 / 1024);
  const rows = [];
  for (const r of results) {
    for (const side of ['server', 'client']) {
      const v = r[side];
      rows.push([
        r.kind,
        side === 'client' ? 'clients' : side,
        ...(v
          ? [
              mib(v.rss),
              mib(v.heapUsed),
              mib(v.external),
              mib(v.arrayBuffers),
              mib(v.peakRss),
              mib(v.baseline.rss),
              mib(v.rss - v.baseline.rss),
              fmt(v.cpuSeconds),
              side === 'server' ? fmt(r.seconds) : '',
              side === 'server' ? fmtInt(r.messagesPerSecond) : '',
            ]
          : ['FAILED', '-', '-', '-', '-', '-', '-', '-', '-', '-']),
      ]);
    }
  }
  console.log(
    table(
      [
        'library',
        'side',
        'rss',
        'heapUsed',
        'external',
        'arrayBuffers',
        'peak rss',
        'rss before',
        'rss growth',
        'CPU s',
        'run s',
        'msg/s',
      ],
      rows,
      ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
  );
  console.log(
    [
      'peak rss: the process high-water mark (getrusage maxrss). rss before: with no connection open,',
      "after a warm-up connection. external leaves out zlib's own state (about 300 KiB per",
      'connection and side with context takeover): it is only in rss. CPU s: user + system over the',
      'run, all threads. run s: wall time from the first message to the last echo; msg/s: echoes',
      'per second over all connections.',
    ].join('\n'),
  );
}

function printMemory(report) {
  const { memory } = report;
  console.log(
    `\nMemory per idle open connection, KiB (${report.memoryConnections} connections; ` +
      'server and clients in separate processes)',
  );
  const memRows = [];
  for (const m of memory) {
    for (const side of ['server', 'client']) {
      const v = m[side];
      memRows.push([
        m.kind,
        side,
        ...(v
          ? [v.heapPlusExternal, v.heapUsed, v.external, v.arrayBuffers, v.rss].map((x) => fmt(x))
          : ['FAILED', '-', '-', '-', '-']),
      ]);
    }
  }
  console.log(
    table(
      ['library', 'side', 'heap+external', 'heapUsed', 'external', 'arrayBuffers', 'rss'],
      memRows,
      ['l', 'l', 'r', 'r', 'r', 'r', 'r'],
    ),
  );
  const pair = (kind) => {
    const m = memory.find((x) => x.kind === kind);
    return m?.server && m?.client ? m.server.heapPlusExternal + m.client.heapPlusExternal : null;
  };
  const wskit = pair('wskit');
  const ws = pair('ws');
  const tcp = pair('tcp');
  if (wskit !== null && ws !== null)
    console.log(
      `per client+server pair (heap+external): wskit ${fmt(wskit, 2)} KiB, ws ${fmt(ws, 2)} KiB, ` +
        `wskit / ws ${fmt(wskit / ws, 2)}×` +
        (tcp === null ? '' : `; two bare TCP sockets ${fmt(tcp, 2)} KiB`),
    );
}

// -- main ---------------------------------------------------------------------------------------

async function main() {
  const started = new Date();
  const loadAtStart = os.loadavg();
  // Every child imports this copy of dist/esm, safe from builds running meanwhile (lib/wskit.mjs).
  const snapshot = await snapshotWskit();
  try {
    await runAll(started, loadAtStart, snapshot);
  } finally {
    snapshot.remove();
  }
}

async function runAll(started, loadAtStart, snapshot) {
  const empty = { echo: { results: [], ratios: [] }, deflate: { results: [], ratios: [] } };
  const parts = [
    ['echo', 'echo benchmark', () => runEcho(ECHO_SUITES.echo), empty.echo],
    ['engine', 'engine micro-benchmarks', runEngine, null],
    ['deflate', 'compressed echo benchmark', () => runEcho(ECHO_SUITES.deflate), empty.deflate],
    ['memory', 'memory benchmark', runMemory, []],
    ['scale', 'scale benchmark', runScale, null],
    ['deflate-memory', 'memory benchmark under compressed traffic', runDeflateMemory, []],
    ['hostile', 'hostile peers', runHostile, null],
  ];
  const results = {};
  const partSeconds = {};
  for (const [part, what, run, fallback] of parts) {
    results[part] = fallback;
    if (!wanted(part)) continue;
    const t0 = Date.now();
    try {
      results[part] = await run();
    } catch (error) {
      recordError(what, error);
    }
    partSeconds[part] = (Date.now() - t0) / 1000;
  }
  const { echo, deflate, memory, engine, scale } = results;
  const deflateMemory = results['deflate-memory'];
  const hostile = results.hostile;
  const cpus = os.cpus();
  const report = {
    date: started.toISOString(),
    durationSeconds: (Date.now() - started.getTime()) / 1000,
    partSeconds,
    node: process.version,
    versions: {
      wskit: JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version,
      ws: createRequire(import.meta.url)('ws/package.json').version,
      bufferutil: createRequire(import.meta.url)('bufferutil/package.json').version,
    },
    wskitBuiltAt: snapshot.builtAt,
    v8: process.versions.v8,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpu: { model: cpus[0]?.model?.trim() ?? 'unknown', cores: cpus.length },
    quick: QUICK,
    warmupRounds: WARMUP_ROUNDS,
    warmupRoundShare: WARMUP_ROUND_SHARE,
    reps: REPS,
    scale: SCALE,
    loadAverage: { start: loadAtStart, end: os.loadavg() },
    processPlacement: SPLIT
      ? 'client and server in separate processes'
      : 'client and server of a pairing in one process',
    memoryConnections: CONNS,
    deflateSettings: DEFLATE,
    echo,
    deflate,
    memory,
    deflateMemory,
    engine,
    scaleConnections: scale,
    hostile,
    wskitBufferutil: [...wskitMasks],
    errors,
  };
  printReport(report);

  const dir = fileURLToPath(new URL('results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const json = `${JSON.stringify(report, null, 2)}\n`;
  const file = `${dir}bench-${started.toISOString().replace(/[:.]/g, '-')}.json`;
  writeFileSync(file, json);
  writeFileSync(`${dir}latest.json`, json);
  const timings = Object.entries(report.partSeconds)
    .map(([part, seconds]) => `${part} ${fmt(seconds, 0)} s`)
    .join(', ');
  console.log(
    `\nresults: ${file} (and bench/results/latest.json), ${fmt(report.durationSeconds, 0)} s ` +
      `(${timings})`,
  );

  if (errors.length > 0) {
    console.error(`\n${errors.length} error(s):\n  ${errors.join('\n  ')}`);
    process.exitCode = 1;
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
