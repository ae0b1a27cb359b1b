// Publish/subscribe benchmark. Run after `npm run build`: node bench/pubsub.mjs
//
// 1. Across processes on Redis: one publisher and PUBSUB_SUBSCRIBERS (default 1,000) subscribers
//    spread over two server processes (half on each), with their clients in two more processes.
//    wskit (WebSocketServer + wskit/redis) against Socket.IO with @socket.io/redis-adapter on the
//    same redis-server (started here, persistence off). The publisher sends PUBSUB_MESSAGES
//    (default 1,000) messages of 64 bytes to the first server at each rate of PUBSUB_RATES
//    (messages/s, default "100,1000"); the server publishes each to the topic (Socket.IO: room).
//    Reported: deliveries per second (all subscribers together, from the first publish to the
//    last delivery), latency p50/p99 from publish to delivery, and deliveries lost.
// 2. In one process, no broker: PUBSUB_LOCAL_SUBSCRIBERS (default 10,000) subscribers, with their
//    ws clients in another process; wskit's publish (framed once) against ws's loop over
//    `clients` calling send() (framed per client), PUBSUB_LOCAL_MESSAGES (default 100) messages
//    each. Reported: deliveries per second, and the server's time in the publish calls.
// PUBSUB_LIBRARIES=wskit (or socket.io) runs part 1 for one library only.
//
// Children raise their open-file limit as far as allowed (ulimit -n 65536, else the hard limit).
// The figures depend on the machine and its load (printed); nothing here fails on speed.
import { spawn } from 'node:child_process';
import { symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { snapshotWskit } from './lib/wskit.mjs';

const env = process.env;
const SUBSCRIBERS = Number(env.PUBSUB_SUBSCRIBERS ?? 1000);
const MESSAGES = Number(env.PUBSUB_MESSAGES ?? 1000);
const RATES = (env.PUBSUB_RATES ?? '100,1000').split(',').map(Number);
const LOCAL_SUBSCRIBERS = Number(env.PUBSUB_LOCAL_SUBSCRIBERS ?? 10_000);
const LOCAL_MESSAGES = Number(env.PUBSUB_LOCAL_MESSAGES ?? 100);
const LOCAL_REPS = Number(env.PUBSUB_LOCAL_REPS ?? 3);
const LIBRARIES = (env.PUBSUB_LIBRARIES ?? 'wskit,socket.io').split(',');
const REDIS_SERVER = '/usr/bin/redis-server';
const childScript = fileURLToPath(new URL('pubsub-child.mjs', import.meta.url));

/** A child over IPC with a raised fd limit: requests { cmd } get one answer each. */
class Child {
  static start(name, args) {
    const proc = spawn(
      'sh',
      [
        '-c',
        'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"',
        process.execPath,
        childScript,
        ...args,
      ],
      { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    );
    const child = new Child(name, proc);
    return child.#ready;
  }

  #proc;
  #next = 1;
  #pending = new Map();
  #ready;

  constructor(name, proc) {
    this.name = name;
    this.#proc = proc;
    this.#ready = new Promise((resolve, reject) => {
      proc.on('message', (message) => {
        if (message.ready) {
          this.info = message;
          resolve(this);
          return;
        }
        const pending = this.#pending.get(message.id);
        this.#pending.delete(message.id);
        if (message.ok) pending?.resolve(message);
        else pending?.reject(new Error(`${name}: ${message.error}`));
      });
      proc.on('exit', (code) => {
        const error = new Error(`${name} exited with ${code}`);
        reject(error);
        for (const pending of this.#pending.values()) pending.reject(error);
      });
    });
  }

  request(message) {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#proc.send({ ...message, id });
    });
  }

  async stop() {
    if (this.#proc.exitCode !== null) return;
    const exited = new Promise((resolve) => this.#proc.once('exit', resolve));
    this.#proc.disconnect();
    const timer = setTimeout(() => this.#proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function startRedis() {
  const port = await freePort();
  const proc = spawn(
    REDIS_SERVER,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let output = '';
  await new Promise((resolve, reject) => {
    proc.stdout.on('data', (chunk) => {
      output += chunk;
      if (output.includes('Ready to accept connections')) resolve();
    });
    proc.once('exit', () => reject(new Error(`redis-server exited: ${output}`)));
  });
  proc.stdout.resume();
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGTERM');
      await exited;
    },
  };
}

/** p-th percentile (0-1) of merged log histograms, in ms. */
function percentile(histograms, p) {
  const merged = new Map();
  for (const h of histograms)
    for (const [bucket, count] of Object.entries(h))
      merged.set(Number(bucket), (merged.get(Number(bucket)) ?? 0) + count);
  const buckets = [...merged.keys()].sort((a, b) => a - b);
  const total = [...merged.values()].reduce((a, b) => a + b, 0);
  let seen = 0;
  for (const bucket of buckets) {
    seen += merged.get(bucket);
    if (seen >= p * total) return 1.01 ** bucket / 1000;
  }
  return Number.NaN;
}

/** Part 1 for one library at one rate: fresh processes, a warm-up, one measured run. */
async function acrossProcesses(kind, redisUrl, rate) {
  const children = [];
  try {
    const nodes = [];
    for (const i of [0, 1]) {
      const node = await Child.start(`${kind} node ${i}`, ['node', kind, redisUrl]);
      children.push(node);
      nodes.push(node);
    }
    const groups = [];
    for (const i of [0, 1]) {
      const n = i === 0 ? Math.ceil(SUBSCRIBERS / 2) : Math.floor(SUBSCRIBERS / 2);
      const group = await Child.start(`${kind} clients ${i}`, [
        'clients',
        kind,
        String(nodes[i].info.port),
        String(n),
      ]);
      children.push(group);
      groups.push(group);
    }
    const expected = MESSAGES * SUBSCRIBERS;
    const drain = async (total) => {
      // Until every delivery arrived, or nothing more arrives for 3 s (the rest is lost).
      let last = -1;
      let still = 0;
      for (;;) {
        const stats = await Promise.all(groups.map((g) => g.request({ cmd: 'stats' })));
        const received = stats.reduce((a, s) => a + s.received, 0);
        if (received >= total) return stats;
        still = received === last ? still + 1 : 0;
        if (still >= 15) return stats;
        last = received;
        await sleep(200);
      }
    };
    // Warm-up: connections, JIT, Redis subscriptions.
    await groups[0].request({ cmd: 'publish', rate, messages: Math.min(100, MESSAGES) });
    await drain(Math.min(100, MESSAGES) * SUBSCRIBERS);
    await Promise.all(groups.map((g) => g.request({ cmd: 'reset' })));
    const cpu0 = await Promise.all(nodes.map((n) => n.request({ cmd: 'cpu' })));
    const published = await groups[0].request({ cmd: 'publish', rate, messages: MESSAGES });
    const stats = await drain(expected);
    const cpu1 = await Promise.all(nodes.map((n) => n.request({ cmd: 'cpu' })));
    const received = stats.reduce((a, s) => a + s.received, 0);
    const lastAt = Math.max(...stats.map((s) => s.lastAt));
    const seconds = (lastAt - published.startedAt) / 1000;
    const serverCpu = cpu1.reduce(
      (a, c, i) => a + (c.cpu.user - cpu0[i].cpu.user + c.cpu.system - cpu0[i].cpu.system),
      0,
    );
    return {
      kind,
      rate,
      messages: MESSAGES,
      subscribers: SUBSCRIBERS,
      deliveriesPerSecond: Math.round(received / seconds),
      p50: percentile(
        stats.map((s) => s.histogram),
        0.5,
      ),
      p99: percentile(
        stats.map((s) => s.histogram),
        0.99,
      ),
      lost: expected - received,
      serverCpuUsPerDelivery: received ? serverCpu / received : Number.NaN,
    };
  } finally {
    for (const child of children.reverse()) await child.stop();
  }
}

/** Part 2 for one library: server and clients processes, LOCAL_REPS runs, the median. */
async function inProcess(kind) {
  const server = await Child.start(`${kind} local server`, ['local', kind]);
  let clients = null;
  try {
    clients = await Child.start(`${kind} local clients`, [
      'fanclients',
      kind,
      String(server.info.port),
      String(LOCAL_SUBSCRIBERS),
    ]);
    while ((await server.request({ cmd: 'subscribers' })).subscribers < LOCAL_SUBSCRIBERS)
      await sleep(50);
    const run = async (messages) => {
      await clients.request({ cmd: 'arm', total: messages * LOCAL_SUBSCRIBERS });
      const fan = await server.request({ cmd: 'fanout', messages });
      const done = await clients.request({ cmd: 'wait' });
      return {
        deliveriesPerSecond:
          (messages * LOCAL_SUBSCRIBERS) / ((done.lastAt - fan.startedAt) / 1000),
        publishMsPerMessage: fan.publishMs / messages,
        publishCpuMsPerMessage: fan.publishCpuMs / messages,
      };
    };
    await run(5);
    const runs = [];
    for (let i = 0; i < LOCAL_REPS; i++) runs.push(await run(LOCAL_MESSAGES));
    const median = (key) => runs.map((r) => r[key]).sort((a, b) => a - b)[runs.length >> 1];
    return {
      kind,
      subscribers: LOCAL_SUBSCRIBERS,
      messages: LOCAL_MESSAGES,
      deliveriesPerSecond: Math.round(median('deliveriesPerSecond')),
      publishMsPerMessage: median('publishMsPerMessage'),
      publishCpuMsPerMessage: median('publishCpuMsPerMessage'),
    };
  } finally {
    await clients?.stop();
    await server.stop();
  }
}

const fmt = (n, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
const snapshot = await snapshotWskit();
// The copy's wskit/redis imports the `redis` package: let it resolve from this checkout.
symlinkSync(
  fileURLToPath(new URL('../node_modules', import.meta.url)),
  `${snapshot.directory}/node_modules`,
);
const redis = await startRedis();
console.log(
  `node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model}, load ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
try {
  console.log(
    `\nAcross processes on Redis: 1 publisher, ${SUBSCRIBERS} subscribers on 2 server processes, ${MESSAGES} messages of 64 B per rate\n`,
  );
  console.log(
    '| library | offered msg/s | deliveries/s | p50 ms | p99 ms | lost | server CPU µs/delivery |',
  );
  console.log('| --- | --: | --: | --: | --: | --: | --: |');
  for (const rate of RATES) {
    for (const kind of LIBRARIES) {
      const r = await acrossProcesses(kind, redis.url, rate);
      const label = kind === 'wskit' ? 'wskit + wskit/redis' : 'Socket.IO + redis-adapter';
      console.log(
        `| ${label} | ${rate} | ${r.deliveriesPerSecond} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${r.lost} | ${fmt(r.serverCpuUsPerDelivery, 2)} |`,
      );
    }
  }
  console.log(
    `\nOne process, no broker: ${LOCAL_SUBSCRIBERS} subscribers, ${LOCAL_MESSAGES} messages of 64 B (median of ${LOCAL_REPS})\n`,
  );
  console.log('| server | deliveries/s | publish call ms/message | publish CPU ms/message |');
  console.log('| --- | --: | --: | --: |');
  for (const kind of ['wskit', 'ws']) {
    const r = await inProcess(kind);
    const label = kind === 'wskit' ? 'wskit `publish`' : 'ws, loop over `clients`';
    console.log(
      `| ${label} | ${r.deliveriesPerSecond} | ${fmt(r.publishMsPerMessage, 2)} | ${fmt(r.publishCpuMsPerMessage, 2)} |`,
    );
  }
} finally {
  await redis.stop();
  snapshot.remove();
}
