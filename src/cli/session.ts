/**
 * A client session: the interactive prompt (node:readline, with line editing, history and slash
 * commands), piped input (one message per line), or `--execute` messages, with every message
 * shown with a time stamp and its direction.
 */
import type { Buffer } from 'node:buffer';
import {
  clearScreenDown,
  createInterface,
  cursorTo,
  type Interface,
  moveCursor,
} from 'node:readline';
import {
  type CloseEvent,
  type ErrorEvent,
  type MessageEvent,
  type ReconnectEvent,
  WebSocket,
  type WebSocketEvent,
  type WebSocketOptions,
} from '../index.js';
import { describeError } from './describe.js';
import {
  createStyle,
  describeCloseCode,
  displayWidth,
  type MessageFormat,
  messageLines,
  PREFIX_WIDTH,
  parseHex,
  quote,
  type Style,
  timestamp,
} from './format.js';
import { type Io, onSignals, printError } from './io.js';

/** What a session connects to and how it behaves. */
export interface SessionOptions {
  url: string;
  protocols: string[];
  socket: WebSocketOptions;
  format: MessageFormat;
  color: boolean;
  /** Messages to send once open; then wait `waitMs` and close (stdin is not read). */
  execute: string[];
  /** After the last message was sent (piped input or --execute): how long to wait for replies. */
  waitMs: number;
}

/** Exit status of a session: 0 clean close, 1 failure, 2 bad input. */
export type ExitStatus = 0 | 1 | 2;

const PROMPT = '> ';

const COMMANDS: ReadonlyArray<[string, string]> = [
  ['/ping [data]', 'send a ping; the pong is shown with the round-trip time'],
  ['/close [code] [reason]', 'start the closing handshake (code 1000 or 3000-4999)'],
  ['/binary <hex>', 'send a binary message, e.g. /binary 48 65 6c 6c 6f'],
  ['/quit', 'close with 1000 and exit (also Ctrl-D, Ctrl-C)'],
  ['/help', 'this list; start a message with // to send one that begins with /'],
];

/**
 * Runs a session to `options.url` until the connection has closed for good; resolves with the
 * exit status. Interactive when stdin is a terminal, otherwise each input line is one message.
 */
export function runSession(io: Io, options: SessionOptions): Promise<ExitStatus> {
  return new Promise((resolve) => new Session(io, options, resolve).start());
}

class Session {
  readonly #io: Io;
  readonly #o: SessionOptions;
  readonly #done: (status: ExitStatus) => void;
  readonly #style: Style;
  /** stdin is a terminal: prompt and slash commands. */
  readonly #interactive: boolean;
  /** stdin and stdout are terminals: readline draws the prompt and edits the line. */
  readonly #terminal: boolean;
  readonly #reconnect: boolean;
  readonly #timers = new Set<NodeJS.Timeout>();

  #ws: WebSocket | null = null;
  #rl: Interface | null = null;
  #promptShown = false;
  /** The session is ending: print without drawing the prompt again. */
  #lastOutput = false;
  #opened = false;
  #userClosed = false;
  #lastError: unknown;
  #finished = false;
  /** Messages given before the first open (without --reconnect, send() would throw). */
  #outbox: Array<string | Buffer> = [];
  /** Input has ended (or --execute): close once everything is sent and `waitMs` has passed. */
  #endRequested = false;
  #closing = false;
  #pings: number[] = [];
  #removeSignals: (() => void) | null = null;

  constructor(io: Io, options: SessionOptions, done: (status: ExitStatus) => void) {
    this.#io = io;
    this.#o = options;
    this.#done = done;
    this.#style = createStyle(options.color);
    this.#interactive = options.execute.length === 0 && io.stdin.isTTY === true;
    this.#terminal = this.#interactive && io.stdout.isTTY === true;
    this.#reconnect = Boolean(options.socket.reconnect);
  }

  start(): void {
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.#o.url, this.#o.protocols, {
        closeTimeout: 3000,
        ...this.#o.socket,
        binaryType: 'nodebuffer',
      });
    } catch (error) {
      // A subprotocol that is not a token, a header with a line break, bad option values.
      printError(
        this.#io,
        `${error instanceof Error ? error.message : String(error)}; see "wskit connect --help"`,
      );
      this.#done(2);
      return;
    }
    this.#ws = ws;
    this.#info(`connecting to ${ws.url}`);
    ws.addEventListener('open', () => this.#onOpen());
    ws.addEventListener('message', (event: MessageEvent) => {
      this.#show('<', event.data as string | Buffer, this.#o.format);
    });
    ws.addEventListener('pong', (event: WebSocketEvent) => this.#onPong(event as MessageEvent));
    ws.addEventListener('error', (event: ErrorEvent) => {
      this.#lastError = event.error;
    });
    ws.addEventListener('reconnecting', (event: ReconnectEvent) => {
      const why = event.error ? `: ${describeError(event.error, this.#o.url)}` : '';
      this.#info(`reconnecting in ${event.delay} ms (attempt ${event.attempt})${why}`);
    });
    ws.addEventListener('close', (event: CloseEvent) => this.#onClose(event));
    this.#removeSignals = onSignals(() => this.#quit());

    if (this.#o.execute.length > 0) {
      this.#outbox.push(...this.#o.execute);
      this.#endRequested = true;
      return;
    }
    const rl = createInterface({
      input: this.#io.stdin,
      ...(this.#terminal
        ? {
            output: this.#io.stdout,
            terminal: true,
            // No prompt until the connection is open.
            prompt: '',
            historySize: 1000,
            removeHistoryDuplicates: true,
            completer: (line: string): [string[], string] => {
              const names = COMMANDS.map(([usage]) => usage.split(' ')[0]!);
              return [line.startsWith('/') ? names.filter((n) => n.startsWith(line)) : [], line];
            },
          }
        : { terminal: false, crlfDelay: Number.POSITIVE_INFINITY }),
    });
    this.#rl = rl;
    rl.on('line', (line) => this.#onLine(line));
    if (this.#terminal) {
      // Before readline handles Enter, redraw the line: how many rows it takes is then known
      // (readline leaves a line that exactly fills its rows in one of two states otherwise),
      // so the echoed input can be replaced by the sent message.
      const beforeEnter = (_text: string, key: { name?: string } | undefined) => {
        if (key?.name === 'return' || key?.name === 'enter') rl.prompt(true);
      };
      this.#io.stdin.prependListener('keypress', beforeEnter);
      rl.on('close', () => this.#io.stdin.removeListener('keypress', beforeEnter));
    }
    rl.on('SIGINT', () => this.#quit());
    rl.on('close', () => {
      if (this.#finished) return;
      if (this.#promptShown) {
        // Ctrl-D: the prompt goes; what follows is printed without one.
        this.#promptShown = false;
        cursorTo(this.#io.stdout, 0);
        clearScreenDown(this.#io.stdout);
      }
      if (this.#interactive) this.#quit();
      else this.#requestEnd();
    });
  }

  // -- events ----------------------------------------------------------------------------------

  #onOpen(): void {
    const ws = this.#ws!;
    const first = !this.#opened;
    this.#opened = true;
    this.#lastError = undefined;
    const details = [
      ws.protocol ? `protocol ${quote(ws.protocol)}` : '',
      ws.extensions ? `extensions ${quote(ws.extensions)}` : '',
    ].filter(Boolean);
    const hint = first && this.#interactive ? '; type a message, /help for commands' : '';
    this.#info(`connected to ${ws.url}${details.length ? ` (${details.join(', ')})` : ''}${hint}`);
    const outbox = this.#outbox;
    this.#outbox = [];
    for (const data of outbox) this.#send(data);
    if (this.#terminal && !this.#promptShown) {
      this.#promptShown = true;
      this.#rl?.setPrompt(PROMPT);
      this.#rl?.prompt(true);
    }
    if (this.#endRequested) void this.#drainThenClose();
  }

  #onPong(event: MessageEvent): void {
    const sent = this.#pings.shift();
    if (sent === undefined) return; // a heartbeat's pong (--ping)
    const data = event.data as Buffer;
    const rtt = (performance.now() - sent).toFixed(3);
    this.#show('<', `pong ${quote(data.toString())} (${rtt} ms)`, null);
  }

  #onClose(event: CloseEvent): void {
    const ws = this.#ws!;
    if (ws.readyState !== WebSocket.CLOSED) {
      // --reconnect: another attempt follows (the reconnecting event says when).
      if (this.#opened) this.#info(`disconnected: ${this.#closeText(event)}`);
      return;
    }
    this.#finish(event);
  }

  #closeText(event: CloseEvent): string {
    const reason = event.reason ? ` ${quote(event.reason)}` : '';
    return `${describeCloseCode(event.code)}${reason}${event.wasClean ? '' : ', without a closing handshake'}`;
  }

  #finish(event: CloseEvent): void {
    if (this.#finished) return;
    this.#lastOutput = true;
    const error = this.#lastError;
    let status: ExitStatus;
    if (!this.#opened) {
      status = 1;
      if (this.#userClosed) this.#info('closed before the connection opened');
      else
        printError(
          this.#io,
          describeError(error ?? new Error('the connection closed before it opened'), this.#o.url),
        );
    } else {
      // The server's 1000 / 1001 / 1005, or whatever code the user closed with, completed
      // cleanly: success. Anything else (1006, an error, the server's 1008 or 4xxx) is not.
      const normal = [1000, 1001, 1005].includes(event.code) || this.#userClosed;
      status = event.wasClean && normal && error === undefined ? 0 : 1;
      const how = !event.wasClean
        ? 'connection lost'
        : this.#userClosed
          ? 'connection closed'
          : 'connection closed by the server';
      this.#info(`${how}: ${this.#closeText(event)}`);
      if (error !== undefined) printError(this.#io, describeError(error, this.#o.url));
    }
    this.#end(status);
  }

  #end(status: ExitStatus): void {
    this.#finished = true;
    this.#promptShown = false;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#removeSignals?.();
    this.#rl?.close();
    this.#done(status);
  }

  // -- input -----------------------------------------------------------------------------------

  #onLine(line: string): void {
    if (this.#finished) return;
    if (this.#terminal) this.#eraseInput(line);
    if (this.#interactive && line.startsWith('/') && !line.startsWith('//')) this.#command(line);
    else this.#send(this.#interactive && line.startsWith('//') ? line.slice(1) : line);
    if (this.#promptShown && !this.#finished) this.#rl!.prompt();
  }

  #command(line: string): void {
    const space = line.indexOf(' ');
    const name = space < 0 ? line : line.slice(0, space);
    const rest = space < 0 ? '' : line.slice(space + 1);
    const ws = this.#ws!;
    switch (name) {
      case '/ping':
        if (ws.readyState !== WebSocket.OPEN) return this.#problem('not connected: cannot ping');
        try {
          ws.ping(rest);
        } catch (error) {
          return this.#problem(`cannot ping: ${messageOf(error)}`);
        }
        this.#pings.push(performance.now());
        return this.#show('>', `ping ${quote(rest)}`, null);
      case '/close': {
        const match = /^\s*(\d+)?\s*(.*)$/.exec(rest)!;
        const code = match[1] === undefined ? 1000 : Number(match[1]);
        try {
          ws.close(code, match[2]);
        } catch (error) {
          return this.#problem(`cannot close: ${messageOf(error)}`);
        }
        this.#userClosed = true;
        return this.#info(
          `closing with ${describeCloseCode(code)}${match[2] ? ` ${quote(match[2])}` : ''}`,
        );
      }
      case '/binary': {
        const bytes = parseHex(rest);
        if (!bytes) return this.#problem('usage: /binary <hex>, e.g. /binary 48 65 6c 6c 6f');
        return this.#send(bytes);
      }
      case '/quit':
      case '/exit':
        return this.#quit();
      case '/help': {
        const width = Math.max(...COMMANDS.map(([usage]) => usage.length)) + 2;
        return this.#info(
          ['commands:', ...COMMANDS.map(([u, h]) => `  ${u.padEnd(width)}${h}`)].join(
            `\n${' '.repeat(PREFIX_WIDTH)}`,
          ),
        );
      }
      default:
        return this.#problem(
          `unknown command ${name}: /help lists the commands; start a message with // to send a leading /`,
        );
    }
  }

  /** Sends a message now, queues it until the first open, or reports why it cannot. */
  #send(data: string | Buffer): void {
    const ws = this.#ws!;
    if (ws.readyState === WebSocket.CONNECTING && !(this.#reconnect && this.#opened)) {
      this.#outbox.push(data);
      return;
    }
    if (ws.readyState !== WebSocket.OPEN && ws.readyState !== WebSocket.CONNECTING) {
      this.#problem('not sent: the connection is closing');
      return;
    }
    const queued = ws.readyState === WebSocket.CONNECTING;
    try {
      ws.send(data);
    } catch (error) {
      this.#problem(`not sent: ${messageOf(error)}`);
      return;
    }
    this.#show('>', data, { json: false, hexDump: this.#o.format.hexDump }, queued ? 'queued' : '');
  }

  #requestEnd(): void {
    this.#endRequested = true;
    if (this.#ws?.readyState === WebSocket.OPEN) void this.#drainThenClose();
  }

  /** Waits until everything sent has left, then `waitMs` for replies, then closes with 1000. */
  async #drainThenClose(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    const ws = this.#ws!;
    while (ws.readyState === WebSocket.OPEN && ws.bufferedAmount > 0) await this.#sleep(10);
    if (ws.readyState !== WebSocket.OPEN) {
      this.#closing = false;
      return;
    }
    await this.#sleep(this.#o.waitMs);
    if (ws.readyState === WebSocket.OPEN && !this.#finished) {
      this.#userClosed = true;
      ws.close(1000);
    } else {
      this.#closing = false;
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        resolve();
      }, ms);
      this.#timers.add(timer);
    });
  }

  /** /quit, Ctrl-D, Ctrl-C, SIGTERM: close with 1000; a second time: drop the connection. */
  #quit(): void {
    if (this.#finished) return;
    const ws = this.#ws!;
    if (this.#userClosed && ws.readyState !== WebSocket.OPEN) {
      ws.terminate();
      return;
    }
    this.#userClosed = true;
    ws.close(1000);
  }

  // -- output ----------------------------------------------------------------------------------

  /** Prints whole lines without disturbing the prompt and the line being edited. */
  #print(text: string): void {
    const out = this.#io.stdout;
    const rl = this.#rl;
    if (rl && this.#terminal && this.#promptShown) {
      moveCursor(out, 0, -rl.getCursorPos().rows);
      cursorTo(out, 0);
      clearScreenDown(out);
      out.write(`${text}\n`);
      if (!this.#lastOutput) rl.prompt(true);
    } else {
      out.write(`${text}\n`);
    }
  }

  /** After Enter: removes the echoed input line, which the sent message replaces. */
  #eraseInput(line: string): void {
    const columns = this.#io.stdout.columns;
    if (!columns) return;
    const rows = Math.floor(displayWidth(this.#rl!.getPrompt() + line) / columns) + 1;
    moveCursor(this.#io.stdout, 0, -rows);
    cursorTo(this.#io.stdout, 0);
    clearScreenDown(this.#io.stdout);
  }

  #show(
    direction: '<' | '>',
    data: string | Buffer,
    format: MessageFormat | null,
    note = '',
  ): void {
    const s = this.#style;
    const lines = format ? messageLines(data, format) : [String(data)];
    const marker = direction === '<' ? s.cyan('<') : s.green('>');
    const indent = `\n${' '.repeat(PREFIX_WIDTH)}`;
    const first = `${lines[0]}${note ? s.dim(` (${note})`) : ''}`;
    const body = [first, ...lines.slice(1)].join(indent);
    this.#print(`${s.dim(timestamp())} ${marker} ${format === null ? s.dim(body) : body}`);
  }

  #info(text: string): void {
    this.#print(`${this.#style.dim(timestamp())} ${this.#style.yellow('*')} ${text}`);
  }

  #problem(text: string): void {
    this.#print(`${this.#style.dim(timestamp())} ${this.#style.red('!')} ${text}`);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
