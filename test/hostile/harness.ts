// Runs a WebSocket endpoint in a child process with a small heap (test/hostile/target.mjs) and
// gives the attacker raw sockets and frames, so each attack can be checked for what matters: the
// offender is closed with a specific code and the process survives with bounded memory.
import { type ChildProcess, fork } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';

/** Heap given to the endpoint under attack, in MiB. */
export const HEAP_MIB = 64;

/** What the target process reported. */
export interface TargetMessage {
  type: string;
  port?: number;
  code?: string | number | null;
  closeCode?: number | null;
  message?: string;
  reason?: string;
  rss?: number;
  heapUsed?: number;
  /** Peak resident set size of the process so far, in bytes (memory reports). */
  maxRss?: number;
  /** User + system CPU time of the process so far, in microseconds (cpu reports). */
  cpuMicros?: number;
}

/** Configuration of the target process (see target.mjs). */
export interface TargetConfig {
  role: 'server' | 'client';
  library: 'wskit' | 'ws';
  options?: Record<string, unknown>;
  url?: string;
  sendOnOpen?: { size: number; count: number };
}

/** A WebSocket endpoint in a child process. */
export class Target {
  readonly messages: TargetMessage[] = [];
  readonly child: ChildProcess;
  #waiters: Array<() => void> = [];
  exitCode: number | null = null;
  exitSignal: NodeJS.Signals | null = null;

  /**
   * `script`: the endpoint program beside this file (target.mjs, or incore-target.mjs);
   * `nodeArgs`: more Node flags for it (the benchmark raises `--max-http-header-size`).
   */
  constructor(
    config: TargetConfig | Record<string, unknown>,
    script = 'target.mjs',
    nodeArgs: readonly string[] = [],
  ) {
    const path = fileURLToPath(new URL(`./${script}`, import.meta.url));
    this.child = fork(path, [JSON.stringify(config)], {
      execArgv: [`--max-old-space-size=${HEAP_MIB}`, '--expose-gc', ...nodeArgs],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    this.child.stderr?.resume();
    this.child.on('message', (message: TargetMessage) => {
      this.messages.push(message);
      this.#wake();
    });
    this.child.on('exit', (code, signal) => {
      this.exitCode = code;
      this.exitSignal = signal;
      this.#wake();
    });
  }

  /** Whether the process is still running. */
  get alive(): boolean {
    return this.exitCode === null && this.exitSignal === null;
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /** The first message that matches, waiting up to `ms`; throws with the log on timeout. */
  async waitFor(
    match: (m: TargetMessage) => boolean,
    ms: number,
    what: string,
  ): Promise<TargetMessage> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.messages.find(match);
      if (found) return found;
      if (!this.alive) {
        throw new Error(
          `the target exited (${this.exitCode ?? this.exitSignal}) before ${what}; it said ${JSON.stringify(this.messages)}`,
        );
      }
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `no ${what} within ${ms} ms; the target said ${JSON.stringify(this.messages)}`,
        );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The port a server target listens on. */
  async port(): Promise<number> {
    const m = await this.waitFor((x) => x.type === 'listening', 10_000, 'listening');
    return m.port!;
  }

  /** The target's memory after a garbage collection, and its peak RSS so far. */
  async memory(): Promise<{ rss: number; heapUsed: number; maxRss: number }> {
    const m = await this.#ask('memory', 'a memory report');
    return { rss: m.rss!, heapUsed: m.heapUsed!, maxRss: m.maxRss! };
  }

  /** The target's user + system CPU time so far, in microseconds. */
  async cpu(): Promise<number> {
    return (await this.#ask('cpu', 'a CPU report')).cpuMicros!;
  }

  async #ask(type: string, what: string): Promise<TargetMessage> {
    const before = this.messages.length;
    this.child.send({ type });
    return this.waitFor((x) => x.type === type && this.messages.indexOf(x) >= before, 10_000, what);
  }

  /** Ends the process. */
  async stop(): Promise<void> {
    if (!this.alive) return;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGKILL');
    await exited;
  }
}

/** A masked client frame (or an unmasked server frame with `mask: false`). */
export function frame(
  opcode: number,
  payload: Uint8Array,
  options: { fin?: boolean; rsv1?: boolean; mask?: boolean } = {},
): Buffer {
  const { fin = true, rsv1 = false, mask = true } = options;
  const length = payload.length;
  const extended = length < 126 ? 0 : length < 65536 ? 2 : 8;
  const head = Buffer.alloc(2 + extended + (mask ? 4 : 0));
  head[0] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
  const lengthCode = extended === 0 ? length : extended === 2 ? 126 : 127;
  head[1] = (mask ? 0x80 : 0) | lengthCode;
  if (extended === 2) head.writeUInt16BE(length, 2);
  if (extended === 8) head.writeBigUInt64BE(BigInt(length), 2);
  if (!mask) return Buffer.concat([head, payload]);
  const key = randomBytes(4);
  key.copy(head, 2 + extended);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i]! ^= key[i & 3]!;
  return Buffer.concat([head, body]);
}

/** The close code and reason in the first close frame of the bytes, if any. */
export function findClose(bytes: Buffer): { code: number; reason: string } | null {
  let at = 0;
  while (at + 2 <= bytes.length) {
    const opcode = bytes[at]! & 0x0f;
    const masked = (bytes[at + 1]! & 0x80) !== 0;
    let length = bytes[at + 1]! & 0x7f;
    let offset = at + 2;
    if (length === 126) {
      if (offset + 2 > bytes.length) return null;
      length = bytes.readUInt16BE(offset);
      offset += 2;
    } else if (length === 127) {
      if (offset + 8 > bytes.length) return null;
      length = Number(bytes.readBigUInt64BE(offset));
      offset += 8;
    }
    const key = masked ? bytes.subarray(offset, offset + 4) : null;
    if (masked) offset += 4;
    if (offset + length > bytes.length) return null;
    if (opcode === 0x8) {
      const body = Buffer.from(bytes.subarray(offset, offset + length));
      if (key) for (let i = 0; i < body.length; i++) body[i]! ^= key[i & 3]!;
      return {
        code: body.length >= 2 ? body.readUInt16BE(0) : 1005,
        reason: body.subarray(2).toString('utf8'),
      };
    }
    at = offset + length;
  }
  return null;
}

/** A raw client after a successful upgrade: the socket and everything it has received. */
export interface RawClient {
  socket: Socket;
  /** Bytes received after the 101 head. */
  received: () => Buffer;
  /** Resolves when the socket closes. */
  closed: Promise<void>;
}

/** Opens a TCP connection and completes a WebSocket upgrade by hand. */
export async function rawUpgrade(
  port: number,
  headers: Record<string, string> = {},
): Promise<RawClient> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await once(socket, 'connect');
  const key = randomBytes(16).toString('base64');
  const lines = [
    'GET / HTTP/1.1',
    `Host: 127.0.0.1:${port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${key}`,
    'Sec-WebSocket-Version: 13',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  const chunks: Buffer[] = [];
  let headDone = false;
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      if (headDone) return;
      const all = Buffer.concat(chunks);
      const end = all.indexOf('\r\n\r\n');
      if (end < 0) return;
      headDone = true;
      const head = all.subarray(0, end).toString('latin1');
      chunks.length = 0;
      chunks.push(all.subarray(end + 4));
      if (!head.startsWith('HTTP/1.1 101')) reject(new Error(`upgrade refused: ${head}`));
      else resolve();
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error('closed during the handshake')));
  });
  return { socket, received: () => Buffer.concat(chunks), closed };
}

/** Sends the HTTP head of an upgrade request and returns the socket, for handshake attacks. */
export async function rawConnect(
  port: number,
): Promise<{ socket: Socket; closed: Promise<string> }> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await once(socket, 'connect');
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  const closed = new Promise<string>((resolve) =>
    socket.once('close', () => resolve(Buffer.concat(chunks).toString('latin1'))),
  );
  return { socket, closed };
}

/** A raw server that completes one upgrade by hand and hands the socket to `attack`. */
export async function rawServer(
  attack: (socket: Socket) => void,
  extensions?: string,
): Promise<{ port: number; server: Server; closed: Promise<void>; received: () => Buffer }> {
  const chunks: Buffer[] = [];
  let resolveClosed: () => void = () => {};
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });
  const server = createServer((socket) => {
    socket.on('error', () => {});
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.removeListener('data', onData);
      const text = head.subarray(0, end).toString('latin1');
      const key = /sec-websocket-key:\s*(\S+)/i.exec(text)?.[1] ?? '';
      const accept = createHash('sha1')
        .update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
        .digest('base64');
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Accept: ${accept}\r\n` +
          (extensions ? `Sec-WebSocket-Extensions: ${extensions}\r\n` : '') +
          '\r\n',
      );
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.once('close', () => resolveClosed());
      attack(socket);
    };
    socket.on('data', onData);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { port, server, closed, received: () => Buffer.concat(chunks) };
}

/**
 * Writes `next()` frames as fast as the socket takes them until `next` returns null, the socket
 * closes, or `ms` pass; resolves with how many frames were written.
 */
export function flood(socket: Socket, next: () => Buffer | null, ms: number): Promise<number> {
  return new Promise((resolve) => {
    let count = 0;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.removeListener('drain', pump);
      resolve(count);
    };
    const timer = setTimeout(finish, ms);
    const pump = () => {
      while (!done && !socket.destroyed) {
        const bytes = next();
        if (bytes === null) return finish();
        count++;
        if (!socket.write(bytes)) return;
      }
      if (socket.destroyed) finish();
    };
    socket.on('drain', pump);
    socket.once('close', finish);
    pump();
  });
}

/** A wskit server target; stopped after the file's tests. */
export async function serverTarget(
  targets: Target[],
  options: Record<string, unknown> = {},
): Promise<{ target: Target; port: number }> {
  const target = new Target({ role: 'server', library: 'wskit', options });
  targets.push(target);
  return { target, port: await target.port() };
}

/** The target process still runs and its heap in use stays well under its limit. */
export async function assertHealthy(target: Target): Promise<void> {
  if (!target.alive) throw new Error('the target process is no longer running');
  const { heapUsed } = await target.memory();
  if (heapUsed >= HEAP_MIB * 1024 * 1024 * 0.75) {
    throw new Error(`heap in use is not bounded: ${heapUsed} bytes`);
  }
}
