/*
 * What bench:traffic makes of vegeta's per-request results, pure: which requests each change
 * touched, how many failed, each LB's share of new flows, requests/s over time and per point.
 */

export const TRAFFIC_KINDS = [
  'scale-up',
  'graceful-stop',
  'sigkill',
  'backend-add',
  'backend-remove',
] as const;
export type TrafficKind = (typeof TRAFFIC_KINDS)[number];

/** One request as the analysis needs it; times in ms on the bench's clock (epoch ms). */
export interface Req {
  readonly stream: string;
  readonly start: number;
  readonly end: number;
  readonly failed: boolean;
  /** What went wrong, for a failed one (vegeta's error, or the HTTP status). */
  readonly error?: string | undefined;
  /** The LB that answered (from the backend's answer), when it did. */
  readonly lb?: string | undefined;
  readonly backend?: string | undefined;
}

/** One change made while the streams ran. */
export interface TrafficEvent {
  readonly kind: TrafficKind;
  readonly target: string;
  /** When the change started and when it was complete (the router, every LB's rules, the exit). */
  readonly t0: number;
  readonly t1: number;
  /** The window counted for it: [t0, t1 + margin]. */
  readonly windowEnd: number;
  /** SIGKILL and graceful stop: when the router's FIB no longer had the LB's node. */
  readonly fibAt?: number | undefined;
  /** Connection resets the client received inside the window. */
  readonly resets?: number | undefined;
}

/** In flight during, or started in, [from, to]. */
export const touches = (r: Req, from: number, to: number): boolean => r.start <= to && r.end >= from;

export interface KindSummary {
  readonly events: number;
  readonly requests: number;
  readonly failed: number;
  /** Of those, already in flight when the change began (a long transfer that broke earlier may end here). */
  readonly failedInFlightBefore: number;
  readonly resets: number;
  /** The windows' lengths, ms (t0 to t1, without the margin). */
  readonly changeMs: { readonly min: number; readonly max: number; readonly mean: number } | null;
  readonly failedByStream: Readonly<Record<string, number>>;
  /** The failures' errors, counted. */
  readonly errors: Readonly<Record<string, number>>;
}

/** Errors counted, addresses and ports blanked so that the same failure counts as one. */
export function errorCounts(reqs: readonly Req[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of reqs) {
    if (!r.failed) continue;
    const key = (r.error ?? 'failed').replace(/\d+\.\d+\.\d+\.\d+:\d+/g, 'ADDR:PORT');
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

function stats(values: readonly number[]) {
  if (values.length === 0) return null;
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return { min: Math.min(...values), max: Math.max(...values), mean: Math.round(mean) };
}

export function byKind(
  events: readonly TrafficEvent[],
  reqs: readonly Req[],
): Record<TrafficKind, KindSummary> {
  const out = {} as Record<TrafficKind, KindSummary>;
  for (const kind of TRAFFIC_KINDS) {
    const mine = events.filter((e) => e.kind === kind);
    // A request two windows touch counts once per kind.
    const touched = reqs.filter((r) => mine.some((e) => touches(r, e.t0, e.windowEnd)));
    const failedByStream: Record<string, number> = {};
    for (const r of touched) if (r.failed) failedByStream[r.stream] = (failedByStream[r.stream] ?? 0) + 1;
    out[kind] = {
      events: mine.length,
      requests: touched.length,
      failed: touched.filter((r) => r.failed).length,
      failedInFlightBefore: touched.filter(
        (r) => r.failed && !mine.some((e) => r.start >= e.t0 && r.start <= e.windowEnd),
      ).length,
      resets: mine.reduce((a, e) => a + (e.resets ?? 0), 0),
      changeMs: stats(mine.map((e) => e.t1 - e.t0)),
      failedByStream,
      errors: errorCounts(touched),
    };
  }
  return out;
}

/**
 * SIGKILL: the detection window is from the kill to the router's FIB without the LB. Failures
 * inside it (in flight then, or started then) are the expected cost; any other failure the event
 * touched is counted apart.
 */
export function sigkillDetail(events: readonly TrafficEvent[], reqs: readonly Req[]) {
  return events
    .filter((e) => e.kind === 'sigkill')
    .map((e) => {
      const detectEnd = e.fibAt ?? e.t1;
      const failed = reqs.filter((r) => r.failed && touches(r, e.t0, e.windowEnd));
      const inside = failed.filter((r) => r.start <= detectEnd);
      return {
        target: e.target,
        detectionMs: Math.round(detectEnd - e.t0),
        failedInside: inside.length,
        failedAfter: failed.length - inside.length,
      };
    });
}

/** Requests no change window touched: the steady state between changes. */
export function outsideWindows(events: readonly TrafficEvent[], reqs: readonly Req[]) {
  const outside = reqs.filter((r) => !events.some((e) => touches(r, e.t0, e.windowEnd)));
  return {
    requests: outside.length,
    failed: outside.filter((r) => r.failed).length,
    errors: errorCounts(outside),
  };
}

/** Each LB's share of the answered requests, and max |share - 1/n| / (1/n) over the n LBs. */
export function spread(reqs: readonly Req[], lbs: readonly string[]) {
  const answered = reqs.filter((r) => !r.failed && r.lb !== undefined);
  const shares: Record<string, number> = {};
  for (const lb of lbs)
    shares[lb] = answered.filter((r) => r.lb === lb).length / Math.max(1, answered.length);
  const fair = 1 / lbs.length;
  const maxDeviation = Math.max(...lbs.map((lb) => Math.abs((shares[lb] ?? 0) - fair) / fair));
  return { lbs: [...lbs], flows: answered.length, shares, maxDeviation };
}

/** Successful requests per second that completed within [from, to]. */
export function throughput(reqs: readonly Req[], from: number, to: number): number {
  const done = reqs.filter((r) => !r.failed && r.end >= from && r.end <= to).length;
  return done / ((to - from) / 1000);
}

/** Per bin: requests answered by each LB, and failures, by start time; t in s from `origin`. */
export function series(reqs: readonly Req[], origin: number, binMs: number) {
  const bins = new Map<number, { ok: Record<string, number>; failed: number }>();
  for (const r of reqs) {
    const k = Math.floor((r.start - origin) / binMs);
    const bin = bins.get(k) ?? { ok: {}, failed: 0 };
    if (r.failed) bin.failed++;
    else {
      const who = r.lb ?? '?';
      bin.ok[who] = (bin.ok[who] ?? 0) + 1;
    }
    bins.set(k, bin);
  }
  const keys = [...bins.keys()].sort((a, b) => a - b);
  const perSecond = 1000 / binMs;
  return keys.map((k) => {
    const bin = bins.get(k) as { ok: Record<string, number>; failed: number };
    return {
      t: (k * binMs) / 1000,
      rps: Object.fromEntries(Object.entries(bin.ok).map(([lb, n]) => [lb, n * perSecond])),
      failed: bin.failed,
    };
  });
}
