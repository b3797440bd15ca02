import { backendKey, compareBackends, type PlaneBackend } from './model.js';

/*
 * Backend drain bookkeeping, pure (the caller passes the time): a backend that leaves the ready
 * set drains for the drain time (no new flows; established ones go on), then expires (its
 * established flows are cut). One that comes back ready before that stops draining.
 */

export interface Draining {
  readonly backend: PlaneBackend;
  /** When it left the ready set (ms, the caller's clock). */
  readonly since: number;
}

export interface DrainStep {
  /** Still draining, in canonical order. */
  readonly draining: readonly Draining[];
  /** Drained for the whole drain time now: their established flows are to be cut. */
  readonly expired: readonly PlaneBackend[];
  /** When the next one of `draining` expires (ms); absent when none drains. */
  readonly nextDeadline?: number;
}

export function stepDrains(input: {
  readonly previous: readonly PlaneBackend[];
  readonly current: readonly PlaneBackend[];
  readonly draining: readonly Draining[];
  readonly now: number;
  readonly drainMs: number;
}): DrainStep {
  const ready = new Set(input.current.map(backendKey));
  const candidates = new Map<string, Draining>();
  for (const d of input.draining) {
    if (!ready.has(backendKey(d.backend))) candidates.set(backendKey(d.backend), d);
  }
  for (const backend of input.previous) {
    const key = backendKey(backend);
    if (!ready.has(key) && !candidates.has(key)) candidates.set(key, { backend, since: input.now });
  }
  const draining: Draining[] = [];
  const expired: PlaneBackend[] = [];
  for (const d of candidates.values()) {
    if (input.now - d.since >= input.drainMs) expired.push(d.backend);
    else draining.push(d);
  }
  draining.sort((a, b) => compareBackends(a.backend, b.backend));
  expired.sort(compareBackends);
  const deadlines = draining.map((d) => d.since + input.drainMs);
  return {
    draining,
    expired,
    ...(deadlines.length > 0 && { nextDeadline: Math.min(...deadlines) }),
  };
}
