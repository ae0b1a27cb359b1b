/**
 * Colours of the command line, through Node's `util.styleText` (Node 20.12 and later), with a
 * fallback over `util.inspect.colors` for older Node 20 releases.
 */
import * as util from 'node:util';

/** The colours and emphases the commands use. */
export type StyleName = 'dim' | 'bold' | 'red' | 'green' | 'yellow' | 'cyan';

/** ANSI colours, or none. */
export interface Style {
  readonly enabled: boolean;
  dim(text: string): string;
  bold(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
}

type StyleText = (format: StyleName, text: string) => string;

const nodeStyleText: StyleText =
  typeof util.styleText === 'function'
    ? // Whether to colour is decided here (useColor), for the stream the text goes to; Node's
      // own check looks at stdout only.
      (format, text) => util.styleText(format, text, { validateStream: false })
    : (format, text) => {
        const [open, close] = util.inspect.colors[format] ?? [];
        return open === undefined ? text : `\x1b[${open}m${text}\x1b[${close}m`;
      };

/** A {@link Style} that colours when `enabled`, and returns text unchanged otherwise. */
export function createStyle(enabled: boolean): Style {
  const wrap = (name: StyleName) => (text: string) => (enabled ? nodeStyleText(name, text) : text);
  return {
    enabled,
    dim: wrap('dim'),
    bold: wrap('bold'),
    red: wrap('red'),
    green: wrap('green'),
    yellow: wrap('yellow'),
    cyan: wrap('cyan'),
  };
}

/**
 * Whether to colour output to `stream`: it is a terminal, `--no-color` was not given and the
 * `NO_COLOR` environment variable is unset or empty (https://no-color.org).
 */
export function useColor(
  stream: { isTTY?: boolean },
  noColorFlag: boolean,
  env: NodeJS.ProcessEnv,
): boolean {
  return stream.isTTY === true && !noColorFlag && !env.NO_COLOR;
}
