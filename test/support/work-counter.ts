/**
 * Counts the work a synchronous function does, without a clock: every call of a string, array,
 * set, map or byte-array built-in made while it runs costs one, plus the length it may scan or
 * copy. Deterministic on a loaded machine, so two inputs can be compared for how the work grows:
 * a hidden quadratic scan (`list.includes(item)` in a loop, a buffer re-joined on every chunk)
 * shows up as work growing with the square of the input.
 */

type Cost = (self: unknown, args: unknown[], result: unknown) => number;

const lengthOf = (value: unknown): number =>
  typeof value === 'string' || Array.isArray(value) || ArrayBuffer.isView(value)
    ? (value as { length: number }).length
    : 0;
/** Scans or copies the whole receiver. */
const scansSelf: Cost = (self) => 1 + lengthOf(self);
/** Produces (copies) its result. */
const copiesResult: Cost = (_self, _args, result) => 1 + lengthOf(result);
/** Copies its first argument (`TypedArray#set`) or its arguments (`String.fromCharCode`). */
const copiesArgument: Cost = (_self, args) => 1 + lengthOf(args[0]);
const copiesArguments: Cost = (_self, args) => 1 + args.length;
const constant: Cost = () => 1;

const TypedArray = Object.getPrototypeOf(Uint8Array.prototype) as object;

const METERED: Array<[object, string, Cost]> = [
  ...(
    [
      'indexOf',
      'lastIndexOf',
      'includes',
      'split',
      'toLowerCase',
      'toUpperCase',
      'trim',
      'startsWith',
      'endsWith',
      'replace',
      'replaceAll',
      'search',
      'match',
    ] as const
  ).map((name): [object, string, Cost] => [String.prototype, name, scansSelf]),
  ...(['slice', 'substring', 'repeat', 'concat', 'padStart', 'padEnd'] as const).map(
    (name): [object, string, Cost] => [String.prototype, name, copiesResult],
  ),
  ...(['charCodeAt', 'codePointAt', 'charAt', 'at'] as const).map(
    (name): [object, string, Cost] => [String.prototype, name, constant],
  ),
  [String, 'fromCharCode', copiesArguments],
  ...(
    [
      'includes',
      'indexOf',
      'lastIndexOf',
      'find',
      'findIndex',
      'findLast',
      'some',
      'every',
      'filter',
      'map',
      'forEach',
      'reduce',
      'join',
      'splice',
      'shift',
      'unshift',
      'reverse',
      'sort',
    ] as const
  ).map((name): [object, string, Cost] => [Array.prototype, name, scansSelf]),
  [Array.prototype, 'slice', copiesResult],
  [Array.prototype, 'concat', copiesResult],
  [Array.prototype, 'push', constant],
  [Array.prototype, 'pop', constant],
  ...(['has', 'add', 'delete'] as const).map((name): [object, string, Cost] => [
    Set.prototype,
    name,
    constant,
  ]),
  ...(['has', 'get', 'set', 'delete'] as const).map((name): [object, string, Cost] => [
    Map.prototype,
    name,
    constant,
  ]),
  [TypedArray, 'set', copiesArgument],
  [TypedArray, 'slice', copiesResult],
  [TypedArray, 'subarray', constant],
  [TypedArray, 'indexOf', scansSelf],
  [TypedArray, 'includes', scansSelf],
];

/** Runs `fn` and returns the work it did (see the module comment). */
export function countWork(fn: () => void): number {
  let work = 0;
  let inside = false;
  const restore: Array<() => void> = [];
  for (const [owner, name, cost] of METERED) {
    const original = (owner as Record<string, unknown>)[name];
    if (typeof original !== 'function') continue;
    const metered = function (this: unknown, ...args: unknown[]): unknown {
      const result = Reflect.apply(original, this, args);
      // The counter's own bookkeeping is not the measured code's work.
      if (!inside) {
        inside = true;
        try {
          work += cost(this, args, result);
        } finally {
          inside = false;
        }
      }
      return result;
    };
    Object.defineProperty(owner, name, { value: metered, writable: true, configurable: true });
    restore.push(() =>
      Object.defineProperty(owner, name, { value: original, writable: true, configurable: true }),
    );
  }
  try {
    fn();
  } finally {
    for (const undo of restore) undo();
  }
  return work;
}
