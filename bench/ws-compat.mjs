// wskit/ws against ws: the same program, written for ws's API, with only the import changed.
// Each repetition runs a pipelined echo (client and server in one child process per library,
// a window of messages in flight, every echo checked) for small text and larger binary
// messages; the libraries alternate, and the median of the repetitions is reported.
//
//   node bench/ws-compat.mjs            (after `npm run build`)
//   BENCH_REPS=n     repetitions (default 5)
//   BENCH_QUICK=1    tiny counts and one repetition: a smoke run
//
// Exit status: 0 whatever the speed; 1 if an echo does not match or a child fails.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const LIBRARIES = ['ws', 'wskit/ws'];
const quick = process.env.BENCH_QUICK === '1';
const reps = quick ? 1 : Number(process.env.BENCH_REPS ?? 5);
const CASES = [
  { name: 'text, 64 B', size: 64, binary: false, count: quick ? 2_000 : 100_000 },
  { name: 'binary, 16 KiB', size: 16 * 1024, binary: true, count: quick ? 500 : 20_000 },
];
const WINDOW = 64;

/** Child: runs one echo measurement with `library` and prints its result as JSON. */
async function child(library, size, binary, count) {
  const { default: WebSocket, WebSocketServer } = await import(library);
  const payload = binary ? Buffer.alloc(size, 7) : 'x'.repeat(size);
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => wss.once('listening', resolve));
  wss.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  const ws = new WebSocket(`ws://127.0.0.1:${wss.address().port}`);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const start = process.hrtime.bigint();
  await new Promise((resolve, reject) => {
    let sent = 0;
    let received = 0;
    ws.on('message', (data, isBinary) => {
      if (isBinary !== binary || data.length !== size) {
        reject(new Error(`echo ${received} does not match what was sent`));
        return;
      }
      received++;
      if (received === count) resolve();
      else if (sent < count) {
        ws.send(payload);
        sent++;
      }
    });
    for (; sent < Math.min(WINDOW, count); sent++) ws.send(payload);
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  ws.terminate();
  for (const client of wss.clients) client.terminate();
  wss.close();
  process.stdout.write(`${JSON.stringify({ msgsPerSec: count / seconds })}\n`);
}

function measure(library, c) {
  const result = spawnSync(
    process.execPath,
    [
      fileURLToPath(import.meta.url),
      '--child',
      library,
      String(c.size),
      String(c.binary),
      String(c.count),
    ],
    { encoding: 'utf8', timeout: 300_000 },
  );
  if (result.status !== 0) throw new Error(`${library} failed: ${result.stderr}`);
  return JSON.parse(result.stdout).msgsPerSec;
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

if (process.argv[2] === '--child') {
  const [, , , library, size, binary, count] = process.argv;
  await child(library, Number(size), binary === 'true', Number(count));
} else {
  try {
    console.log(`wskit/ws vs ws: pipelined echo, window ${WINDOW}, median of ${reps}`);
    for (const c of CASES) {
      const runs = Object.fromEntries(LIBRARIES.map((l) => [l, []]));
      for (let i = 0; i < reps; i++) for (const l of LIBRARIES) runs[l].push(measure(l, c));
      const [ws, wskit] = LIBRARIES.map((l) => median(runs[l]));
      console.log(
        `${c.name.padEnd(16)} ws ${Math.round(ws).toLocaleString('en-US').padStart(9)} msg/s   ` +
          `wskit/ws ${Math.round(wskit).toLocaleString('en-US').padStart(9)} msg/s   ` +
          `(${(wskit / ws).toFixed(2)}x)`,
      );
    }
  } catch (error) {
    console.error(error.message);
    process.exit(1);
  }
}
