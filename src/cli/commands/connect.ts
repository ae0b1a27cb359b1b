/** `wskit connect <url>`: a client session with a WebSocket server. */
import type { WebSocketOptions } from '../../index.js';
import {
  choiceOption,
  numberOption,
  type OptionSpec,
  type ParsedArgs,
  UsageError,
} from '../args.js';
import { BINARY_ENCODINGS, decodeBinary } from '../binary-text.js';
import type { Io } from '../io.js';
import { runSession } from '../session/session.js';
import { type Command, HELP_OPTION } from './base.js';
import {
  basicAuth,
  CLIENT_TLS_OPTIONS,
  checkUrl,
  clientTlsOf,
  DISPLAY_OPTIONS,
  displayOf,
  parseHeaders,
} from './client-options.js';

const OPTIONS: readonly OptionSpec[] = [
  { name: 'protocol', kind: 'list', value: '<p>', help: 'offer a subprotocol (repeatable)' },
  {
    name: 'header',
    short: 'H',
    kind: 'list',
    value: '"Name: value"',
    help: 'add a handshake request header (repeatable)',
  },
  { name: 'origin', kind: 'value', value: '<origin>', help: 'Origin header' },
  {
    name: 'auth',
    kind: 'value',
    value: '<user:pass>',
    help: 'HTTP Basic authentication (an Authorization header)',
  },
  ...CLIENT_TLS_OPTIONS,
  {
    name: 'proxy',
    kind: 'value',
    value: '<url>',
    help: 'HTTP(S) proxy for a CONNECT tunnel (default: HTTPS_PROXY / HTTP_PROXY)',
  },
  {
    name: 'follow-redirects',
    short: 'L',
    kind: 'flag',
    help: 'follow HTTP redirects of the handshake (never from wss: to ws:)',
  },
  {
    name: 'max-redirects',
    kind: 'value',
    value: '<n>',
    help: 'with -L: follow at most <n> redirects (default 10)',
  },
  { name: 'reconnect', kind: 'flag', help: 'reconnect after connection losses (with backoff)' },
  {
    name: 'min-uptime',
    kind: 'value',
    value: '<seconds>',
    help: 'with --reconnect: reset the backoff after this long connected (default 5)',
  },
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
  {
    name: 'binary-input',
    kind: 'value',
    value: '<hex|base64>',
    help: 'each input line (and --execute message) is a binary message in this encoding',
  },
  ...DISPLAY_OPTIONS,
  HELP_OPTION,
];

const HELP = `Usage: wskit connect <url> [options]

Opens a WebSocket session. With a terminal: an interactive prompt with line editing and
history; each line is sent as a text message, and every message is shown with a time stamp
and its direction (> sent, < received). With piped input: one message per line, and the
connection is closed with 1000 when the input ends and --wait has passed.

When stdout is not a terminal (or with --raw), stdout carries only the messages received,
one per line (binary ones in base64, or hex with --binary-output hex), and the log (time
stamps, status, sent messages, errors) goes to stderr: wskit connect ... | jq works.

With --reconnect, --wait starts once the messages are sent and ends the session even while
the connection is down. The reconnect backoff grows with each failed attempt and resets only
after a connection stayed up --min-uptime seconds, so a server that accepts and drops at once
is not retried in a tight loop.

Options:
{options}

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
  echo '{"op":"subscribe"}' | wskit connect ws://127.0.0.1:8080/feed --wait 5 | jq .
  wskit connect ws://127.0.0.1:8080 -x hello -x world --wait 0.5
  wskit connect ws://127.0.0.1:8080 --reconnect --min-uptime 10
  printf 'AAEC\\n' | wskit connect ws://127.0.0.1:8080 --binary-input base64`;

/** The {@link WebSocketOptions} of the parsed arguments. */
function socketOptionsOf(args: ParsedArgs): WebSocketOptions {
  const socket: WebSocketOptions = {};
  const headers = parseHeaders(args.list('header'));
  const auth = args.value('auth');
  if (auth !== undefined) {
    if (Object.keys(headers).some((name) => name.toLowerCase() === 'authorization'))
      throw new UsageError('--auth and -H "Authorization: ..." cannot be used together');
    headers.Authorization = basicAuth(auth);
  }
  if (Object.keys(headers).length > 0) socket.headers = headers;
  const origin = args.value('origin');
  if (origin !== undefined) socket.origin = origin;
  const tls = clientTlsOf(args);
  if (tls) socket.tls = tls;
  const proxy = args.value('proxy');
  if (proxy !== undefined) {
    try {
      new URL(proxy);
    } catch {
      throw new UsageError(`invalid --proxy URL "${proxy}", expected http://[user:pass@]host:port`);
    }
    socket.proxy = proxy;
  }
  if (args.flag('max-redirects') && !args.flag('follow-redirects'))
    throw new UsageError('--max-redirects needs -L (--follow-redirects)');
  if (args.flag('follow-redirects')) {
    socket.followRedirects = true;
    socket.maxRedirects = numberOption(args, 'max-redirects', 10, {
      min: 0,
      max: 1000,
      integer: true,
    });
  }
  if (args.flag('min-uptime') && !args.flag('reconnect'))
    throw new UsageError('--min-uptime needs --reconnect');
  if (args.flag('reconnect')) {
    socket.reconnect = args.flag('min-uptime')
      ? { minUptime: numberOption(args, 'min-uptime', 5, { min: 0 }) * 1000 }
      : true;
  }
  const ping = numberOption(args, 'ping', 0, { min: 0.01 });
  if (ping > 0) socket.heartbeat = { interval: ping * 1000, timeout: ping * 1000 };
  socket.handshakeTimeout = numberOption(args, 'timeout', 30, { min: 0.01 }) * 1000;
  return socket;
}

/** `wskit connect`. */
export const connectCommand: Command = {
  name: 'connect',
  options: OPTIONS,
  help: HELP,
  run(args: ParsedArgs, io: Io) {
    if (args.positionals.length === 0)
      throw new UsageError('connect needs a URL, e.g. wskit connect ws://127.0.0.1:8080/');
    if (args.positionals.length > 1)
      throw new UsageError(
        `connect takes one URL, got ${args.positionals.length} arguments (${args.positionals.join(' ')}); quote messages, e.g. -x "hello world"`,
      );
    const url = checkUrl(args.positionals[0]!);
    const socket = socketOptionsOf(args);
    const waitMs = numberOption(args, 'wait', 2, { min: 0 }) * 1000;
    const binaryInput = args.flag('binary-input')
      ? choiceOption(args, 'binary-input', BINARY_ENCODINGS, 'base64')
      : null;
    const execute = args.list('execute');
    const invalid = binaryInput && execute.find((m) => decodeBinary(m, binaryInput) === undefined);
    if (binaryInput && invalid !== undefined)
      throw new UsageError(`--execute "${invalid}" is not ${binaryInput} (--binary-input)`);
    return runSession(io, {
      url,
      protocols: args.list('protocol'),
      socket,
      ...displayOf(args, io),
      binaryInput,
      execute,
      waitMs,
    });
  },
};
