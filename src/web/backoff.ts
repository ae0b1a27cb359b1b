/** How reconnect delays grow: every field is in milliseconds except `factor` and `jitter`. */
export interface BackoffPolicy {
  /** Delay before the first retry. */
  minDelay: number;
  /** Longest delay between retries. */
  maxDelay: number;
  /** Growth of the delay per failed attempt (>= 1). */
  factor: number;
  /** Fraction of each delay that is randomised, 0-1: spreads reconnect storms of many clients. */
  jitter: number;
}

/**
 * The delay before retry number `attempt` (1 for the first retry): exponential growth from
 * `minDelay`, capped at `maxDelay`, less a random share of up to `jitter` of it. Pure apart from
 * `random`, which tests may replace.
 */
export function backoff(
  attempt: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, attempt - 1);
  const base = Math.min(policy.maxDelay, policy.minDelay * policy.factor ** exponent);
  return Math.round(base * (1 - policy.jitter * random()));
}
