// Hostile peers against wskit and `ws`, side by side: the attacks of test/hostile/ (its harness:
// the endpoint under attack runs in a child process with a 64 MiB heap), each bounded in time, for
// the comparison table of issue 12. The tests assert wskit's behaviour; this only measures, for
// both libraries with their default options: how the attack ended (close code and error, still
// open, or the process died), the time from the start of the attack to the close, the target's
// peak RSS and heap growth (after GC), and how much the attacker got to send.
//
//   node --import tsx bench/hostile.ts          table, then the JSON
//   node --import tsx bench/hostile.ts --json   only the JSON (with the table in it), for run.mjs
//
// Never exits non-zero because of what a library did: an attack that cannot even start (a target
// that does not listen) is reported in `errors`, and run.mjs counts those as broken.
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  findClose,
  flood,
  frame,
  HEAP_MIB,
  rawConnect,
  rawServer,
  rawUpgrade,
  Target,
  type TargetConfig,
  type TargetMessage,
} from '../test/hostile/harness.js';

const MiB = 1024 * 1024;
const LIBRARIES = ['wskit', 'ws'] as const;
type Library = (typeof LIBRARIES)[number];
/** How long a flood may run before the attack counts as not stopped. */
const FLOOD_MS = 8000;
/** How long a slow-loris connection is kept up (wskit's default handshake timeout is 10 s). */
const LORIS_MS = 13_000;
/** After an attack, how long to wait for the target to report the close. */
const GRACE_MS = 1500;

/** One attack against one library on one side. */
interface Result {
  attack: string;
  side: 'server' | 'client';
  library: Library;
  outcome: string;
  closeCode: number | null;
  errorCode: string | number | null;
  reason: string | null;
  closeMs: number | null;
  peakRssMiB: number | null;
  heapGrowthMiB: number | null;
  sent: string;
  sentBytes: number;
  /** Handshake attacks: CPU milliseconds of the target per handshake, and the answer. */
  cpuMsPerHandshake?: number;
  answer?: string;
}

const errors: string[] = [];

/** Frames written per call of harness.flood before this process yields to its event loop. */
const BATCH = 5000;

/**
 * harness.flood for `ms`, in batches: when the peer reads as fast as it is written, every write
 * completes at once and flood's loop would never yield, neither to its own timer nor to the
 * target's reports (whose arrival times would all fall at the end of the attack).
 */
async function floodFor(socket: Socket, next: () => Buffer | null, ms: number): Promise<void> {
  const deadline = performance.now() + ms;
  let over = false;
  while (!over && !socket.destroyed && performance.now() < deadline) {
    let n = 0;
    const batch = () => {
      if (n++ >= BATCH) return null;
      const bytes = performance.now() > deadline ? null : next();
      if (bytes === null) over = true;
      return bytes;
    };
    await flood(socket, batch, Math.max(1, deadline - performance.now()));
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** A target with the arrival time of each of its messages. */
class Timed {
  readonly target: Target;
  readonly times: Array<{ type: string; at: number }> = [];
  constructor(config: TargetConfig, nodeArgs: string[] = []) {
    this.target = new Target(config, 'target.mjs', nodeArgs);
    this.target.child.on('message', (m: TargetMessage) =>
      this.times.push({ type: m.type, at: performance.now() }),
    );
  }
  first(type: string): TargetMessage | undefined {
    return this.target.messages.find((m) => m.type === type);
  }
  firstAt(...types: string[]): number | null {
    return this.times.find((t) => types.includes(t.type))?.at ?? null;
  }
}

/** What happened to the target, once the attack is over. */
async function conclude(
  t: Timed,
  base: Omit<
    Result,
    'outcome' | 'closeCode' | 'errorCode' | 'reason' | 'closeMs' | 'peakRssMiB' | 'heapGrowthMiB'
  >,
  started: number,
  ended: number,
  heapBefore: number,
  wire: { code: number; reason: string } | null,
): Promise<Result> {
  // Give a close that is on its way the time to be reported.
  const deadline = Date.now() + GRACE_MS;
  while (t.target.alive && !t.first('close') && Date.now() < deadline) await sleep(50);
  const error = t.first('error');
  const close = t.first('close');
  const reportedAt = t.firstAt('error', 'close');
  // An attack that lasted its whole time ended with the attacker hanging up: a close reported
  // after that is the attacker's doing, not the target's. One that ended sooner ended because
  // the target closed, whose report may arrive just after the attacker saw the close.
  const hungUp = ended - started >= FLOOD_MS - 100;
  const closedAt = reportedAt !== null && (!hungUp || reportedAt < ended) ? reportedAt : null;
  const closeEventCode = typeof close?.code === 'number' ? close.code : null;
  const closeCode = error?.closeCode ?? wire?.code ?? closeEventCode;
  const result: Result = {
    ...base,
    outcome: '',
    closeCode,
    errorCode: error?.code ?? null,
    reason: wire?.reason ?? close?.reason ?? null,
    closeMs: closedAt === null ? null : Math.round(closedAt - started),
    peakRssMiB: null,
    heapGrowthMiB: null,
  };
  if (!t.target.alive) {
    result.outcome = `process died (${t.target.exitSignal ?? `exit ${t.target.exitCode}`})`;
    result.closeMs = null;
    return result;
  }
  const memory = await t.target.memory();
  result.peakRssMiB = memory.maxRss / MiB;
  result.heapGrowthMiB = (memory.heapUsed - heapBefore) / MiB;
  const seconds = Math.round((ended - started) / 1000);
  result.outcome =
    closedAt !== null
      ? `closed ${closeCode ?? '?'}${error?.code ? ` ${error.code}` : ''}`
      : `still open when the attacker stopped (${seconds} s)` +
        (error?.code ? `; ${error.code} reported after the hang-up` : '');
  if (closedAt === null) result.closeCode = null;
  return result;
}

// -- attacks on a server ------------------------------------------------------------------------

interface ServerAttack {
  name: string;
  options?: Record<string, unknown>;
  sendOnOpen?: TargetConfig['sendOnOpen'];
  /** Runs the attack; resolves with what was sent and any close frame seen on the wire. */
  run: (port: number) => Promise<{
    sent: string;
    bytes: number;
    wire: { code: number; reason: string } | null;
  }>;
}

const oneByte = new Uint8Array([0x61]);
const pingPayload = new Uint8Array(125).fill(0x70);
// A deflate block of the reserved type 3 (RFC 1951 section 3.2.3): no inflater accepts it.
const corrupt = Buffer.from([0x07, 0x00, 0x00]);

const SERVER_ATTACKS: ServerAttack[] = [
  {
    name: 'one message as 1-byte continuation frames, never FIN',
    async run(port) {
      const client = await rawUpgrade(port);
      let count = 0;
      const first = frame(0x1, oneByte, { fin: false });
      const next = frame(0x0, oneByte, { fin: false });
      await floodFor(client.socket, () => (count++ === 0 ? first : next), FLOOD_MS);
      client.socket.destroy();
      return {
        sent: `${count.toLocaleString('en-US')} fragments`,
        bytes: count * next.length,
        wire: findClose(client.received()),
      };
    },
  },
  {
    name: '1,000,000 pings, attacker never reads',
    async run(port) {
      const client = await rawUpgrade(port);
      client.socket.pause();
      const ping = frame(0x9, pingPayload);
      let count = 0;
      await floodFor(
        client.socket,
        () => {
          if (count >= 1_000_000) return null;
          count++;
          return ping;
        },
        FLOOD_MS,
      );
      const wire = findClose(client.received());
      client.socket.destroy();
      return { sent: `${count.toLocaleString('en-US')} pings`, bytes: count * ping.length, wire };
    },
  },
  {
    name: 'reader never reads while the app sends 1 GiB',
    sendOnOpen: { size: MiB, count: 1024 },
    async run(port) {
      const client = await rawUpgrade(port);
      client.socket.pause();
      await Promise.race([client.closed, sleep(FLOOD_MS)]);
      client.socket.destroy();
      return { sent: 'nothing (reads nothing)', bytes: 0, wire: null };
    },
  },
  {
    name: 'corrupt compressed data',
    options: { perMessageDeflate: true },
    async run(port) {
      const client = await rawUpgrade(port, { 'Sec-WebSocket-Extensions': 'permessage-deflate' });
      const bytes = frame(0x1, corrupt, { rsv1: true });
      client.socket.write(bytes);
      await Promise.race([client.closed, sleep(FLOOD_MS)]);
      client.socket.destroy();
      return { sent: '1 frame', bytes: bytes.length, wire: findClose(client.received()) };
    },
  },
];

async function serverAttack(attack: ServerAttack, library: Library): Promise<Result> {
  const t = new Timed({
    role: 'server',
    library,
    options: attack.options ?? {},
    ...(attack.sendOnOpen ? { sendOnOpen: attack.sendOnOpen } : {}),
  });
  try {
    const port = await t.target.port();
    const before = await t.target.memory();
    const started = performance.now();
    const { sent, bytes, wire } = await attack.run(port);
    const ended = performance.now();
    const base = { attack: attack.name, side: 'server' as const, library, sent, sentBytes: bytes };
    return await conclude(t, base, started, ended, before.heapUsed, wire);
  } finally {
    await t.target.stop();
  }
}

/** Slow loris: an endless header, one byte every 50 ms; timed from the attacker's side. */
async function slowLoris(library: Library): Promise<Result> {
  const t = new Timed({ role: 'server', library, options: {} });
  try {
    const port = await t.target.port();
    const before = await t.target.memory();
    const { socket, closed } = await rawConnect(port);
    const request = 'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nX-Slow: ';
    let sent = 0;
    const timer = setInterval(() => {
      if (!socket.destroyed) socket.write(request[sent++ % request.length]!);
    }, 50);
    const started = performance.now();
    const dropped = await Promise.race([closed.then(() => true), sleep(LORIS_MS, false)]);
    const closeMs = Math.round(performance.now() - started);
    clearInterval(timer);
    socket.destroy();
    const memory = await t.target.memory();
    return {
      attack: 'slow-loris handshake, 1 byte per 50 ms',
      side: 'server',
      library,
      outcome: !t.target.alive
        ? 'process died'
        : dropped
          ? 'dropped'
          : `still open after ${LORIS_MS / 1000} s`,
      closeCode: null,
      errorCode: null,
      reason: null,
      closeMs: dropped ? closeMs : null,
      peakRssMiB: memory.maxRss / MiB,
      heapGrowthMiB: (memory.heapUsed - before.heapUsed) / MiB,
      sent: `${sent} header bytes`,
      sentBytes: sent,
    };
  } finally {
    await t.target.stop();
  }
}

/** `Sec-WebSocket-Protocol` with distinct tokens up to `size` bytes: CPU per handshake. */
async function protocolTokens(
  library: Library,
  size: number,
  handshakes: number,
  nodeArgs: string[],
): Promise<Result> {
  const tokens: string[] = [];
  for (let i = 0, length = 0; length < size; i++) {
    const token = `p${i.toString(36)}`;
    tokens.push(token);
    length += token.length + 2;
  }
  const header = tokens.join(', ');
  const label = size >= MiB ? `${size / MiB} MiB` : `${Math.round(size / 1000)} KB`;
  const t = new Timed({ role: 'server', library, options: {} }, nodeArgs);
  try {
    const port = await t.target.port();
    const before = await t.target.memory();
    const cpuBefore = await t.target.cpu();
    const started = performance.now();
    let answer = '';
    let done = 0;
    let sentBytes = 0;
    for (; done < handshakes && performance.now() - started < FLOOD_MS * 2; done++) {
      const { socket, closed } = await rawConnect(port);
      const request =
        `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n' +
        `Sec-WebSocket-Protocol: ${header}\r\n\r\n`;
      sentBytes += request.length;
      const answered = new Promise<string>((resolve) => {
        let text = '';
        socket.on('data', (chunk: Buffer) => {
          text += chunk.toString('latin1');
          if (text.includes('\r\n')) resolve(text.slice(0, text.indexOf('\r\n')));
        });
        void closed.then((all) => resolve(all.split('\r\n')[0] || 'closed without an answer'));
      });
      socket.write(request);
      answer = await Promise.race([answered, sleep(FLOOD_MS * 2, 'no answer in time')]);
      socket.destroy();
      await closed;
    }
    const cpuMs = ((await t.target.cpu()) - cpuBefore) / 1000;
    const memory = await t.target.memory();
    return {
      attack: `Sec-WebSocket-Protocol of ${tokens.length.toLocaleString('en-US')} tokens (${label})`,
      side: 'server',
      library,
      outcome: t.target.alive ? answer : 'process died',
      closeCode: null,
      errorCode: null,
      reason: null,
      closeMs: Math.round((performance.now() - started) / Math.max(1, done)),
      peakRssMiB: memory.maxRss / MiB,
      heapGrowthMiB: (memory.heapUsed - before.heapUsed) / MiB,
      sent: `${done} handshakes`,
      sentBytes,
      cpuMsPerHandshake: cpuMs / Math.max(1, done),
      answer,
    };
  } finally {
    await t.target.stop();
  }
}

// -- attacks on a client ------------------------------------------------------------------------

interface ClientAttack {
  name: string;
  extensions?: string;
  /** Client options per library (compression off unless the attack needs it). */
  options: Record<Library, Record<string, unknown>>;
  /** Starts attacking the upgraded socket; resolves with what was sent. */
  run: (socket: Socket) => Promise<{ sent: string; bytes: number }>;
}

const NO_DEFLATE = { wskit: { perMessageDeflate: false }, ws: { perMessageDeflate: false } };

const CLIENT_ATTACKS: ClientAttack[] = [
  {
    name: 'one message as 1-byte continuation frames, never FIN',
    options: NO_DEFLATE,
    async run(socket) {
      let count = 0;
      const first = frame(0x2, oneByte, { fin: false, mask: false });
      const next = frame(0x0, oneByte, { fin: false, mask: false });
      await floodFor(socket, () => (count++ === 0 ? first : next), FLOOD_MS);
      return { sent: `${count.toLocaleString('en-US')} fragments`, bytes: count * next.length };
    },
  },
  {
    name: '1,000,000 pings, attacker never reads',
    options: NO_DEFLATE,
    async run(socket) {
      socket.pause();
      const ping = frame(0x9, pingPayload, { mask: false });
      let count = 0;
      await floodFor(
        socket,
        () => {
          if (count >= 1_000_000) return null;
          count++;
          return ping;
        },
        FLOOD_MS,
      );
      return { sent: `${count.toLocaleString('en-US')} pings`, bytes: count * ping.length };
    },
  },
  {
    name: 'corrupt compressed data',
    extensions: 'permessage-deflate',
    options: { wskit: {}, ws: {} },
    async run(socket) {
      const bytes = frame(0x1, corrupt, { rsv1: true, mask: false });
      socket.write(bytes);
      await Promise.race([
        new Promise((resolve) => socket.once('close', resolve)),
        sleep(FLOOD_MS),
      ]);
      return { sent: '1 frame', bytes: bytes.length };
    },
  },
];

async function clientAttack(attack: ClientAttack, library: Library): Promise<Result> {
  let upgraded: (socket: Socket) => void = () => {};
  const socketReady = new Promise<Socket>((resolve) => {
    upgraded = resolve;
  });
  const raw = await rawServer((socket) => upgraded(socket), attack.extensions);
  const t = new Timed({
    role: 'client',
    library,
    url: `ws://127.0.0.1:${raw.port}/`,
    options: attack.options[library],
  });
  try {
    await t.target.waitFor((m) => m.type === 'open', 10_000, 'open');
    const socket = await socketReady;
    const before = await t.target.memory();
    const started = performance.now();
    const { sent, bytes } = await attack.run(socket);
    const ended = performance.now();
    socket.destroy();
    const base = { attack: attack.name, side: 'client' as const, library, sent, sentBytes: bytes };
    return await conclude(t, base, started, ended, before.heapUsed, findClose(raw.received()));
  } finally {
    await t.target.stop();
    raw.server.close();
  }
}

// -- run and report -----------------------------------------------------------------------------

async function attempt(what: string, run: () => Promise<Result | Result[]>): Promise<Result[]> {
  const t0 = Date.now();
  try {
    const r = await run();
    if (!json) console.error(`hostile: ${what} (${Date.now() - t0} ms)`);
    return Array.isArray(r) ? r : [r];
  } catch (error) {
    errors.push(`${what}: ${(error as Error).message}`);
    return [];
  }
}

const json = process.argv.includes('--json');

async function main(): Promise<void> {
  const started = Date.now();
  const results: Result[] = [];
  for (const attack of SERVER_ATTACKS)
    for (const library of LIBRARIES)
      results.push(
        ...(await attempt(`${attack.name}, ${library} server`, () =>
          serverAttack(attack, library),
        )),
      );
  for (const attack of CLIENT_ATTACKS)
    for (const library of LIBRARIES)
      results.push(
        ...(await attempt(`${attack.name}, ${library} client`, () =>
          clientAttack(attack, library),
        )),
      );
  // Slow loris mostly waits: both libraries at once.
  results.push(
    ...(await attempt('slow loris, both servers', () => Promise.all(LIBRARIES.map(slowLoris)))),
  );
  const bigHeaders = ['--max-http-header-size=2097152'];
  for (const library of LIBRARIES) {
    results.push(
      ...(await attempt(`protocol tokens 15 KB, ${library}`, () =>
        protocolTokens(library, 15_000, 20, []),
      )),
    );
    results.push(
      ...(await attempt(`protocol tokens 1 MiB, ${library}`, () =>
        protocolTokens(library, MiB, 3, bigHeaders),
      )),
    );
  }
  const report = {
    heapMiB: HEAP_MIB,
    floodMs: FLOOD_MS,
    seconds: (Date.now() - started) / 1000,
    results,
    errors,
    table: formatTable(results),
  };
  if (json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } else {
    console.log(report.table);
    console.log(JSON.stringify({ ...report, table: undefined }, null, 2));
  }
}

const fmt = (n: number | null | undefined, digits = 1): string =>
  n === null || n === undefined
    ? '-'
    : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function formatBytes(bytes: number): string {
  if (bytes >= MiB) return `${fmt(bytes / MiB)} MiB`;
  if (bytes >= 1024) return `${fmt(bytes / 1024)} KiB`;
  return `${bytes} B`;
}

/** The comparison as a Markdown table, one row per attack, side and library. */
export function formatTable(results: Result[]): string {
  const head = [
    'attack',
    'side',
    'library',
    'outcome',
    'time to close',
    'peak RSS MiB',
    'heap growth MiB',
    'attacker sent',
  ];
  const rows = results.map((r) => [
    r.attack,
    r.side,
    r.library,
    r.cpuMsPerHandshake !== undefined
      ? `${r.outcome}; ${fmt(r.cpuMsPerHandshake, 1)} ms CPU per handshake`
      : r.reason
        ? `${r.outcome} "${r.reason}"`
        : r.outcome,
    r.cpuMsPerHandshake !== undefined
      ? `${r.closeMs} ms per handshake`
      : r.closeMs === null
        ? '-'
        : `${r.closeMs} ms`,
    fmt(r.peakRssMiB),
    fmt(r.heapGrowthMiB),
    `${r.sent} (${formatBytes(r.sentBytes)})`,
  ]);
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [
    `Hostile peers (target in a child process, ${HEAP_MIB} MiB heap, default options; floods ` +
      `stop after ${FLOOD_MS / 1000} s, slow loris after ${LORIS_MS / 1000} s)`,
    '',
    line(head),
    line(head.map(() => '---')),
    ...rows.map(line),
  ].join('\n');
}

main().catch((error) => {
  errors.push(String(error));
  process.stdout.write(`${JSON.stringify({ results: [], errors, table: '' })}\n`);
});
