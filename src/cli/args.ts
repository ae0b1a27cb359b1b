/**
 * A small command-line parser for the wskit commands: long options (`--name value`,
 * `--name=value`), short ones (`-H value`, `-Hvalue`), repeatable options, `--` to end the
 * options, and one-line usage errors that say what to try.
 */

/** How an option takes values: a flag takes none, a value option one, a list option many. */
export type OptionKind = 'flag' | 'value' | 'list';

/** One option of a command, as the parser and the help text see it. */
export interface OptionSpec {
  /** Long name without the dashes, such as `header`. */
  readonly name: string;
  /** One-letter short name without the dash, such as `H`. */
  readonly short?: string;
  readonly kind: OptionKind;
  /** Placeholder of the value in the help text, such as `<url>`. */
  readonly value?: string;
  /** One line for the help text. */
  readonly help: string;
}

/** A mistake on the command line: reported in one line, exit status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** What {@link parseArgs} found. */
export interface ParsedArgs {
  /** Arguments that are not options, in order. */
  readonly positionals: readonly string[];
  /** Whether a flag was given. */
  flag(name: string): boolean;
  /** The last value given for a value option, if any. */
  value(name: string): string | undefined;
  /** Every value given for a list option, in order. */
  list(name: string): string[];
}

/**
 * Parses `argv` against `specs`. `command` names the command in error messages ("connect").
 * Throws a {@link UsageError} for an unknown option, a missing value or a flag given a value.
 */
export function parseArgs(
  argv: readonly string[],
  specs: readonly OptionSpec[],
  command: string,
): ParsedArgs {
  const byLong = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short!, s]));
  const values = new Map<string, string[]>();
  const positionals: string[] = [];
  const helpHint = `see "wskit ${command ? `${command} ` : ''}--help"`;

  const add = (spec: OptionSpec, value: string) => {
    const list = values.get(spec.name) ?? [];
    list.push(value);
    values.set(spec.name, list);
  };

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    let spec: OptionSpec | undefined;
    let inline: string | undefined;
    let shown: string;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      if (eq >= 0) inline = arg.slice(eq + 1);
      spec = byLong.get(name);
      shown = `--${name}`;
    } else if (arg.startsWith('-') && arg.length > 1) {
      const letter = arg[1]!;
      spec = byShort.get(letter);
      if (arg.length > 2) inline = arg.slice(arg[2] === '=' ? 3 : 2);
      shown = `-${letter}`;
    } else {
      positionals.push(arg);
      continue;
    }
    if (!spec) {
      const close = suggest(shown, specs);
      throw new UsageError(
        `unknown option ${shown}${close ? ` (did you mean ${close}?)` : ''}; ${helpHint}`,
      );
    }
    if (spec.kind === 'flag') {
      if (inline !== undefined) {
        // `-xy` style bundles are not supported: say so rather than guess.
        throw new UsageError(`option ${shown} takes no value, got "${inline}"; ${helpHint}`);
      }
      add(spec, '');
      continue;
    }
    if (inline === undefined) {
      if (i + 1 >= argv.length) {
        throw new UsageError(
          `option ${shown} needs a value${spec.value ? ` ${spec.value}` : ''}; ${helpHint}`,
        );
      }
      inline = argv[++i]!;
    }
    add(spec, inline);
  }

  return {
    positionals,
    flag: (name) => values.has(name),
    value: (name) => values.get(name)?.at(-1),
    list: (name) => values.get(name) ?? [],
  };
}

/** The option of `specs` whose long name is closest to `given` (a typo), if one is close. */
function suggest(given: string, specs: readonly OptionSpec[]): string | undefined {
  const bare = given.replace(/^-+/, '');
  if (bare.length < 3) return undefined;
  let best: string | undefined;
  let bestDistance = 3;
  for (const spec of specs) {
    const d = distance(bare, spec.name);
    if (d < bestDistance) {
      bestDistance = d;
      best = `--${spec.name}`;
    }
  }
  return best;
}

/** Levenshtein distance of two short strings. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** Bounds of a numeric option. */
export interface NumberRule {
  min: number;
  max?: number;
  /** Only whole numbers (default false). */
  integer?: boolean;
}

/**
 * Reads a numeric option: `fallback` when it is absent, else the number, checked against
 * `rule`; throws a {@link UsageError} that names the option and the accepted range.
 */
export function numberOption(
  args: ParsedArgs,
  name: string,
  fallback: number,
  rule: NumberRule,
): number {
  const raw = args.value(name);
  if (raw === undefined) return fallback;
  const n = raw.trim() === '' ? Number.NaN : Number(raw);
  const { min, max, integer = false } = rule;
  const ok = Number.isFinite(n) && n >= min && (max === undefined || n <= max);
  if (!ok || (integer && !Number.isInteger(n))) {
    const kind = integer ? 'a whole number' : 'a number';
    const range = max === undefined ? `of at least ${min}` : `from ${min} to ${max}`;
    throw new UsageError(`--${name} must be ${kind} ${range}, got "${raw}"`);
  }
  return n;
}

/** Throws a {@link UsageError} when more than one of the flags `names` is given. */
export function exclusive(args: ParsedArgs, ...names: string[]): void {
  const given = names.filter((n) => args.flag(n));
  if (given.length > 1) {
    throw new UsageError(`${given.map((n) => `--${n}`).join(' and ')} cannot be used together`);
  }
}

/** The option table of a help text: one aligned line per option. */
export function formatOptions(specs: readonly OptionSpec[]): string {
  const heads = specs.map((s) => {
    const names = s.short ? `-${s.short}, --${s.name}` : `    --${s.name}`;
    return s.value ? `${names} ${s.value}` : names;
  });
  const width = Math.max(...heads.map((h) => h.length)) + 2;
  return specs.map((s, i) => `  ${heads[i]!.padEnd(width)}${s.help}`).join('\n');
}
