/**
 * Options that more than one command reads: the target URL, TLS files, handshake headers, and
 * how a session shows messages. Checked with the library's own URL parser and header-token
 * rules, so the command line accepts exactly what `new WebSocket()` does.
 */
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { type ClientTlsOptions, parseWebSocketUrl } from '../../index.js';
import { isToken, isValidHeaderValue } from '../../protocol/index.js';
import { choiceOption, exclusive, type OptionSpec, type ParsedArgs, UsageError } from '../args.js';
import { BINARY_ENCODINGS, type BinaryEncoding } from '../binary-text.js';
import type { MessageFormat } from '../format.js';
import type { Io } from '../io.js';
import { useColor } from '../style.js';

/**
 * Checks a WebSocket URL given on the command line: a {@link UsageError} that shows the
 * expected form (and a guess, for a URL without a scheme) unless the library accepts it.
 */
export function checkUrl(input: string): string {
  try {
    parseWebSocketUrl(input);
    return input;
  } catch {
    // Worded below for the command line.
  }
  let scheme: string | undefined;
  try {
    scheme = new URL(input).protocol;
  } catch {
    scheme = undefined;
  }
  if (scheme !== undefined && input.includes('#') && SCHEMES.includes(scheme))
    throw new UsageError(`invalid URL "${input}": WebSocket URLs cannot have a #fragment`);
  const guess = /^[\w.-]+(:\d+)?(\/.*)?$/.test(input) ? `; did you mean ws://${input}?` : '';
  const why =
    scheme !== undefined && !guess && !SCHEMES.includes(scheme)
      ? ` (unsupported scheme ${scheme})`
      : '';
  throw new UsageError(
    `invalid URL "${input}"${why}, expected ws://host[:port]/path or wss://...${guess}`,
  );
}

const SCHEMES = ['ws:', 'wss:', 'http:', 'https:', 'ws+unix:'];

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

/** The TLS options of a client: server verification and a client certificate. */
export const CLIENT_TLS_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'insecure',
    short: 'k',
    kind: 'flag',
    help: "wss: don't verify the server's certificate",
  },
  {
    name: 'ca',
    kind: 'value',
    value: '<file>',
    help: 'wss: trust the CA certificate(s) in this PEM file',
  },
  {
    name: 'cert',
    kind: 'value',
    value: '<file>',
    help: 'wss: client certificate (PEM) for servers that ask for one',
  },
  { name: 'key', kind: 'value', value: '<file>', help: '... and its private key (PEM)' },
  {
    name: 'passphrase',
    kind: 'value',
    value: '<text>',
    help: '... and the passphrase of that key, if it is encrypted',
  },
];

/** The `tls` option of the parsed {@link CLIENT_TLS_OPTIONS}, or undefined when none was given. */
export function clientTlsOf(args: ParsedArgs): ClientTlsOptions | undefined {
  const ca = args.value('ca');
  const cert = args.value('cert');
  const key = args.value('key');
  const passphrase = args.value('passphrase');
  if ((cert === undefined) !== (key === undefined))
    throw new UsageError('--cert and --key go together: give both PEM files');
  if (passphrase !== undefined && key === undefined)
    throw new UsageError('--passphrase unlocks the --key file: give --cert and --key too');
  const tls: ClientTlsOptions = {};
  if (args.flag('insecure')) tls.rejectUnauthorized = false;
  if (ca !== undefined) tls.ca = readOptionFile('--ca', ca);
  if (cert !== undefined) tls.cert = readOptionFile('--cert', cert);
  if (key !== undefined) tls.key = readOptionFile('--key', key);
  if (passphrase !== undefined) tls.passphrase = passphrase;
  return Object.keys(tls).length > 0 ? tls : undefined;
}

/**
 * `-H "Name: value"` options as a header record; names and values are checked as the library
 * checks them (an HTTP token; no line breaks).
 */
export function parseHeaders(values: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const raw of values) {
    const colon = raw.indexOf(':');
    const name = colon > 0 ? raw.slice(0, colon).trim() : '';
    const value = raw.slice(colon + 1).trim();
    if (!isToken(name) || !isValidHeaderValue(value)) {
      throw new UsageError(
        `invalid header "${raw}": expected "Name: value", e.g. -H "Authorization: Bearer abc"`,
      );
    }
    headers[name] = value;
  }
  return headers;
}

/** `--auth user:pass` as an `Authorization` header value (RFC 7617 Basic). */
export function basicAuth(credentials: string): string {
  if (!credentials.includes(':'))
    throw new UsageError(`--auth needs user:password, got "${credentials}"`);
  return `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`;
}

/** Options that change how a session shows messages (shared with `wskit` alone). */
export const DISPLAY_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'raw',
    kind: 'flag',
    help: 'stdout: received messages only; the log on stderr (default: stdout no terminal)',
  },
  {
    name: 'no-raw',
    kind: 'flag',
    help: 'the time-stamped log on stdout even when it is not a terminal',
  },
  {
    name: 'binary-output',
    kind: 'value',
    value: '<base64|hex>',
    help: 'raw output: write binary messages in this encoding (default base64)',
  },
  { name: 'json', kind: 'flag', help: 'pretty-print received JSON messages' },
  { name: 'binary', kind: 'flag', help: 'log view: show binary messages as a hex dump' },
  { name: 'show-ping', short: 'P', kind: 'flag', help: 'show pings and pongs that arrive' },
  { name: 'no-color', kind: 'flag', help: 'no colours (also when NO_COLOR is set)' },
];

/** The display settings of the parsed {@link DISPLAY_OPTIONS}. */
export interface Display {
  format: MessageFormat;
  color: boolean;
  raw: boolean;
  binaryOutput: BinaryEncoding;
  showPing: boolean;
}

/** Reads the parsed {@link DISPLAY_OPTIONS}; raw output unless stdout is a terminal. */
export function displayOf(args: ParsedArgs, io: Io): Display {
  exclusive(args, 'raw', 'no-raw');
  const raw = args.flag('raw') || (!args.flag('no-raw') && io.stdout.isTTY !== true);
  if (raw && args.flag('binary'))
    throw new UsageError(
      '--binary (hex dumps) is for the log view: with --raw or stdout not a terminal, use --binary-output hex, or --no-raw for the log',
    );
  if (!raw && args.flag('binary-output'))
    throw new UsageError(
      '--binary-output is for raw output (--raw, or stdout not a terminal); the log view shows binary messages in hex',
    );
  return {
    format: { json: args.flag('json'), hexDump: args.flag('binary') },
    color: useColor(raw ? io.stderr : io.stdout, args.flag('no-color'), io.env),
    raw,
    binaryOutput: choiceOption(args, 'binary-output', BINARY_ENCODINGS, 'base64'),
    showPing: args.flag('show-ping'),
  };
}
