/**
 * `wskit` with no command: an echo server on 127.0.0.1 (a free port) and a session to it, so
 * that `npx wskit` works without a network.
 */
import { WebSocketServer } from '../../index.js';
import { type OptionSpec, type ParsedArgs, UsageError } from '../args.js';
import type { Io } from '../io.js';
import { closeServer, echoMessages, listening } from '../local-server.js';
import { runSession } from '../session/session.js';
import { type Command, HELP_OPTION } from './base.js';
import { DISPLAY_OPTIONS, displayOf } from './client-options.js';

const OPTIONS: readonly OptionSpec[] = [...DISPLAY_OPTIONS, HELP_OPTION];

async function local(args: ParsedArgs, io: Io): Promise<number> {
  if (args.positionals.length > 0) {
    const first = args.positionals[0]!;
    const hint = first.includes('://') ? `; did you mean "wskit connect ${first}"?` : '';
    throw new UsageError(`unknown command "${first}"${hint}; see "wskit --help"`);
  }
  const display = displayOf(args, io);
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: true });
  echoMessages(server);
  const { port } = await listening(server);
  const url = `ws://127.0.0.1:${port}/`;
  // A status line: on stderr when stdout carries only messages.
  (display.raw ? io.stderr : io.stdout).write(
    `wskit: no URL given: talking to a local echo server at ${url} (wskit --help for more)\n`,
  );
  try {
    return await runSession(io, {
      url,
      protocols: [],
      socket: { proxy: false },
      ...display,
      binaryInput: null,
      execute: [],
      waitMs: 500,
    });
  } finally {
    await closeServer(server, 1000);
  }
}

const HELP = `Usage: wskit [options]

Starts an echo server on 127.0.0.1 (a free port) and a session to it, as
"wskit connect" has it: try messages and the slash commands without a network.
"wskit --help" lists the commands.

Options:
{options}`;

/** `wskit` alone. */
export const localCommand: Command = {
  name: '',
  options: OPTIONS,
  help: HELP,
  run: local,
};
