import { prefix } from '../core/cidr.js';
import type { WantedRoute } from './routes.js';

/** A route the agent owns (its protocol number), as `ip -json route show proto N` lists it. */
export interface OwnedRoute {
  /** Canonical CIDR (`ip` prints a /32 or /128 without its length; the reader adds it back). */
  readonly vip: string;
  /** Gateways, sorted. */
  readonly nexthops: readonly string[];
  /** The kernel's route priority; part of a route's identity, so a delete must name it. */
  readonly metric: number;
}

export type RouteChange =
  | {
      readonly kind: 'replace';
      readonly vip: string;
      readonly nexthops: readonly string[];
      /** The next hops before (empty when the route is new). */
      readonly from: readonly string[];
      readonly reason: string;
    }
  | {
      readonly kind: 'delete';
      readonly vip: string;
      readonly metric: number;
      readonly from: readonly string[];
      readonly reason: string;
    };

/** The metric `ip route replace` gives a route when none is named. */
export function defaultMetric(vip: string): number {
  return prefix(vip).family === 4 ? 0 : 1024;
}

const same = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Wanted against owned: replace what differs (one atomic `ip route replace` per VIP, so the
 * data plane never sees a gap), delete owned routes nobody wants. Pure; only owned routes are in
 * `owned`, so nothing else can be touched. A VIP owned twice (another metric, added by hand) keeps
 * one route: the duplicate would shadow or be shadowed by it.
 */
export function diffRoutes(
  wanted: readonly WantedRoute[],
  owned: readonly OwnedRoute[],
  /** Why a VIP is not wanted, for the log and the Event. */
  unwantedReason: (vip: string) => string = () => 'no healthy LB pod for this VIP on this node',
): RouteChange[] {
  const changes: RouteChange[] = [];
  const byVip = new Map<string, OwnedRoute[]>();
  for (const route of owned) byVip.set(route.vip, [...(byVip.get(route.vip) ?? []), route]);
  const wantedVips = new Set(wanted.map((w) => w.vip));

  for (const want of wanted) {
    const present = byVip.get(want.vip) ?? [];
    const keep =
      present.find((r) => same(r.nexthops, want.nexthops) && r.metric === defaultMetric(want.vip)) ??
      present.find((r) => same(r.nexthops, want.nexthops));
    if (keep === undefined) {
      const before = present.find((r) => r.metric === defaultMetric(want.vip));
      changes.push({
        kind: 'replace',
        vip: want.vip,
        nexthops: want.nexthops,
        from: before?.nexthops ?? [],
        reason: before ? `next hops changed for ${want.service}` : `new route for ${want.service}`,
      });
    }
    // `replace` rewrites the route at the default metric; any other owned copy goes.
    for (const other of present) {
      if (other === keep || (keep === undefined && other.metric === defaultMetric(want.vip))) continue;
      changes.push({
        kind: 'delete',
        vip: other.vip,
        metric: other.metric,
        from: other.nexthops,
        reason: `duplicate owned route (metric ${other.metric})`,
      });
    }
  }
  for (const route of owned) {
    if (wantedVips.has(route.vip)) continue;
    changes.push({
      kind: 'delete',
      vip: route.vip,
      metric: route.metric,
      from: route.nexthops,
      reason: unwantedReason(route.vip),
    });
  }
  return changes;
}
