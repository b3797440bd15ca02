import pRetry, { AbortError } from 'p-retry';
import { isTransient } from '../errors.js';

export interface LoopOptions {
  /** One level-triggered pass: observe everything, plan, apply. Must be safe to repeat. */
  readonly run: (reason: string) => Promise<void>;
  /** A full resync runs this often even when no event arrives. */
  readonly resyncMs: number;
  /** Events within this window collapse into one run. */
  readonly debounceMs: number;
  readonly retry?: { readonly retries: number; readonly minMs: number; readonly maxMs: number };
  readonly isRetryable?: (error: unknown) => boolean;
  /** Every failed attempt, retried or not. */
  readonly onError?: (error: unknown, info: { attempt: number; willRetry: boolean }) => void;
  /** stop() waits at most this long for a run in flight, so a hung call cannot eat the grace period. */
  readonly stopTimeoutMs?: number;
}

export interface Loop {
  /** Schedules a run (debounced); never runs inline. */
  trigger(reason: string): void;
  start(): void;
  /** Stops timers, aborts retry waits, and waits (bounded) for a run in flight to finish. */
  stop(): Promise<void>;
  /** Resolves when no run is in flight or scheduled (for tests and `--once`). */
  idle(): Promise<void>;
}

/**
 * The level-triggered loop from external-dns's controller: events only schedule a run, runs never
 * overlap (an event during a run schedules one more), a timer always resyncs, and transient errors
 * are retried with exponential backoff and jitter.
 */
export function createLoop(options: LoopOptions): Loop {
  const retry = options.retry ?? { retries: 5, minMs: 200, maxMs: 30_000 };
  const isRetryable = options.isRetryable ?? isTransient;
  const abort = new AbortController();
  let debounce: NodeJS.Timeout | undefined;
  let resync: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;
  let pending: string[] = [];
  let stopped = false;
  let waiters: (() => void)[] = [];

  const settleIdle = () => {
    if (inFlight || debounce || pending.length > 0) return;
    const done = waiters;
    waiters = [];
    for (const resolve of done) resolve();
  };

  const runOnce = async (reason: string) => {
    try {
      await pRetry(
        async (attempt) => {
          try {
            await options.run(attempt === 1 ? reason : `${reason} (retry ${attempt - 1})`);
          } catch (error) {
            const retryable = isRetryable(error) && !stopped;
            options.onError?.(error, { attempt, willRetry: retryable && attempt <= retry.retries });
            if (!retryable) throw new AbortError(error instanceof Error ? error : new Error(String(error)));
            throw error;
          }
        },
        {
          retries: retry.retries,
          minTimeout: retry.minMs,
          maxTimeout: retry.maxMs,
          randomize: true,
          signal: abort.signal,
        },
      );
    } catch {
      // Already reported through onError; the next event or resync tries again.
    }
  };

  const fire = () => {
    debounce = undefined;
    if (inFlight) return; // the run in flight picks up `pending` when it ends
    const reasons = pending;
    pending = [];
    if (reasons.length === 0 || stopped) return settleIdle();
    inFlight = runOnce([...new Set(reasons)].join(', ')).finally(() => {
      inFlight = undefined;
      if (pending.length > 0 && !stopped) schedule();
      settleIdle();
    });
  };

  const schedule = () => {
    if (debounce === undefined) debounce = setTimeout(fire, options.debounceMs);
  };

  return {
    trigger(reason) {
      if (stopped) return;
      pending.push(reason);
      schedule();
    },
    start() {
      if (resync !== undefined || stopped) return;
      this.trigger('start');
      resync = setInterval(() => this.trigger('resync'), options.resyncMs);
    },
    async stop() {
      stopped = true;
      clearInterval(resync);
      clearTimeout(debounce);
      debounce = undefined;
      pending = [];
      abort.abort();
      if (inFlight !== undefined) {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, options.stopTimeoutMs ?? 10_000);
        });
        await Promise.race([inFlight, timeout]);
        clearTimeout(timer);
      }
      settleIdle();
    },
    idle() {
      return new Promise((resolve) => {
        waiters.push(resolve);
        settleIdle();
      });
    },
  };
}
