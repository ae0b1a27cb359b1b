/** `wskit connect <url>`: a client session with a WebSocket server. */
import type { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import type { WebSocketOptions } from '../index.js';
import {
  formatOptions,
  numberOption,
  type OptionSpec,
  type ParsedArgs,
  parseArgs,
  UsageError,
} from './args.js';
import { type MessageFormat, useColor } from './format.js';
import type { Io } from './io.js';
import { type ExitStatus, runSession } from './session.js';

/** Options that change how messages are shown (shared with the no-argument demo). */
export const DISPLAY_OPTIONS: readonly OptionSpec[] = [
  { name: 'json', kind: 'flag', help: 'pretty-print received JSON messages' },
  { name: 'binary', kind: 'flag', help: 'show binary messages as a hex dump' },
  { name: 'no-color', kind: 'flag', help: 'no colours (also when NO_COLOR is set)' },
  { name: 'help', short: 'h', kind: 'flag', help: 'show this help' },
];

const CONNECT_OPTIONS: readonly OptionSpec[] = [
  { name: 'protocol', kind: 'list', value: '<p>', help: 'offer a subprotocol (repeatable)' },
  {
    name: 'header',
    short: 'H',
    kind: 'list',
    value: '"Name: value"',
    help: 'add a handshake request header (repeatable)',
  },
  { name: 'origin', kind: 'value', value: '<origin>', help: 'Origin header' },
  { name: 'insecure', kind: 'flag', help: "wss: don't verify the server's certificate" },
  {
    name: 'ca',
    kind: 'value',
    value: '<file>',
    help: 'wss: trust the CA certificate(s) in this PEM file',
  },
  {
    name: 'proxy',
    kind: 'value',
    value: '<url>',
    help: 'HTTP(S) proxy for a CONNECT tunnel (default: HTTPS_PROXY / HTTP_PROXY)',
  },
  { name: 'reconnect', kind: 'flag', help: 'reconnect after connection losses (with backoff)' },
  {
    name: 'ping',
    kind: 'value',
    value: '<seconds>',
    help: 'ping every <seconds>; drop the connection when no pong comes',
  },
  {
    name: 'timeout',
    kind: 'value',
    value: '<seconds>',
    help: 'wait this long for the handshake (default 30)',
  },
  {
    name: 'execute',
    short: 'x',
    kind: 'list',
    value: '<message>',
    help: 'send this message, print replies, exit after --wait (repeatable)',
  },
  {
    name: 'wait',
    kind: 'value',
    value: '<seconds>',
    help: 'with --execute or piped input: wait for replies this long (default 2)',
  },
  ...DISPLAY_OPTIONS,
];

/** Help text of `wskit connect`. */
export const CONNECT_HELP = `Usage: wskit connect <url> [options]

Opens a WebSocket session. With a terminal: an interactive prompt with line editing and
history; each line is sent as a text message. With piped input: one message per line, and
the connection is closed with 1000 when the input ends. Every message is shown with a time
stamp and its direction (> sent, < received).

Options:
${formatOptions(CONNECT_OPTIONS)}

Commands in the session:
  /ping [data]            send a ping; the pong is shown with the round-trip time
  /close [code] [reason]  start the closing handshake (code 1000 or 3000-4999)
  /binary <hex>           send a binary message, e.g. /binary 48 65 6c 6c 6f
  /quit                   close with 1000 and exit (also Ctrl-D, Ctrl-C)
  /help                   list the commands (//text sends "/text")

Exit status: 0 after a clean close (1000, 1001 or 1005, or the code you closed with),
1 when the connection fails or closes abnormally, 2 for bad usage.

Examples:
  wskit connect wss://echo.example.org/ --protocol chat.v1 -H "Authorization: Bearer abc"
  echo '{"op":"subscribe"}' | wskit connect ws://127.0.0.1:8080/feed --json --wait 5
  wskit connect ws://127.0.0.1:8080 -x hello -x world --wait 0.5`;

/**
 * Checks a WebSocket URL given on the command line: a {@link UsageError} that shows the
 * expected form (and a guess, for a URL without a scheme) unless it is ws:, wss:, http: or https:.
 */
export function checkUrl(input: string): string {
  const expected = 'expected ws://host[:port]/path or wss://...';
  let url: URL | undefined;
  try {
    url = new URL(input);
  } catch {
    url = undefined;
  }
  const schemes = ['ws:', 'wss:', 'http:', 'https:', 'ws+unix:'];
  if (url && schemes.includes(url.protocol) && (url.host !== '' || url.protocol === 'ws+unix:')) {
    if (url.hash !== '' || input.includes('#'))
      throw new UsageError(`invalid URL "${input}": WebSocket URLs cannot have a #fragment`);
    return input;
  }
  const guess = /^[\w.-]+(:\d+)?(\/.*)?$/.test(input) ? `; did you mean ws://${input}?` : '';
  const why =
    url && !guess && !schemes.includes(url.protocol) ? ` (unsupported scheme ${url.protocol})` : '';
  throw new UsageError(`invalid URL "${input}"${why}, ${expected}${guess}`);
}

function parseHeaders(values: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const raw of values) {
    const colon = raw.indexOf(':');
    const name = colon > 0 ? raw.slice(0, colon).trim() : '';
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      throw new UsageError(
        `invalid header "${raw}": expected "Name: value", e.g. -H "Authorization: Bearer abc"`,
      );
    }
    headers[name] = raw.slice(colon + 1).trim();
  }
  return headers;
}

/** Reads a file named by an option, or throws a {@link UsageError} that names the option. */
export function readOptionFile(option: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code;
    throw new UsageError(`cannot read the ${option} file "${path}": ${why || String(error)}`);
  }
}

/** The display settings of the parsed arguments. */
export function displayOf(args: ParsedArgs, io: Io): { format: MessageFormat; color: boolean } {
  return {
    format: { json: args.flag('json'), hexDump: args.flag('binary') },
    color: useColor(io.stdout, args.flag('no-color'), io.env),
  };
}

/** Runs `wskit connect` with its arguments (after the command name); resolves the exit status. */
export async function connectCommand(argv: readonly string[], io: Io): Promise<ExitStatus> {
  const args = parseArgs(argv, CONNECT_OPTIONS, 'connect');
  if (args.flag('help')) {
    io.stdout.write(`${CONNECT_HELP}\n`);
    return 0;
  }
  if (args.positionals.length === 0)
    throw new UsageError('connect needs a URL, e.g. wskit connect ws://127.0.0.1:8080/');
  if (args.positionals.length > 1)
    throw new UsageError(
      `connect takes one URL, got ${args.positionals.length} arguments (${args.positionals.join(' ')}); quote messages, e.g. -x "hello world"`,
    );
  const url = checkUrl(args.positionals[0]!);
  const socket: WebSocketOptions = {};
  const headers = parseHeaders(args.list('header'));
  if (Object.keys(headers).length > 0) socket.headers = headers;
  const origin = args.value('origin');
  if (origin !== undefined) socket.origin = origin;
  const ca = args.value('ca');
  if (args.flag('insecure') || ca !== undefined) {
    socket.tls = {
      ...(args.flag('insecure') ? { rejectUnauthorized: false } : {}),
      ...(ca !== undefined ? { ca: readOptionFile('--ca', ca) } : {}),
    };
  }
  const proxy = args.value('proxy');
  if (proxy !== undefined) {
    try {
      new URL(proxy);
    } catch {
      throw new UsageError(`invalid --proxy URL "${proxy}", expected http://[user:pass@]host:port`);
    }
    socket.proxy = proxy;
  }
  if (args.flag('reconnect')) socket.reconnect = true;
  const ping = numberOption(args, 'ping', 0, { min: 0.01 });
  if (ping > 0) socket.heartbeat = { interval: ping * 1000, timeout: ping * 1000 };
  socket.handshakeTimeout = numberOption(args, 'timeout', 30, { min: 0.01 }) * 1000;
  const waitMs = numberOption(args, 'wait', 2, { min: 0 }) * 1000;
  return runSession(io, {
    url,
    protocols: args.list('protocol'),
    socket,
    ...displayOf(args, io),
    execute: args.list('execute'),
    waitMs,
  });
}
