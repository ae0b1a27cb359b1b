/**
 * Lines in, lines out: stdin read line by line (node:readline), and, when stdin and the output
 * are terminals, a prompt with line editing and history that output lines are printed above
 * without disturbing the line being edited. Used by `wskit connect` and `wskit serve`.
 */
import {
  clearScreenDown,
  createInterface,
  cursorTo,
  type Interface,
  moveCursor,
} from 'node:readline';
import { displayWidth } from './format.js';
import type { Io } from './io.js';

/** What a {@link LineConsole} reports. */
export interface LineConsoleHandlers {
  /** A line was entered (or read from piped input). */
  line(line: string): void;
  /** Input ended: Ctrl-D, or the end of piped input. */
  end(): void;
  /** Ctrl-C at the prompt (the terminal is in raw mode, so no SIGINT reaches the process). */
  interrupt(): void;
}

/** How a {@link LineConsole} reads. */
export interface LineConsoleOptions {
  /** Draw a prompt and edit lines (stdin and `output` must be terminals). */
  terminal: boolean;
  /** Tab completion of a line that starts with `/`: the candidates. */
  completions?: readonly string[];
}

/** The prompt once shown. */
const PROMPT = '> ';

/** stdin as lines, with an optional prompt; see the file comment. */
export class LineConsole {
  readonly #rl: Interface;
  readonly #out: NodeJS.WriteStream;
  readonly #terminal: boolean;
  #promptShown = false;
  /** Printing the last lines: the prompt is not drawn again. */
  #finalOutput = false;
  #closed = false;

  constructor(io: Io, options: LineConsoleOptions, handlers: LineConsoleHandlers) {
    this.#out = io.stdout;
    this.#terminal = options.terminal;
    const completions = options.completions ?? [];
    const rl = createInterface({
      input: io.stdin,
      ...(options.terminal
        ? {
            output: io.stdout,
            terminal: true,
            // No prompt until showPrompt().
            prompt: '',
            historySize: 1000,
            removeHistoryDuplicates: true,
            completer: (line: string): [string[], string] => [
              line.startsWith('/') ? completions.filter((n) => n.startsWith(line)) : [],
              line,
            ],
          }
        : { terminal: false, crlfDelay: Number.POSITIVE_INFINITY }),
    });
    this.#rl = rl;
    rl.on('line', (line) => {
      if (this.#closed) return;
      if (this.#terminal) this.#eraseInput(line);
      handlers.line(line);
      if (this.#promptShown && !this.#closed) rl.prompt();
    });
    if (options.terminal) {
      // Before readline handles Enter, redraw the line: how many rows it takes is then known
      // (readline leaves a line that exactly fills its rows in one of two states otherwise),
      // so the echoed input can be replaced by what the line produced.
      const beforeEnter = (_text: string, key: { name?: string } | undefined) => {
        if (key?.name === 'return' || key?.name === 'enter') rl.prompt(true);
      };
      io.stdin.prependListener('keypress', beforeEnter);
      rl.on('close', () => io.stdin.removeListener('keypress', beforeEnter));
    }
    rl.on('SIGINT', () => handlers.interrupt());
    rl.on('close', () => {
      if (this.#closed) return;
      this.#closed = true;
      if (this.#promptShown) {
        // Ctrl-D: the prompt goes; what follows is printed without one.
        this.#promptShown = false;
        cursorTo(this.#out, 0);
        clearScreenDown(this.#out);
      }
      handlers.end();
    });
  }

  /** Shows the prompt (terminal only), once. */
  showPrompt(): void {
    if (!this.#terminal || this.#promptShown || this.#closed) return;
    this.#promptShown = true;
    this.#rl.setPrompt(PROMPT);
    this.#rl.prompt(true);
  }

  /** From now on, lines are printed without drawing the prompt again (the session is ending). */
  finalOutput(): void {
    this.#finalOutput = true;
  }

  /** Prints whole lines on the output, above the prompt and the line being edited. */
  print(text: string): void {
    const out = this.#out;
    if (this.#terminal && this.#promptShown) {
      moveCursor(out, 0, -this.#rl.getCursorPos().rows);
      cursorTo(out, 0);
      clearScreenDown(out);
      out.write(`${text}\n`);
      if (!this.#finalOutput) this.#rl.prompt(true);
    } else {
      out.write(`${text}\n`);
    }
  }

  /** Stops reading; no more lines are reported. */
  close(): void {
    this.#closed = true;
    this.#promptShown = false;
    this.#rl.close();
  }

  /** After Enter: removes the echoed input line, which the printed result replaces. */
  #eraseInput(line: string): void {
    const columns = this.#out.columns;
    if (!columns) return;
    const rows = Math.floor(displayWidth(this.#rl.getPrompt() + line) / columns) + 1;
    moveCursor(this.#out, 0, -rows);
    cursorTo(this.#out, 0);
    clearScreenDown(this.#out);
  }
}
