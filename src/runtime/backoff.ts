/**
 * How long to wait before the next try of something long-lived that keeps failing: an informer's
 * watch, a supervised exabgp, a candidacy publish, a node route. p-retry covers retrying one call
 * (the loop uses it); these are schedules whose failure count lives with a component across calls
 * and resets on its own success, so they share this one formula instead.
 */
export interface Backoff {
  /** The first delay. */
  readonly minMs: number;
  /** No delay is longer (jitter aside). */
  readonly maxMs: number;
  /**
   * `none`: exact. `spread`: ±20 %, so that restarts drift apart. `full`: anywhere from half the
   * first delay up to the exponential one, so that many clients failing at once (an API server
   * outage) do not come back in lockstep.
   */
  readonly jitter?: 'none' | 'spread' | 'full';
}

/** The delay after `step` doublings (0: `minMs`), capped at `maxMs`, with the policy's jitter. */
export function backoffDelay(step: number, backoff: Backoff, random: () => number = Math.random): number {
  const base = Math.min(backoff.maxMs, backoff.minMs * 2 ** Math.min(Math.max(step, 0), 30));
  switch (backoff.jitter ?? 'none') {
    case 'none':
      return base;
    case 'spread':
      return Math.round(base * (0.8 + 0.4 * random()));
    case 'full':
      return backoff.minMs / 2 + random() * base;
  }
}
