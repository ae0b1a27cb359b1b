/** The commands of an interactive session: `/ping`, `/close`, `/binary`, `/quit`, `/help`. */
import type { Buffer } from 'node:buffer';
import { WebSocket } from '../../index.js';
import { parseHex } from '../binary-text.js';
import { describeCloseCode, PREFIX_WIDTH, quote } from '../format.js';
import type { SessionOutput } from './output.js';

/** Usage and one line of help of each command. */
export const SLASH_COMMANDS: ReadonlyArray<readonly [string, string]> = [
  ['/ping [data]', 'send a ping; the pong is shown with the round-trip time'],
  ['/close [code] [reason]', 'start the closing handshake (code 1000 or 3000-4999)'],
  ['/binary <hex>', 'send a binary message, e.g. /binary 48 65 6c 6c 6f'],
  ['/quit', 'close with 1000 and exit (also Ctrl-D, Ctrl-C)'],
  ['/help', 'this list; start a message with // to send one that begins with /'],
];

/** What the commands act on: the session's socket and output, and its bookkeeping. */
export interface SlashContext {
  readonly ws: WebSocket;
  readonly output: SessionOutput;
  /** Sends a message as typed lines are sent. */
  send(data: string | Buffer): void;
  /** A ping went out now (its pong shows the round-trip time). */
  pinged(): void;
  /** The user started the closing handshake. */
  closing(): void;
  quit(): void;
}

/** Runs one command line (it starts with `/`). */
export function runSlashCommand(line: string, context: SlashContext): void {
  const space = line.indexOf(' ');
  const name = space < 0 ? line : line.slice(0, space);
  const rest = space < 0 ? '' : line.slice(space + 1);
  const { ws, output } = context;
  switch (name) {
    case '/ping':
      if (ws.readyState !== WebSocket.OPEN) return output.problem('not connected: cannot ping');
      try {
        ws.ping(rest);
      } catch (error) {
        return output.problem(`cannot ping: ${messageOf(error)}`);
      }
      context.pinged();
      return output.control('>', `ping ${quote(rest)}`);
    case '/close': {
      const match = /^\s*(\d+)?\s*(.*)$/.exec(rest)!;
      const code = match[1] === undefined ? 1000 : Number(match[1]);
      try {
        ws.close(code, match[2]);
      } catch (error) {
        return output.problem(`cannot close: ${messageOf(error)}`);
      }
      context.closing();
      return output.info(
        `closing with ${describeCloseCode(code)}${match[2] ? ` ${quote(match[2])}` : ''}`,
      );
    }
    case '/binary': {
      const bytes = parseHex(rest);
      if (!bytes) return output.problem('usage: /binary <hex>, e.g. /binary 48 65 6c 6c 6f');
      return context.send(bytes);
    }
    case '/quit':
    case '/exit':
      return context.quit();
    case '/help': {
      const width = Math.max(...SLASH_COMMANDS.map(([usage]) => usage.length)) + 2;
      return output.info(
        ['commands:', ...SLASH_COMMANDS.map(([u, h]) => `  ${u.padEnd(width)}${h}`)].join(
          `\n${' '.repeat(PREFIX_WIDTH)}`,
        ),
      );
    }
    default:
      return output.problem(
        `unknown command ${name}: /help lists the commands; start a message with // to send a leading /`,
      );
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
