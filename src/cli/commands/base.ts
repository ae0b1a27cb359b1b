/**
 * What every wskit command is: a name, its options and help text, and a function from parsed
 * arguments to an exit status. {@link runCommand} does the parsing and `--help` for all of them.
 */
import { formatOptions, type OptionSpec, type ParsedArgs, readOptions } from '../args.js';
import type { Io } from '../io.js';

/** One command of the `wskit` command line. */
export interface Command {
  /** As typed after `wskit` ("connect"); empty for `wskit` with no command. */
  readonly name: string;
  readonly options: readonly OptionSpec[];
  /** The help text: usage, a description, `{options}` where the option table goes, examples. */
  readonly help: string;
  /** Runs the command; resolves the exit status (0 success, 1 failure, 2 bad usage). */
  run(args: ParsedArgs, io: Io): Promise<number>;
}

/** The `-h, --help` option every command has. */
export const HELP_OPTION: OptionSpec = {
  name: 'help',
  short: 'h',
  kind: 'flag',
  help: 'show this help',
};

/** The help text of `command`, with its option table filled in. */
export function helpText(command: Command): string {
  return command.help.replace('{options}', formatOptions(command.options));
}

/** Parses `argv` for `command`, prints its help for `--help`, else runs it. */
export async function runCommand(
  command: Command,
  argv: readonly string[],
  io: Io,
): Promise<number> {
  const args = readOptions(argv, command.options, command.name);
  if (args.flag('help')) {
    io.stdout.write(`${helpText(command)}\n`);
    return 0;
  }
  return command.run(args, io);
}
