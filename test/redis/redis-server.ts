/**
 * A real Redis for the tests: Debian's redis-server on a free 127.0.0.1 port with persistence
 * off, stopped after the test; and a TCP relay in front of it that a test can cut and restore.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import type { TestContext } from 'node:test';

export const REDIS_SERVER = '/usr/bin/redis-server';

/** Skips the test (saying why) when redis-server is not installed; true when it is. */
export function haveRedis(t: TestContext): boolean {
  if (existsSync(REDIS_SERVER)) return true;
  t.skip(`${REDIS_SERVER} is not installed (apt-get install redis-server; .ci/run does it)`);
  return false;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** One redis-server process on `port`; `stop()` and `start()` again keep the port (a restart). */
export class RedisProcess {
  #child: ChildProcess | null = null;

  private constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts Redis on a free port; it is stopped when the test ends, pass or fail. */
  static async start(t: TestContext): Promise<RedisProcess> {
    const redis = new RedisProcess(await freePort());
    t.after(() => redis.stop());
    await redis.start();
    return redis;
  }

  /** Starts (or restarts) the process and resolves once it accepts connections. */
  async start(): Promise<void> {
    if (this.#child) throw new Error('redis-server is already running');
    const child = spawn(
      REDIS_SERVER,
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--daemonize',
        'no',
        '--loglevel',
        'notice',
        '--logfile',
        '',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.#child = child;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`redis-server did not get ready within 10 s: ${output}`));
      }, 10_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (!output.includes('Ready to accept connections')) return;
        clearTimeout(timer);
        child.stdout!.removeListener('data', onData);
        child.stdout!.resume();
        resolve();
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      child.once('exit', () => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited: ${output}`));
      });
    });
  }

  /** Stops the process (SIGKILL: an abrupt loss, nothing saved) and waits for its exit. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    this.#child = null;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  }
}

/**
 * A TCP relay to Redis that a test controls: `cut()` drops every relayed connection and refuses
 * new ones until `restore()`.
 */
export class RedisRelay {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #open = true;

  private constructor(
    readonly target: number,
    server: Server,
  ) {
    this.#server = server;
  }

  get url(): string {
    return `redis://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  static async start(t: TestContext, target: number): Promise<RedisRelay> {
    const server = createServer();
    const relay = new RedisRelay(target, server);
    server.on('connection', (socket) => relay.#relay(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => relay.close());
    return relay;
  }

  #relay(socket: Socket): void {
    socket.on('error', () => {});
    if (!this.#open) {
      socket.destroy();
      return;
    }
    const upstream = connect({ host: '127.0.0.1', port: this.target });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
    socket.on('close', () => upstream.destroy());
    upstream.on('close', () => socket.destroy());
    socket.pipe(upstream);
    upstream.pipe(socket);
    this.#sockets.add(socket);
    this.#sockets.add(upstream);
    socket.on('close', () => this.#sockets.delete(socket));
    upstream.on('close', () => this.#sockets.delete(upstream));
  }

  /** Drops every relayed connection and refuses new ones. */
  cut(): void {
    this.#open = false;
    for (const socket of this.#sockets) socket.destroy();
  }

  /** Accepts connections again. */
  restore(): void {
    this.#open = true;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
