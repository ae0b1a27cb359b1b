/**
 * The `wskit` command: `connect`, `serve`, `bench`, and with no arguments a local echo server
 * with an interactive session to it. bin/wskit.js calls {@link run}.
 */
import { readFileSync } from 'node:fs';
import { WebSocketServer } from '../index.js';
import { parseArgs, UsageError } from './args.js';
import { benchCommand } from './bench.js';
import { connectCommand, DISPLAY_OPTIONS, displayOf } from './connect.js';
import { type Io, printError, processIo } from './io.js';
import { closeServer, echoMessages, listening, serveCommand } from './serve.js';
import { runSession } from './session.js';

/** Where the package's files are, to read its version (bin/wskit.js passes `../package.json`). */
export interface MainContext {
  /** URL or path of the package.json whose `version` `--version` prints. */
  packageJson: URL | string;
}

const COMMANDS = ['connect', 'serve', 'bench', 'help'] as const;

function help(version: string): string {
  return `wskit ${version}: WebSocket client, server and benchmark

Usage:
  wskit                         local echo server and an interactive session to it
  wskit connect <url> [options] talk to a WebSocket server (interactive, piped or --execute)
  wskit serve [options]         run an echo or broadcast server
  wskit bench <url> [options]   measure throughput and latency (--local: against itself)
  wskit <command> --help        options of a command
  wskit --version               print the version

Examples:
  wskit connect ws://127.0.0.1:8080/chat --protocol chat.v1
  wskit serve --port 0 --broadcast
  wskit bench --local -c 10 -n 1000 -s 64`;
}

function readVersion(context: MainContext): string {
  try {
    const text = readFileSync(context.packageJson, 'utf8');
    const { version } = JSON.parse(text) as { version?: unknown };
    return typeof version === 'string' ? version : 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * No arguments: starts an echo server on 127.0.0.1 (a free port) and a session to it, so that
 * `wskit` works without a network. Accepts the display options of `connect`.
 */
async function demo(argv: readonly string[], io: Io): Promise<number> {
  const args = parseArgs(argv, DISPLAY_OPTIONS, '');
  if (args.positionals.length > 0) {
    const first = args.positionals[0]!;
    const hint = first.includes('://') ? `; did you mean "wskit connect ${first}"?` : '';
    throw new UsageError(`unknown command "${first}"${hint}; see "wskit --help"`);
  }
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: true });
  echoMessages(server);
  const { port } = await listening(server);
  const url = `ws://127.0.0.1:${port}/`;
  io.stdout.write(
    `wskit: no URL given: talking to a local echo server at ${url} (wskit --help for more)\n`,
  );
  try {
    return await runSession(io, {
      url,
      protocols: [],
      socket: { proxy: false },
      ...displayOf(args, io),
      execute: [],
      waitMs: 500,
    });
  } finally {
    await closeServer(server, 1000);
  }
}

/**
 * Runs the wskit command line with `argv` (the arguments after `wskit`); resolves the exit
 * status: 0 success, 1 failure, 2 bad usage. Usage errors are printed as one line on stderr.
 */
export async function main(
  argv: readonly string[],
  context: MainContext,
  io: Io = processIo(),
): Promise<number> {
  const [first, ...rest] = argv;
  try {
    if (first === '--version' || first === '-v' || first === '-V') {
      io.stdout.write(`${readVersion(context)}\n`);
      return 0;
    }
    if (first === '--help' || first === '-h') {
      io.stdout.write(`${help(readVersion(context))}\n`);
      return 0;
    }
    switch (first) {
      case 'connect':
        return await connectCommand(rest, io);
      case 'serve':
        return await serveCommand(rest, io);
      case 'bench':
        return await benchCommand(rest, io);
      case 'help': {
        const topic = rest[0];
        if (topic === undefined) {
          io.stdout.write(`${help(readVersion(context))}\n`);
          return 0;
        }
        if (topic === 'connect' || topic === 'serve' || topic === 'bench')
          return await main([topic, '--help'], context, io);
        throw new UsageError(`no help for "${topic}": the commands are ${COMMANDS.join(', ')}`);
      }
      default:
        if (first !== undefined && !first.startsWith('-')) {
          const hint = first.includes('://') ? `; did you mean "wskit connect ${first}"?` : '';
          throw new UsageError(
            `unknown command "${first}"${hint}; the commands are connect, serve and bench (see "wskit --help")`,
          );
        }
        return await demo(argv, io);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      printError(io, error.message);
      return 2;
    }
    printError(
      io,
      `unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    return 1;
  }
}

/**
 * Entry point of bin/wskit.js: runs {@link main} with the process's streams, then exits with its
 * status once stdout and stderr are flushed (a half-closed socket cannot keep the process alive).
 */
export async function run(argv: readonly string[], context: MainContext): Promise<void> {
  const quietPipe = (error: NodeJS.ErrnoException) => {
    // `wskit ... | head`: the reader went away; nothing more to say.
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  };
  process.stdout.on('error', quietPipe);
  const status = await main(argv, context);
  process.exitCode = status;
  const flush = (stream: NodeJS.WriteStream) =>
    new Promise<void>((resolve) => {
      if (stream.writableLength === 0) resolve();
      else stream.write('', () => resolve());
    });
  await Promise.all([flush(process.stdout), flush(process.stderr)]);
  process.exit(status);
}
