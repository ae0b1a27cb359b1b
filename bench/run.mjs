// wskit benchmark: pipelined echo throughput against `ws` and raw TCP, and memory per idle
// connection. Run with `npm run bench` (builds first) or `node bench/run.mjs` after a build.
//
//   BENCH_REPS=n     repetitions (default 3; the median is reported)
//   BENCH_QUICK=1    tiny counts and one repetition: a smoke run of a few seconds
//   BENCH_SCALE=x    multiplies every message count (e.g. 3 on an idle, fast machine)
//   BENCH_CONNS=n    connections in the memory test (default 1000)
//   BENCH_SPLIT=1    echo client and server in separate processes (see below)
//   BENCH_ONLY=echo  only the echo benchmark (BENCH_ONLY=memory: only the memory test)
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
// The memory test runs its server and its clients in two fresh child processes per library (with
// --expose-gc), so each side's cost per connection is measured on its own.
//
// Exit status: 0 whatever the speed; 1 only if something is broken (an echo that does not match,
// a child that crashes, a connection that fails or hangs).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Child } from './lib/child.mjs';

const env = process.env;
const QUICK = env.BENCH_QUICK === '1';
const REPS = positiveInt(env.BENCH_REPS, QUICK ? 1 : 3);
const SCALE = Number(env.BENCH_SCALE ?? 1) * (QUICK ? 0.01 : 1);
const CONNS = positiveInt(env.BENCH_CONNS, QUICK ? 50 : 1000);
const SPLIT = env.BENCH_SPLIT === '1';
const PROGRESS = process.stderr.isTTY;
const ONLY = env.BENCH_ONLY ?? '';
const MEASUREMENT_TIMEOUT_MS = 120_000;

// Window: messages in flight. Count: echoes timed, for about 0.3-1.5 s per measurement on a slow
// two-core VM (the whole run must stay under 3 minutes there); raise BENCH_SCALE on a fast machine.
const SIZES = [
  { label: '64 B', size: 64, window: 64, count: 30_000 },
  { label: '16 KiB', size: 16 * 1024, window: 16, count: 4_000 },
  { label: '1 MiB', size: 1024 * 1024, window: 4, count: 60 },
];
const TYPES = ['binary', 'text'];
const PAIRINGS = [
  { key: 'wskit-wskit', label: 'wskit ↔ wskit', client: 'wskit', server: 'wskit' },
  { key: 'ws-ws', label: 'ws ↔ ws', client: 'ws', server: 'ws' },
  { key: 'wskit-ws', label: 'wskit client → ws server', client: 'wskit', server: 'ws' },
  { key: 'ws-wskit', label: 'ws client → wskit server', client: 'ws', server: 'wskit' },
  { key: 'tcp', label: 'raw TCP (ceiling)', client: 'tcp', server: 'tcp' },
];
const MEMORY_KINDS = ['wskit', 'ws', 'tcp'];

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

function echoCases() {
  const cases = [];
  for (const s of SIZES) {
    const count = Math.max(4, Math.round(s.count * SCALE));
    const warmup = Math.max(2 * s.window, Math.round(count / 10));
    for (const type of TYPES) cases.push({ ...s, count, warmup, type });
  }
  return cases;
}

/** Starts the echo children; returns (pairing) => { client, server, stop }. */
async function startEchoChildren() {
  const children = [];
  const start = async (...args) => {
    const child = await Child.start(`echo ${args.join(' ')}`, 'echo-child.mjs', args);
    children.push(child);
    return child;
  };
  const stop = () => Promise.all(children.map((c) => c.stop()));
  const ends = new Map();
  try {
    for (const p of PAIRINGS) {
      if (SPLIT) {
        const server = ends.get(`server ${p.server}`) ?? (await start('server', p.server));
        const client = ends.get(`client ${p.client}`) ?? (await start('client', p.client));
        ends.set(`server ${p.server}`, server).set(`client ${p.client}`, client);
        ends.set(p.key, { client, server });
      } else {
        const child = await start('pair', p.client, p.server);
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

/** One measurement; returns { seconds, cpuPerMessage (µs, client + server) }. */
async function measureEcho({ client, server }, c) {
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
  return { seconds: result.seconds, cpuPerMessage };
}

async function runEcho(cases) {
  const { endsOf, stop } = await startEchoChildren();
  try {
    const runs = new Map(); // `${size}|${type}|${pairing}` -> [{ rep, seconds, cpuPerMessage }]
    const total = REPS * cases.length * PAIRINGS.length;
    let done = 0;
    for (let rep = 0; rep < REPS; rep++) {
      if (!PROGRESS) console.error(`echo: repetition ${rep + 1} of ${REPS}`);
      for (const c of cases) {
        // Interleaved, and the pairing order rotates with each repetition, so that drift and
        // position effects fall on every pairing alike.
        for (let k = 0; k < PAIRINGS.length; k++) {
          const p = PAIRINGS[(k + rep) % PAIRINGS.length];
          const where = `${c.label} ${c.type}, ${p.label} (rep ${rep + 1})`;
          done++;
          if (PROGRESS) process.stderr.write(`\r[${done}/${total}] ${where}`.padEnd(72));
          const key = `${c.size}|${c.type}|${p.key}`;
          if (!runs.has(key)) runs.set(key, []);
          const ends = endsOf(p);
          try {
            runs.get(key).push({ rep: rep + 1, ...(await measureEcho(ends, c)) });
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
    return summarizeEcho(cases, runs);
  } finally {
    await stop();
  }
}

function summarizeEcho(cases, runs) {
  const results = [];
  for (const c of cases) {
    for (const p of PAIRINGS) {
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
              },
        spread: rate === null ? null : (Math.max(...rates) - Math.min(...rates)) / rate,
      });
    }
  }
  const ratios = cases.map((c) => {
    const find = (key) =>
      results.find((r) => r.size === c.size && r.type === c.type && r.pairing === key)?.median;
    const wskit = find('wskit-wskit');
    const ws = find('ws-ws');
    return {
      size: c.size,
      sizeLabel: c.label,
      type: c.type,
      // Both above 1 when wskit is better: msg/s wskit / ws, and CPU per message ws / wskit.
      throughput: wskit && ws ? wskit.messagesPerSecond / ws.messagesPerSecond : null,
      cpuEfficiency: wskit && ws ? ws.cpuMicrosPerMessage / wskit.cpuMicrosPerMessage : null,
    };
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
  const { echo, memory } = report;
  const load = (l) => l.map((x) => x.toFixed(1)).join(' ');
  console.log(
    `\nwskit ${report.versions.wskit} vs ws ${report.versions.ws} · node ${report.node} · ` +
      `${report.cpu.model} × ${report.cpu.cores} · ` +
      `${report.reps} rep(s), median` +
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
  if (memory.length > 0) printMemory(report);
  console.log(
    [
      '',
      'msg/s: echoes per second (median of the reps). MB/s: payload bytes echoed per second, one',
      'way (1 MB = 10^6 B). CPU µs/msg: user + system CPU time of client and server per echo.',
      'of TCP: msg/s relative to raw TCP moving the same bytes. spread: (max - min) / median of',
      'msg/s over the reps. Ratios: msg/s wskit / ws, and CPU µs/msg ws / wskit.',
      'heap+external = heapUsed + external (external already includes arrayBuffers); rss is noisy.',
    ].join('\n'),
  );
}

function printEcho(report) {
  const { echo } = report;
  console.log(`\nEcho round trips, pipelined (${report.processPlacement})`);
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

  console.log('\nwskit ↔ wskit vs ws ↔ ws (above 1: wskit is better)');
  const ratioOf = (size, type) => echo.ratios.find((x) => x.size === size && x.type === type);
  const times = (x) => (x ? `${fmt(x, 2)}×` : '-');
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
}

// -- main ---------------------------------------------------------------------------------------

async function main() {
  const started = new Date();
  const loadAtStart = os.loadavg();
  const cases = echoCases();
  let echo = { results: [], ratios: [] };
  let memory = [];
  if (ONLY !== 'memory') {
    try {
      echo = await runEcho(cases);
    } catch (error) {
      recordError('echo benchmark', error);
    }
  }
  if (ONLY !== 'echo') {
    try {
      memory = await runMemory();
    } catch (error) {
      recordError('memory benchmark', error);
    }
  }
  const cpus = os.cpus();
  const report = {
    date: started.toISOString(),
    durationSeconds: (Date.now() - started.getTime()) / 1000,
    node: process.version,
    versions: {
      wskit: JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version,
      ws: createRequire(import.meta.url)('ws/package.json').version,
    },
    v8: process.versions.v8,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpu: { model: cpus[0]?.model?.trim() ?? 'unknown', cores: cpus.length },
    quick: QUICK,
    reps: REPS,
    scale: SCALE,
    loadAverage: { start: loadAtStart, end: os.loadavg() },
    processPlacement: SPLIT
      ? 'client and server in separate processes'
      : 'client and server of a pairing in one process',
    memoryConnections: CONNS,
    echo,
    memory,
    errors,
  };
  printReport(report);

  const dir = fileURLToPath(new URL('results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const json = `${JSON.stringify(report, null, 2)}\n`;
  const file = `${dir}bench-${started.toISOString().replace(/[:.]/g, '-')}.json`;
  writeFileSync(file, json);
  writeFileSync(`${dir}latest.json`, json);
  console.log(
    `\nresults: ${file} (and bench/results/latest.json), ${fmt(report.durationSeconds, 0)} s`,
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
