import { errorMessage } from '../errors.js';
import { backoffDelay } from '../runtime/backoff.js';
import type { Logger } from '../runtime/logger.js';

/** The three states an LB reports about itself, in lifecycle order. */
export type LbState = 'ready' | 'draining' | 'gone';

export interface StatePublisherOptions<S extends LbState> {
  /** What is published, for messages and log events: `candidacy`, `lifecycle`. */
  readonly what: string;
  /** Where it goes, for the failure message (`to topic X`); none: said by the error itself. */
  readonly where?: string;
  /** Publishes one report made at `at` (unix ms); throws when it did not go out. */
  readonly publish: (state: S, at: number) => Promise<void>;
  /** The state to report now, unless one is held; undefined: not known yet (nothing is published). */
  readonly current: () => S | undefined | Promise<S | undefined>;
  readonly refreshSeconds: number;
  /** Unix milliseconds. */
  readonly now: () => number;
  readonly logger: Logger;
  /** The published state changed (refreshes do not count). */
  readonly onChange?: (state: S) => void;
  /** Counts failed publishes (`portlb_publish_failures_total{what}`). */
  readonly failures?: { inc(labels: { what: string }): void } | undefined;
}

export interface StatePublisher<S extends LbState> {
  /** Publishes when the state changed or the last report is due for refresh; cheap otherwise. */
  tick(): Promise<void>;
  /** Publishes this state now and holds it (shutdown: draining, then gone). */
  announce(state: S): Promise<void>;
  /**
   * The last failure, while it lasts. Not a readiness reason: the pod can still serve what reaches
   * it, and a publish outage (throttling, Pub/Sub down) would otherwise take every LB out at once.
   */
  failing(): string[];
  /** The last report that went out. */
  last(): { readonly state: S; readonly at: number } | undefined;
}

/**
 * An LB's report about itself, kept current wherever it goes (tags on AWS route tables, an
 * EventBridge event, a Pub/Sub message): published on change and again every `refreshSeconds`, so
 * a report lost, reordered, or never followed by a word from a dead pod goes stale; after a
 * failure it waits with backoff (2 s after the first, doubling, at most the refresh period or 64 s) before it tries
 * again. A state announced at shutdown is held and tried at once.
 */
export function createStatePublisher<S extends LbState>(
  options: StatePublisherOptions<S>,
): StatePublisher<S> {
  let held: S | undefined;
  let last: { state: S; at: number } | undefined;
  let failures = 0;
  let retryAt = 0;
  let lastError: string | undefined;
  const backoff = { minMs: 1000, maxMs: Math.min(options.refreshSeconds, 64) * 1000 };

  async function attempt(state: S): Promise<void> {
    const at = Math.floor(options.now());
    try {
      await options.publish(state, at);
      const changed = last?.state !== state;
      last = { state, at };
      failures = 0;
      lastError = undefined;
      if (changed) options.onChange?.(state);
    } catch (error) {
      failures += 1;
      options.failures?.inc({ what: options.what });
      const to = options.where ? ` to ${options.where}` : '';
      lastError = `publishing ${options.what} ${state}${to} failed: ${errorMessage(error)}`;
      retryAt = options.now() + backoffDelay(failures, backoff);
      options.logger.warn({ event: `${options.what}_failed`, state, err: errorMessage(error) }, lastError);
    }
  }

  return {
    async tick() {
      const now = options.now();
      if (now < retryAt) return;
      const state = held ?? (await options.current());
      if (state === undefined) return;
      const due =
        last === undefined || last.state !== state || now - last.at >= options.refreshSeconds * 1000;
      if (due) await attempt(state);
    },
    async announce(state) {
      held = state;
      retryAt = 0;
      await attempt(state);
    },
    failing: () => (lastError ? [lastError] : []),
    last: () => last,
  };
}
