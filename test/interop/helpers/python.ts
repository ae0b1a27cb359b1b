/**
 * Runs the Python `websockets` scripts of test/interop/python with the system interpreter
 * (/usr/bin/python3: a pyenv `python3` on PATH may lack the module).
 */
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { AsyncQueue } from './peers.js';

export const PYTHON = process.env.WSKIT_PYTHON ?? '/usr/bin/python3';
const SCRIPTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'python');

/** The websockets version, or why the suite cannot run. */
export function probePythonWebsockets(): { version: string } | { skip: string } {
  const result = spawnSync(PYTHON, ['-c', 'import websockets; print(websockets.__version__)'], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  if (result.error) return { skip: `${PYTHON} cannot be run (${result.error.message})` };
  if (result.status !== 0) {
    const detail = result.stderr.trim().split('\n').pop();
    return {
      skip: `the Python "websockets" module is missing for ${PYTHON} (apt-get install python3-websockets)${detail ? `: ${detail}` : ''}`,
    };
  }
  return { version: result.stdout.trim() };
}

/** What the echo server prints when a connection has ended. */
export interface PythonConnectionReport {
  event: 'closed';
  path: string;
  subprotocol: string | null;
  header: string | null;
  close_code: number | null;
  close_reason: string | null;
  error: string | null;
}

export interface PythonServer {
  url: string;
  version: string;
  /** One report per finished connection, in the order they finished. */
  reports: AsyncQueue<PythonConnectionReport>;
  stop(): Promise<void>;
}

/** Stops a child process and waits for it to exit. */
async function stopChild(child: ChildProcessWithoutNullStreams): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

/** Starts echo_server.py and waits for the port it prints. */
export async function startPythonServer(args: string[] = []): Promise<PythonServer> {
  const child = spawn(PYTHON, ['-B', '-u', join(SCRIPTS, 'echo_server.py'), ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const lines = new AsyncQueue<Record<string, unknown>>();
  createInterface({ input: child.stdout }).on('line', (line) => {
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      lines.push({ event: 'garbage', line });
    }
  });
  child.on('exit', (code, signal) =>
    lines.end(new Error(`echo_server.py exited (${code ?? signal}): ${stderr}`)),
  );
  try {
    const first = await lines.next();
    if (first.event !== 'listening' || typeof first.port !== 'number') {
      throw new Error(`unexpected first line from echo_server.py: ${JSON.stringify(first)}`);
    }
    const reports = new AsyncQueue<PythonConnectionReport>();
    void (async () => {
      for (;;) reports.push((await lines.next()) as unknown as PythonConnectionReport);
    })().catch((error: Error) => reports.end(error));
    return {
      url: `ws://127.0.0.1:${first.port}`,
      version: String(first.version),
      reports,
      stop: () => stopChild(child),
    };
  } catch (error) {
    await stopChild(child);
    throw error;
  }
}

/** The JSON summary client.py prints. */
export interface PythonClientSummary {
  ok: boolean;
  version: string;
  subprotocol: string | null;
  echoed: number;
  pipelined: number;
  ping: boolean;
  fragmented: string | null;
  failures: string[];
  close_code: number | null;
  close_reason: string | null;
  error: string | null;
}

/** Runs client.py against `url` and returns its summary; the child is killed after `timeoutMs`. */
export async function runPythonClient(
  url: string,
  args: string[],
  timeoutMs = 8000,
): Promise<PythonClientSummary> {
  const child = spawn(PYTHON, ['-B', '-u', join(SCRIPTS, 'client.py'), url, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    // 'close' comes after the process exited and its output pipes were drained.
    const [code, signal] = (await once(child, 'close')) as [number | null, string | null];
    if (code !== 0) {
      throw new Error(
        `client.py exited with ${code ?? signal}\nstdout: ${stdout}\nstderr: ${stderr}`,
      );
    }
    const line = stdout.trim().split('\n').pop() ?? '';
    return JSON.parse(line) as PythonClientSummary;
  } finally {
    clearTimeout(timer);
    await stopChild(child);
  }
}
