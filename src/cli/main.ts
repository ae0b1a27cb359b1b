/**
 * The `wskit` command: `connect`, `serve`, `bench`, and with no arguments a local echo server
 * with an interactive session to it. bin/wskit.js calls {@link run}.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from './args.js';
import { type Command, runCommand } from './commands/base.js';
import { benchCommand } from './commands/bench.js';
import { connectCommand } from './commands/connect.js';
import { localCommand } from './commands/local.js';
import { serveCommand } from './commands/serve.js';
import { type Io, printError, processIo } from './io.js';

/** Where the package's files are, to read its version (bin/wskit.js passes `../package.json`). */
export interface MainContext {
  /** URL or path of the package.json whose `version` `--version` prints. */
  packageJson: URL | string;
}

const COMMANDS: ReadonlyMap<string, Command> = new Map(
  [connectCommand, serveCommand, benchCommand].map((c) => [c.name, c]),
);

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
    const command = first === undefined ? undefined : COMMANDS.get(first);
    if (command) return await runCommand(command, rest, io);
    if (first === 'help') {
      const topic = rest[0];
      if (topic === undefined) {
        io.stdout.write(`${help(readVersion(context))}\n`);
        return 0;
      }
      if (COMMANDS.has(topic)) return await main([topic, '--help'], context, io);
      throw new UsageError(
        `no help for "${topic}": the commands are ${[...COMMANDS.keys(), 'help'].join(', ')}`,
      );
    }
    if (first !== undefined && !first.startsWith('-')) {
      const hint = first.includes('://') ? `; did you mean "wskit connect ${first}"?` : '';
      throw new UsageError(
        `unknown command "${first}"${hint}; the commands are connect, serve and bench (see "wskit --help")`,
      );
    }
    return await runCommand(localCommand, argv, io);
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
