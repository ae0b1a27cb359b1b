/**
 * A client session: the interactive prompt (line editing, history, slash commands), piped
 * input (one message per line), or `--execute` messages; what arrives is shown by a
 * {@link SessionOutput}.
 */
import type { Buffer } from 'node:buffer';
import {
  type CloseEvent,
  type ErrorEvent,
  type MessageEvent,
  type ReconnectEvent,
  WebSocket,
  type WebSocketEvent,
  type WebSocketOptions,
} from '../../index.js';
import { type BinaryEncoding, decodeBinary } from '../binary-text.js';
import { describeError } from '../describe.js';
import { describeCloseCode, type MessageFormat, quote } from '../format.js';
import { type Io, onSignals, printError } from '../io.js';
import { LineConsole } from '../line-console.js';
import { createStyle } from '../style.js';
import { createOutput, type SessionOutput } from './output.js';
import { runSlashCommand, SLASH_COMMANDS, type SlashContext } from './slash-commands.js';

/** What a session connects to and how it behaves. */
export interface SessionOptions {
  url: string;
  protocols: string[];
  socket: WebSocketOptions;
  format: MessageFormat;
  /** Colour the log. */
  color: boolean;
  /** Received payloads alone on stdout, the log on stderr. */
  raw: boolean;
  /** How binary payloads are written in raw mode. */
  binaryOutput: BinaryEncoding;
  /** Input lines (and `--execute` messages) are binary messages in this encoding. */
  binaryInput: BinaryEncoding | null;
  /** Show pings and pongs that arrive. */
  showPing: boolean;
  /** Messages to send once open; then wait `waitMs` and close (stdin is not read). */
  execute: string[];
  /** After the last message was sent (piped input or --execute): how long to wait for replies. */
  waitMs: number;
}

/** Exit status of a session: 0 clean close, 1 failure, 2 bad input. */
export type ExitStatus = 0 | 1 | 2;

/** How long the close that ends --wait may take before the connection is dropped. */
const END_CLOSE_MS = 1000;

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
  readonly #out: SessionOutput;
  /** stdin is a terminal: slash commands. */
  readonly #interactive: boolean;
  readonly #reconnect: boolean;
  readonly #timers = new Set<NodeJS.Timeout>();

  #ws: WebSocket | null = null;
  #console: LineConsole | null = null;
  #opened = false;
  #userClosed = false;
  #lastError: unknown;
  #finished = false;
  /** An input line could not be sent (bad --binary-input): the exit status is 1. */
  #inputRejected = false;
  /** Messages given before the first open (without --reconnect, send() would throw). */
  #outbox: Array<string | Buffer> = [];
  /** Input has ended (or --execute): close once everything is sent and `waitMs` has passed. */
  #endRequested = false;
  #waitStarted = false;
  /** --wait ran out while the connection was down (reconnecting). */
  #endedDisconnected = false;
  #pings: number[] = [];
  #removeSignals: (() => void) | null = null;

  constructor(io: Io, options: SessionOptions, done: (status: ExitStatus) => void) {
    this.#io = io;
    this.#o = options;
    this.#done = done;
    this.#interactive = options.execute.length === 0 && io.stdin.isTTY === true;
    this.#reconnect = Boolean(options.socket.reconnect);
    this.#out = createOutput(
      io,
      {
        raw: options.raw,
        binaryOutput: options.binaryOutput,
        format: options.format,
        style: createStyle(options.color),
      },
      (text) => (this.#console ? this.#console.print(text) : io.stdout.write(`${text}\n`)),
    );
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
      printError(this.#io, `${messageOf(error)}; see "wskit connect --help"`);
      this.#done(2);
      return;
    }
    this.#ws = ws;
    this.#out.info(`connecting to ${ws.url}`);
    ws.addEventListener('open', () => this.#onOpen());
    ws.addEventListener('message', (event: MessageEvent) => {
      this.#out.received(event.data as string | Buffer);
    });
    ws.addEventListener('ping', (event: WebSocketEvent) => {
      if (this.#o.showPing)
        this.#out.control('<', `ping ${quote(String((event as MessageEvent).data))}`);
    });
    ws.addEventListener('pong', (event: WebSocketEvent) => this.#onPong(event as MessageEvent));
    ws.addEventListener('error', (event: ErrorEvent) => {
      this.#lastError = event.error;
    });
    ws.addEventListener('reconnecting', (event: ReconnectEvent) => {
      const why = event.error ? `: ${this.#describe(event.error)}` : '';
      this.#out.info(`reconnecting in ${event.delay} ms (attempt ${event.attempt})${why}`);
    });
    ws.addEventListener('close', (event: CloseEvent) => this.#onClose(event));
    this.#removeSignals = onSignals(() => this.#quit());

    if (this.#o.execute.length > 0) {
      for (const message of this.#o.execute) {
        const data = this.#decode(message);
        if (data !== undefined) this.#outbox.push(data);
      }
      this.#endRequested = true;
      return;
    }
    const terminal = this.#interactive && this.#io.stdout.isTTY === true && !this.#o.raw;
    this.#console = new LineConsole(
      this.#io,
      { terminal, completions: SLASH_COMMANDS.map(([usage]) => usage.split(' ')[0]!) },
      {
        line: (line) => this.#onLine(line),
        end: () => (this.#interactive ? this.#quit() : this.#requestEnd()),
        interrupt: () => this.#quit(),
      },
    );
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
    this.#out.info(
      `connected to ${ws.url}${details.length ? ` (${details.join(', ')})` : ''}${hint}`,
    );
    const outbox = this.#outbox;
    this.#outbox = [];
    for (const data of outbox) this.#send(data);
    this.#console?.showPrompt();
    if (this.#endRequested) void this.#waitThenEnd();
  }

  #onPong(event: MessageEvent): void {
    const sent = this.#pings.shift();
    const data = event.data as Buffer;
    if (sent === undefined) {
      // A heartbeat's pong (--ping), or an unsolicited one.
      if (this.#o.showPing) this.#out.control('<', `pong ${quote(data.toString())}`);
      return;
    }
    const rtt = (performance.now() - sent).toFixed(3);
    this.#out.control('<', `pong ${quote(data.toString())} (${rtt} ms)`);
  }

  #onClose(event: CloseEvent): void {
    const ws = this.#ws!;
    if (ws.readyState !== WebSocket.CLOSED) {
      // --reconnect: another attempt follows (the reconnecting event says when).
      if (this.#opened) this.#out.info(`disconnected: ${this.#closeText(event)}`);
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
    this.#console?.finalOutput();
    const error = this.#lastError;
    let status: ExitStatus;
    if (!this.#opened) {
      status = 1;
      if (this.#userClosed) this.#out.info('closed before the connection opened');
      else
        printError(
          this.#io,
          this.#describe(error ?? new Error('the connection closed before it opened')),
        );
    } else if (this.#endedDisconnected) {
      status = 1;
      this.#out.info('--wait ended while reconnecting: not connected');
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
      this.#out.info(`${how}: ${this.#closeText(event)}`);
      if (error !== undefined) printError(this.#io, this.#describe(error));
    }
    if (this.#inputRejected) status = 1;
    this.#end(status);
  }

  #describe(error: unknown): string {
    return describeError(error, this.#o.url, {
      followRedirects: this.#o.socket.followRedirects === true,
    });
  }

  #end(status: ExitStatus): void {
    this.#finished = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#removeSignals?.();
    this.#console?.close();
    this.#done(status);
  }

  // -- input -----------------------------------------------------------------------------------

  #onLine(line: string): void {
    if (this.#finished) return;
    if (this.#interactive && line.startsWith('/') && !line.startsWith('//')) {
      runSlashCommand(line, this.#slashContext());
      return;
    }
    const text = this.#interactive && line.startsWith('//') ? line.slice(1) : line;
    const data = this.#decode(text);
    if (data !== undefined) this.#send(data);
  }

  #slashContext(): SlashContext {
    return {
      ws: this.#ws!,
      output: this.#out,
      send: (data) => this.#send(data),
      pinged: () => this.#pings.push(performance.now()),
      closing: () => {
        this.#userClosed = true;
      },
      quit: () => this.#quit(),
    };
  }

  /** An input line as a message: text, or binary decoded per --binary-input. */
  #decode(line: string): string | Buffer | undefined {
    const encoding = this.#o.binaryInput;
    if (encoding === null) return line;
    const bytes = decodeBinary(line, encoding);
    if (bytes === undefined) {
      this.#inputRejected = true;
      const shown = line.length > 40 ? `${line.slice(0, 40)}...` : line;
      this.#out.problem(`not sent: ${quote(shown)} is not ${encoding} (--binary-input)`);
    }
    return bytes;
  }

  /** Sends a message now, queues it until the first open, or reports why it cannot. */
  #send(data: string | Buffer): void {
    const ws = this.#ws!;
    if (ws.readyState === WebSocket.CONNECTING && !(this.#reconnect && this.#opened)) {
      this.#outbox.push(data);
      return;
    }
    if (ws.readyState !== WebSocket.OPEN && ws.readyState !== WebSocket.CONNECTING) {
      this.#out.problem('not sent: the connection is closing');
      return;
    }
    const queued = ws.readyState === WebSocket.CONNECTING;
    try {
      ws.send(data);
    } catch (error) {
      this.#out.problem(`not sent: ${messageOf(error)}`);
      return;
    }
    this.#out.sent(data, queued ? 'queued' : '');
  }

  #requestEnd(): void {
    this.#endRequested = true;
    if (this.#opened) void this.#waitThenEnd();
  }

  /**
   * Once everything sent has left (while the connection is up), waits `waitMs` for replies,
   * then ends the session, connected or not: --wait bounds the session after the last message,
   * whatever a flapping server does meanwhile.
   */
  async #waitThenEnd(): Promise<void> {
    if (this.#waitStarted) return;
    this.#waitStarted = true;
    const ws = this.#ws!;
    while (ws.readyState === WebSocket.OPEN && ws.bufferedAmount > 0) await this.#sleep(10);
    await this.#sleep(this.#o.waitMs);
    if (this.#finished) return;
    this.#userClosed = true;
    if (ws.readyState === WebSocket.CONNECTING) {
      this.#endedDisconnected = true;
      ws.close();
      return;
    }
    if (ws.readyState === WebSocket.OPEN) ws.close(1000);
    // The peer gets a moment to answer the close, not the full close timeout.
    await this.#sleep(END_CLOSE_MS);
    if (!this.#finished) ws.terminate();
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
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
