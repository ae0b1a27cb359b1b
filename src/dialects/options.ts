/**
 * The dialects' check of option and property bags: an unknown key is a `TypeError` that names
 * it and, where one exists, the right key, so a misspelt or misplaced option never goes
 * unnoticed.
 */

/**
 * Throws a `TypeError` for the first key of `bag` that is not in `known`. The message names the
 * key and suggests `hints[key]`, else a known key that differs only in case.
 *
 * @param what - Who takes the bag, for the message (e.g. `new WebSocket()`).
 */
export function checkOptions(
  what: string,
  bag: object,
  known: readonly string[],
  hints: Readonly<Record<string, string>> = {},
): void {
  for (const key of Object.keys(bag)) {
    if (known.includes(key)) continue;
    throw new TypeError(unknownKeyMessage(what, key, known, hints));
  }
}

/** The message for an unknown `key`: what was wrong and, when there is one, the right key. */
export function unknownKeyMessage(
  what: string,
  key: string,
  known: readonly string[],
  hints: Readonly<Record<string, string>> = {},
  listKnown = true,
): string {
  const right =
    (Object.hasOwn(hints, key) ? hints[key] : undefined) ??
    known.find((k) => k.toLowerCase() === key.toLowerCase());
  return right !== undefined
    ? `${what}: unknown option "${key}": did you mean "${right}"?`
    : listKnown
      ? `${what}: unknown option "${key}"; the options are ${known.map((k) => `"${k}"`).join(', ')}`
      : `${what}: unknown option "${key}": there is no such property or signal handler`;
}
