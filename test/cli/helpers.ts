/**
 * Helpers for the command-line tests: the `wskit` command run as a user runs it (`node
 * bin/wskit.js`, from the built dist/), with output collected and waited on; servers on
 * 127.0.0.1 port 0; a throw-away TLS certificate; tmux sessions for a real terminal. Everything
 * started is registered with a {@link Cleanup} and stopped in `finally`.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type BinaryType,
  type WebSocket,
  WebSocketServer,
  type WebSocketServerOptions,
} from '../../src/index.js';
import { CLI_WAIT_MS } from '../support/timeouts.js';
import { opensslMissing, writeCertificateFiles } from '../support/tls.js';

/** The repository root. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The command, as package.json's "bin" names it. */
export const BIN = join(ROOT, 'bin', 'wskit.js');
/** Options of every test: a hard bound on its duration. */
export const T = { timeout: 30_000 };

/** `HH:MM:SS.mmm`, as the CLI stamps its lines. */
export const STAMP = String.raw`\d\d:\d\d:\d\d\.\d\d\d`;

/** Fails at once, with what to do, when dist/ has not been built. */
export function requireBuild(): void {
  if (!existsSync(join(ROOT, 'dist', 'esm', 'cli', 'main.js'))) {
    throw new Error('dist/esm/cli/main.js is missing: run "npm run build" before these tests');
  }
}

/** Cleanup tasks, run in reverse order; failures are swallowed so they cannot hide the test's. */
export class Cleanup {
  #tasks: Array<() => unknown> = [];

  add(task: () => unknown): void {
    this.#tasks.push(task);
  }

  async run(): Promise<void> {
    const tasks = this.#tasks.reverse();
    this.#tasks = [];
    for (const task of tasks) {
      try {
        await task();
      } catch {
        // keep going
      }
    }
  }
}

/** The environment of the CLI in tests: no proxies from the outside, no colours. */
function cliEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...extra };
  for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'ALL_PROXY']) {
    delete env[name];
  }
  return env;
}

/** How a child process ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running `wskit` process with its output collected. */
export class Cli {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<Exit>;
  #waiters: Array<() => void> = [];
  #closed = false;

  constructor(args: readonly string[], cleanup: Cleanup, env?: NodeJS.ProcessEnv) {
    requireBuild();
    this.child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: cliEnv(env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
      this.#notify();
    });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
      this.#notify();
    });
    this.child.stdin!.on('error', () => {});
    this.exited = new Promise((resolve) => {
      this.child.on('close', (code, signal) => {
        this.#closed = true;
        this.#notify();
        resolve({ code, signal });
      });
    });
    cleanup.add(() => {
      if (this.child.exitCode === null && this.child.signalCode === null)
        this.child.kill('SIGKILL');
    });
  }

  #notify(): void {
    for (const waiter of this.#waiters.splice(0)) waiter();
  }

  /** Resolves with the first match of `pattern` in stdout (or stderr), waiting at most `ms`. */
  async waitFor(
    pattern: RegExp,
    stream: 'stdout' | 'stderr' = 'stdout',
    ms = CLI_WAIT_MS,
  ): Promise<RegExpMatchArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      const match = this[stream].match(pattern);
      if (match) return match;
      const left = deadline - Date.now();
      if (left <= 0 || this.#closed) {
        const when = this.#closed ? 'before wskit exited' : `within ${ms} ms`;
        throw new Error(`no ${pattern} on ${stream} ${when}\n${this.output}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Resolves with the exit, or fails after `ms` (the process is killed in cleanup). */
  async exit(ms = CLI_WAIT_MS): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `wskit did not exit within ${ms} ms\n--- stdout:\n${this.stdout}\n--- stderr:\n${this.stderr}`,
            ),
          ),
        ms,
      );
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  write(text: string): void {
    this.child.stdin!.write(text);
  }

  end(text?: string): void {
    this.child.stdin!.end(text);
  }

  /** Text of both streams, for assertion messages. */
  get output(): string {
    return `--- stdout:\n${this.stdout}\n--- stderr:\n${this.stderr}`;
  }
}

/** Runs `wskit args` to completion with `input` on stdin (closed at once when absent). */
export async function runCli(
  args: readonly string[],
  cleanup: Cleanup,
  options: { input?: string; ms?: number } = {},
): Promise<Cli & { status: Exit }> {
  const cli = new Cli(args, cleanup);
  cli.end(options.input ?? '');
  const status = await cli.exit(options.ms);
  return Object.assign(cli, { status });
}

/** A wskit server on 127.0.0.1, a free port; closed at cleanup. */
export async function startServer(
  cleanup: Cleanup,
  options: Omit<WebSocketServerOptions, 'port' | 'host'> = {},
  onConnection?: (ws: WebSocket, path: string) => void,
): Promise<{ server: WebSocketServer<BinaryType>; port: number; url: string }> {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', ...options });
  cleanup.add(
    () =>
      new Promise<void>((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  );
  if (onConnection) server.on('connection', (ws, request) => onConnection(ws, request.url ?? '/'));
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  return { server, port, url: `ws://127.0.0.1:${port}/` };
}

/** An echo server (see {@link startServer}). */
export function startEchoServer(
  cleanup: Cleanup,
  options: Omit<WebSocketServerOptions, 'port' | 'host'> = {},
): ReturnType<typeof startServer> {
  return startServer(cleanup, options, (ws) => {
    ws.onmessage = (event) => ws.send(event.data as string);
  });
}

/** A port nothing listens on (bound and released; nobody else takes it in the meantime). */
export function unusedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Whether the openssl CLI is there (the TLS tests are skipped without it). */
export const hasOpenssl = opensslMissing === undefined;

/** The shared self-signed certificate as files in a temporary directory (removed at cleanup). */
export function makeCertificate(cleanup: Cleanup): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'wskit-cli-tls-'));
  cleanup.add(() => rmSync(dir, { recursive: true, force: true }));
  return writeCertificateFiles(dir);
}

/** Whether tmux is there (the terminal tests are skipped without it). */
export const hasTmux = spawnSync('tmux', ['-V']).status === 0;

/**
 * A tmux session on a server of its own (`-S`, no user configuration) running `command` in a
 * real terminal of 120x30; `[exit N]` is printed when the command ends, and the pane stays.
 */
export class Tmux {
  /** The server's socket, in a temporary directory removed at cleanup. */
  readonly socket: string;
  readonly name = 'cli';

  constructor(command: readonly string[], cleanup: Cleanup) {
    const dir = mkdtempSync(join(tmpdir(), 'wskit-cli-tmux-'));
    this.socket = join(dir, 'socket');
    cleanup.add(() => rmSync(dir, { recursive: true, force: true }));
    cleanup.add(() => this.#tmux('kill-server'));
    const quoted = command.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    this.#tmux(
      'new-session',
      '-d',
      '-s',
      this.name,
      '-x',
      '120',
      '-y',
      '30',
      '-c',
      ROOT,
      `env -u HTTP_PROXY -u HTTPS_PROXY -u http_proxy -u https_proxy ${quoted}; echo "[exit $?]"; sleep 60`,
    );
  }

  #tmux(...args: string[]): string {
    return execFileSync('tmux', ['-S', this.socket, '-f', '/dev/null', ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }

  /** Types `keys` (tmux key names such as `Enter` and `C-d` are keys, the rest literal text). */
  send(...keys: string[]): void {
    this.#tmux('send-keys', '-t', this.name, ...keys);
  }

  /** The visible screen, as text. */
  screen(): string {
    return this.#tmux('capture-pane', '-p', '-t', this.name);
  }

  /** Resolves with the screen once `pattern` appears on it, polling for at most `ms`. */
  async waitFor(pattern: RegExp, ms = CLI_WAIT_MS): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const screen = this.screen();
      if (pattern.test(screen)) return screen;
      if (Date.now() > deadline) {
        assert.fail(`no ${pattern} on the terminal within ${ms} ms; the screen:\n${screen}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** The command that runs wskit in a tmux pane. */
export function wskitCommand(...args: string[]): string[] {
  requireBuild();
  return [process.execPath, BIN, ...args];
}
