/**
 * Where a client session's lines go. On a terminal, one time-stamped log on stdout (`<` received,
 * `>` sent, `*` status, `!` problems). For scripts (`--raw`, or stdout not a terminal), stdout
 * carries only the received payloads, one per line, and the log goes to stderr.
 */
import type { Buffer } from 'node:buffer';
import { type BinaryEncoding, encodeBinary } from '../binary-text.js';
import {
  type MessageFormat,
  messageLines,
  PREFIX_WIDTH,
  prettyJson,
  timestamp,
} from '../format.js';
import type { Io } from '../io.js';
import type { Style } from '../style.js';

/** The lines of a session, by kind. */
export interface SessionOutput {
  /** A message arrived. */
  received(data: string | Buffer): void;
  /** A message was sent (`note`: "queued" while reconnecting). */
  sent(data: string | Buffer, note?: string): void;
  /** A ping or pong, either way. */
  control(direction: '<' | '>', text: string): void;
  /** Status: connecting, connected, closed. */
  info(text: string): void;
  /** Something the user should know went wrong (not fatal). */
  problem(text: string): void;
}

/** Settings of {@link createOutput}. */
export interface OutputSettings {
  /** Payloads on stdout, the log on stderr. */
  raw: boolean;
  /** How binary payloads are written in raw mode. */
  binaryOutput: BinaryEncoding;
  /** How messages are shown in the log. */
  format: MessageFormat;
  /** Colours of the log. */
  style: Style;
}

/**
 * The output of a session. `printLog` writes log lines on a terminal (above the prompt, see
 * LineConsole); in raw mode the log goes straight to stderr.
 */
export function createOutput(
  io: Io,
  settings: OutputSettings,
  printLog: (text: string) => void,
): SessionOutput {
  const s = settings.style;
  const log = settings.raw ? (text: string) => io.stderr.write(`${text}\n`) : printLog;
  const show = (
    direction: '<' | '>',
    data: string | Buffer,
    format: MessageFormat | null,
    note = '',
  ) => {
    const lines = format ? messageLines(data, format) : [String(data)];
    const marker = direction === '<' ? s.cyan('<') : s.green('>');
    const indent = `\n${' '.repeat(PREFIX_WIDTH)}`;
    const first = `${lines[0]}${note ? s.dim(` (${note})`) : ''}`;
    const body = [first, ...lines.slice(1)].join(indent);
    log(`${s.dim(timestamp())} ${marker} ${format === null ? s.dim(body) : body}`);
  };
  const sentFormat: MessageFormat = { json: false, hexDump: settings.format.hexDump };
  return {
    received: settings.raw
      ? (data) => {
          // Verbatim (pretty with --json): what a script reads is what the peer sent.
          const text = typeof data === 'string' && settings.format.json ? prettyJson(data) : data;
          const line = typeof text === 'string' ? text : encodeBinary(text, settings.binaryOutput);
          io.stdout.write(`${line}\n`);
        }
      : (data) => show('<', data, settings.format),
    sent: (data, note) => show('>', data, sentFormat, note),
    control: (direction, text) => show(direction, text, null),
    info: (text) => log(`${s.dim(timestamp())} ${s.yellow('*')} ${text}`),
    problem: (text) => log(`${s.dim(timestamp())} ${s.red('!')} ${text}`),
  };
}
