// CPU profile of one echo pairing: runs the pairing's child (client and server in one process,
// as in run.mjs) under `node --cpu-prof`, then prints the functions with the most self time.
//
//   node bench/profile.mjs [client] [server] [size] [type] [count]
//   e.g. node bench/profile.mjs wskit wskit 64 binary 200000
//        node bench/profile.mjs wskit wskit 16384 json     (compressed echo)
//
// Defaults: wskit wskit 64 binary 100000, window as in run.mjs. Types binary and text are the
// plain echo; json and log the compressed echo (permessage-deflate on both ends, as in run.mjs).
// The .cpuprofile is kept in bench/results/ (open it in Chrome DevTools or VS Code for the full
// picture). zlib's work runs on libuv's thread pool, which the profile does not sample: it only
// shows the main thread.
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Child } from './lib/child.mjs';

const [client = 'wskit', server = 'wskit', sizeArg = '64', type = 'binary', countArg] =
  process.argv.slice(2);
const size = Number(sizeArg);
const window = size <= 64 ? 64 : size <= 16 * 1024 ? 16 : 4;
const deflate = type === 'json' || type === 'log';
const count = Number(
  countArg ??
    (deflate
      ? size <= 16 * 1024
        ? 3000
        : 40
      : size <= 64
        ? 100_000
        : size <= 16 * 1024
          ? 20_000
          : 300),
);
const TOP = 25;

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = path.join(root, 'bench', 'results', `profile-${Date.now()}`);
mkdirSync(dir, { recursive: true });

const child = await Child.start(
  'profiled pair',
  'echo-child.mjs',
  ['pair', client, server, ...(deflate ? ['deflate'] : [])],
  ['--cpu-prof', `--cpu-prof-dir=${dir}`],
);
const result = await child.request({
  cmd: 'echo',
  size,
  type,
  window,
  warmup: Math.round(count / 10),
  count,
  timeoutMs: 300_000,
});
await child.stop();
const cpu = (result.cpu.user + result.cpu.system) / count;
console.log(
  `${client} client -> ${server} server, ${count} x ${size} B ${type}` +
    `${deflate ? ' (permessage-deflate)' : ''}, window ${window}: ` +
    `${Math.round(count / result.seconds).toLocaleString('en-US')} msg/s, ${cpu.toFixed(1)} CPU µs/msg`,
);

const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
if (!file) throw new Error(`no .cpuprofile was written in ${dir}`);
const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));

// Self time per node from the samples, then summed per function (name + file + line).
const selfByNode = new Map();
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i];
  selfByNode.set(id, (selfByNode.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
}
const byFunction = new Map();
let totalTime = 0;
for (const node of profile.nodes) {
  const self = selfByNode.get(node.id) ?? 0;
  totalTime += self;
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url
    ? `${url.replace(`file://${root}`, '').replace(/^node:/, 'node:')}:${lineNumber + 1}`
    : '';
  const key = `${functionName || '(anonymous)'} ${where}`.trim();
  byFunction.set(key, (byFunction.get(key) ?? 0) + self);
}
const rows = [...byFunction.entries()].sort((a, b) => b[1] - a[1]).slice(0, TOP);
console.log(`\ntop ${TOP} functions by self time (of ${(totalTime / 1e6).toFixed(2)} s sampled):`);
for (const [name, time] of rows) {
  const pct = ((100 * time) / totalTime).toFixed(1).padStart(5);
  console.log(`${pct}%  ${(time / 1000).toFixed(0).padStart(6)} ms  ${name}`);
}
console.log(`\nprofile: ${path.join(dir, file)}`);
