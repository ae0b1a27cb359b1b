/** `wskit serve`: an echo or broadcast server that logs connections. */
import type { Buffer } from 'node:buffer';
import type { AddressInfo } from 'node:net';
import {
  type CloseEvent,
  type ErrorEvent,
  type MessageEvent,
  type WebSocket,
  WebSocketError,
  WebSocketServer,
  type WebSocketServerOptions,
} from '../../index.js';
import { exclusive, numberOption, type OptionSpec, type ParsedArgs, UsageError } from '../args.js';
import { describeCloseCode, hostPort, quote, safeText, timestamp } from '../format.js';
import { type Io, onSignals, printError } from '../io.js';
import { LineConsole } from '../line-console.js';
import { listening } from '../local-server.js';
import {
  brokerFailure,
  joinBroadcast,
  logBroker,
  redisBrokerFor,
  shareMessage,
} from '../serve-redis.js';
import { createStyle, useColor } from '../style.js';
import { type Command, HELP_OPTION } from './base.js';
import { readOptionFile } from './client-options.js';

const OPTIONS: readonly OptionSpec[] = [
  {
    name: 'port',
    short: 'p',
    kind: 'value',
    value: '<port>',
    help: 'port to listen on (default 8080; 0 picks a free one)',
  },
  {
    name: 'host',
    kind: 'value',
    value: '<host>',
    help: 'address to bind (default 127.0.0.1; 0.0.0.0 for every interface)',
  },
  {
    name: 'echo',
    kind: 'flag',
    help: 'send every message back to its sender (default, except with --interactive)',
  },
  {
    name: 'broadcast',
    kind: 'flag',
    help: 'send every message to every connected client, the sender included',
  },
  {
    name: 'tls-cert',
    kind: 'value',
    value: '<file>',
    help: 'serve wss: with this PEM certificate',
  },
  { name: 'tls-key', kind: 'value', value: '<file>', help: '... and this PEM private key' },
  {
    name: 'protocol',
    kind: 'list',
    value: '<p>',
    help: 'accept this subprotocol (repeatable; default: the first one offered)',
  },
  {
    name: 'redis',
    kind: 'value',
    value: '<url>',
    help: 'with --broadcast: share messages with every serve on this Redis (needs the redis package)',
  },
  { name: 'deflate', kind: 'flag', help: 'accept permessage-deflate compression' },
  {
    name: 'interactive',
    short: 'i',
    kind: 'flag',
    help: 'send each line typed (or piped) on stdin to every client; log their messages',
  },
  { name: 'verbose', kind: 'flag', help: 'log every message too' },
  { name: 'no-color', kind: 'flag', help: 'no colours (also when NO_COLOR is set)' },
  HELP_OPTION,
];

const HELP = `Usage: wskit serve [options]

Runs a WebSocket server that echoes (or broadcasts) every message, and logs each connection
and close with a time stamp. The first line on stdout is "listening on ws://host:port" (wss:
with --tls-cert). Ctrl-C (SIGINT) or SIGTERM closes every connection with 1001 and exits 0.

With --interactive, like wscat -l: each line typed at the prompt (or piped in) is sent to every
connected client, messages from clients are logged, and nothing is echoed unless --echo or
--broadcast is given. At a terminal, Ctrl-D stops the server as Ctrl-C does.

Options:
{options}

Examples:
  wskit serve --port 0
  wskit serve --broadcast --host 0.0.0.0 --port 9000
  wskit serve --broadcast --redis redis://127.0.0.1:6379 --port 9001
  wskit serve --tls-cert cert.pem --tls-key key.pem --protocol chat.v1
  wskit serve -i --port 9000`;

function listenError(error: unknown, host: string, port: number): string {
  const at = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  if (!(error instanceof WebSocketError)) return `cannot listen on ${at}: ${String(error)}`;
  switch (error.code) {
    case 'ERR_WS_ADDRESS_IN_USE':
      return `cannot listen on ${at}: the port is in use (${error.code}); pick another with --port, or --port 0 for any free port`;
    case 'ERR_WS_ACCESS':
      return `cannot listen on ${at}: permission denied (${error.code}); ports below 1024 need privileges, try --port 8080`;
    case 'ERR_WS_ADDRESS_NOT_AVAILABLE':
      return `cannot listen on ${at}: that address is not on this machine (${error.code}); try --host 127.0.0.1 or --host 0.0.0.0`;
    case 'ERR_WS_HOST_NOT_FOUND':
      return `cannot listen on ${at}: the host name does not resolve (${error.code}); check --host`;
    default:
      return `cannot listen on ${at}: ${error.message} (${error.code})`;
  }
}

/** What `wskit serve` does with messages from clients. */
interface Traffic {
  /** Send each message back: to its sender, or to every client. */
  reply: 'echo' | 'broadcast' | 'none';
  /** Log each message. */
  log: boolean;
}

/** Runs the server until SIGINT / SIGTERM (or Ctrl-D with --interactive at a terminal). */
async function serve(args: ParsedArgs, io: Io): Promise<number> {
  if (args.positionals.length > 0)
    throw new UsageError(`serve takes no arguments, got "${args.positionals.join(' ')}"`);
  const port = numberOption(args, 'port', 8080, { min: 0, max: 65535, integer: true });
  const host = args.value('host') ?? '127.0.0.1';
  exclusive(args, 'echo', 'broadcast');
  const interactive = args.flag('interactive');
  const traffic: Traffic = {
    reply: args.flag('broadcast')
      ? 'broadcast'
      : args.flag('echo') || !interactive
        ? 'echo'
        : 'none',
    log: args.flag('verbose') || interactive,
  };
  const redisUrl = args.value('redis');
  if (redisUrl !== undefined && traffic.reply !== 'broadcast')
    throw new UsageError('--redis shares broadcast messages: use it with --broadcast');
  const certFile = args.value('tls-cert');
  const keyFile = args.value('tls-key');
  if ((certFile === undefined) !== (keyFile === undefined))
    throw new UsageError('--tls-cert and --tls-key go together: give both PEM files');
  const protocols = args.list('protocol');
  const terminal = interactive && io.stdin.isTTY === true && io.stdout.isTTY === true;
  const style = createStyle(useColor(io.stdout, args.flag('no-color'), io.env));

  const options: WebSocketServerOptions<'nodebuffer'> = {
    port,
    host,
    closeTimeout: 3000,
    perMessageDeflate: args.flag('deflate'),
  };
  if (certFile !== undefined && keyFile !== undefined) {
    options.tls = {
      cert: readOptionFile('--tls-cert', certFile),
      key: readOptionFile('--tls-key', keyFile),
    };
  }
  if (redisUrl !== undefined) options.broker = await redisBrokerFor(redisUrl);
  if (protocols.length > 0)
    options.handleProtocols = (offered) => protocols.find((p) => offered.has(p)) ?? false;

  let server: WebSocketServer;
  try {
    server = new WebSocketServer(options);
  } catch (error) {
    // https.createServer checks the certificate and key right away.
    throw new UsageError(
      `cannot use the TLS certificate and key: ${error instanceof Error ? error.message : String(error)}; give PEM files (--tls-cert, --tls-key)`,
    );
  }
  let address: AddressInfo;
  try {
    address = await listening(server);
  } catch (error) {
    printError(io, listenError(error, host, port));
    return 1;
  }
  const failure = options.broker ? await brokerFailure(server) : null;
  if (failure !== null) {
    printError(io, failure);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return 1;
  }
  const scheme = options.tls ? 'wss' : 'ws';
  io.stdout.write(`listening on ${scheme}://${hostPort(host, address.port)}\n`);

  let input: LineConsole | null = null;
  const log = (marker: string, text: string) => {
    const line = `${style.dim(timestamp())} ${marker} ${text}`;
    if (input) input.print(line);
    else io.stdout.write(`${line}\n`);
  };
  server.on('error', (error) => log(style.red('!'), `server error: ${error.message}`));
  if (options.broker) logBroker(options.broker, (text) => log(style.yellow('*'), text));
  server.on('connection', (ws: WebSocket, request) => {
    const peer = hostPort(request.socket.remoteAddress, request.socket.remotePort);
    const details = [
      `path ${request.url ?? '/'}`,
      `protocol ${ws.protocol ? quote(ws.protocol) : 'none'}`,
      ...(ws.extensions ? [`extensions ${quote(ws.extensions)}`] : []),
    ];
    const connected = () => log(style.green('+'), `${peer} connected, ${details.join(', ')}`);
    // With --redis, logged once the subscription holds on every node.
    if (redisUrl !== undefined) void joinBroadcast(server, ws).then(connected);
    else connected();
    let messages = 0;
    let failure = '';
    ws.addEventListener('message', (event: MessageEvent) => {
      messages++;
      const data = event.data as string | Buffer;
      if (traffic.log) log(style.cyan('<'), `${peer} ${summary(data)}`);
      if (redisUrl !== undefined) shareMessage(server, data, (text) => log(style.red('!'), text));
      else if (traffic.reply === 'broadcast') server.broadcast(data);
      else if (traffic.reply === 'echo') ws.send(data);
    });
    ws.addEventListener('error', (event: ErrorEvent) => {
      failure = event.message;
    });
    ws.addEventListener('close', (event: CloseEvent) => {
      const reason = event.reason ? ` ${quote(event.reason)}` : '';
      const how = event.wasClean
        ? ''
        : `, without a closing handshake${failure ? `: ${failure}` : ''}`;
      log(
        style.yellow('-'),
        `${peer} closed ${describeCloseCode(event.code)}${reason}${how}, ${messages} message${messages === 1 ? '' : 's'}`,
      );
    });
  });

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (why: string) => {
      if (stopping) {
        log(style.red('!'), `${why} again: dropping every connection`);
        for (const client of server.clients) client.terminate();
        removeSignals();
        input?.close();
        resolve(130);
        return;
      }
      stopping = true;
      const n = server.clients.size;
      log(
        style.yellow('*'),
        `${why}: closing ${n} connection${n === 1 ? '' : 's'} with 1001 (going away)`,
      );
      input?.finalOutput();
      server.close(() => {
        log(style.yellow('*'), 'server closed');
        removeSignals();
        input?.close();
        resolve(0);
      });
    };
    const removeSignals = onSignals((signal) => stop(signal));
    if (!interactive) return;
    input = new LineConsole(
      io,
      { terminal },
      {
        line: (line) => {
          if (stopping) return;
          const n = server.broadcast(line);
          log(style.green('>'), `${quote(safeText(line))} to ${n} client${n === 1 ? '' : 's'}`);
        },
        end: () => {
          // Ctrl-D at the prompt stops the server; the end of piped input only ends the input.
          if (terminal) stop('end of input');
          else log(style.yellow('*'), 'input ended; still serving (Ctrl-C or SIGTERM stops)');
        },
        interrupt: () => stop('SIGINT'),
      },
    );
    input.showPrompt();
  });
}

/** A message from a client, shortened for one log line. */
function summary(data: string | Buffer): string {
  return typeof data === 'string'
    ? quote(safeText(data.length > 80 ? `${data.slice(0, 80)}...` : data))
    : `[binary, ${data.length} bytes]`;
}

/** `wskit serve`. */
export const serveCommand: Command = {
  name: 'serve',
  options: OPTIONS,
  help: HELP,
  run: serve,
};
