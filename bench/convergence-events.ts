/** The four LB changes the benchmark makes, as in the paper's Fig. 13 plus the failures it discusses. */
export type EventKind = 'start' | 'graceful-stop' | 'sigkill' | 'node-death';

export const EVENT_KINDS: readonly EventKind[] = ['start', 'graceful-stop', 'sigkill', 'node-death'];

export interface Slot {
  readonly node: number;
  running: boolean;
}

/**
 * Picks the next event from what the lab allows: a start needs a stopped LB on a live node; a
 * stop, kill or node death needs more than `min` running LBs. Node deaths are rarer because each
 * one costs a hold time.
 */
export function pickEvent(
  slots: readonly Slot[],
  min: number,
  random: () => number,
): { kind: EventKind; slot: Slot } | undefined {
  const running = slots.filter((s) => s.running);
  const stopped = slots.filter((s) => !s.running);
  const weights: [EventKind, number][] = [
    ['start', stopped.length > 0 ? 3 : 0],
    ['graceful-stop', running.length > min ? 2 : 0],
    ['sigkill', running.length > min ? 2 : 0],
    ['node-death', running.length > min ? 1 : 0],
  ];
  const total = weights.reduce((a, [, w]) => a + w, 0);
  if (total === 0) return undefined;
  let r = random() * total;
  for (const [kind, w] of weights) {
    if (r < w) {
      const pool = kind === 'start' ? stopped : running;
      const slot = pool[Math.floor(random() * pool.length)];
      return slot === undefined ? undefined : { kind, slot };
    }
    r -= w;
  }
  return undefined;
}

/** Nearest-rank percentile of a sorted list. */
export function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** A small seeded PRNG (mulberry32), so a run can be repeated event for event. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
