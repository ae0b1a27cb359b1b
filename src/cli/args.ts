/**
 * Command-line options of the wskit commands, read with Node's `util.parseArgs`: long options
 * (`--name value`, `--name=value`), short ones (`-H value`, `-Hvalue`), repeatable options, `--`
 * to end the options. This file adds what `parseArgs` leaves out: one-line usage errors that say
 * what to try ("did you mean --protocol?"), numeric checks, and the option table of a help text.
 */
import { parseArgs } from 'node:util';

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

/** What {@link readOptions} found. */
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

type ParseArgsOptions = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

/**
 * Parses `argv` against `specs`. `command` names the command in error messages ("connect").
 * Throws a {@link UsageError} for an unknown option, a missing value or a flag given a value.
 */
export function readOptions(
  argv: readonly string[],
  specs: readonly OptionSpec[],
  command: string,
): ParsedArgs {
  const options: ParseArgsOptions = {};
  for (const spec of specs) {
    options[spec.name] = {
      type: spec.kind === 'flag' ? 'boolean' : 'string',
      ...(spec.short ? { short: spec.short } : {}),
      ...(spec.kind === 'flag' ? {} : { multiple: true }),
    };
  }
  // strict: false, so that the checks below can word the errors (parseArgs's own say nothing of
  // what to try); the tokens keep every detail needed for that.
  const { tokens } = parseArgs({
    args: [...argv],
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const byName = new Map(specs.map((s) => [s.name, s]));
  const values = new Map<string, string[]>();
  const positionals: string[] = [];
  const helpHint = `see "wskit ${command ? `${command} ` : ''}--help"`;

  for (const token of tokens) {
    if (token.kind === 'positional') {
      positionals.push(token.value);
      continue;
    }
    if (token.kind !== 'option') continue;
    const spec = byName.get(token.name);
    const shown = token.rawName;
    if (!spec) {
      const close = suggest(shown, specs);
      throw new UsageError(
        `unknown option ${shown}${close ? ` (did you mean ${close}?)` : ''}; ${helpHint}`,
      );
    }
    const list = values.get(spec.name) ?? [];
    values.set(spec.name, list);
    if (spec.kind === 'flag') {
      if (token.value !== undefined) {
        throw new UsageError(`option ${shown} takes no value, got "${token.value}"; ${helpHint}`);
      }
      list.push('');
      continue;
    }
    if (token.value === undefined) {
      throw new UsageError(
        `option ${shown} needs a value${spec.value ? ` ${spec.value}` : ''}; ${helpHint}`,
      );
    }
    // `-H=value` reads as `-H value`, as it always has in wskit.
    const value =
      token.inlineValue && !shown.startsWith('--') && token.value.startsWith('=')
        ? token.value.slice(1)
        : token.value;
    list.push(value);
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

/**
 * Reads an option whose value is one of `choices`: `fallback` when absent; throws a
 * {@link UsageError} listing the choices otherwise.
 */
export function choiceOption<T extends string>(
  args: ParsedArgs,
  name: string,
  choices: readonly T[],
  fallback: T,
): T {
  const raw = args.value(name);
  if (raw === undefined) return fallback;
  const found = choices.find((c) => c === raw.toLowerCase());
  if (found === undefined)
    throw new UsageError(`--${name} must be ${choices.join(' or ')}, got "${raw}"`);
  return found;
}

/** Throws a {@link UsageError} when more than one of the options `names` is given. */
export function exclusive(args: ParsedArgs, ...names: string[]): void {
  const given = names.filter((n) => args.flag(n));
  if (given.length > 1) {
    throw new UsageError(`${given.map((n) => `--${n}`).join(' and ')} cannot be used together`);
  }
}

/** Throws a {@link UsageError} when option `name` is given without `needed`. */
export function requires(args: ParsedArgs, name: string, needed: string): void {
  if (args.flag(name) && !args.flag(needed)) throw new UsageError(`--${name} needs --${needed}`);
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
