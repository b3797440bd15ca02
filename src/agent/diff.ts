import { prefix } from '../core/cidr.js';
import type { WantedRoute } from './routes.js';

/** A route the agent owns (its protocol number), as `ip -json route show proto N` lists it. */
export interface OwnedRoute {
  /** Canonical CIDR (`ip` prints a /32 or /128 without its length; the reader adds it back). */
  readonly vip: string;
  /** Gateways, sorted; none for a blackhole. */
  readonly nexthops: readonly string[];
  /** The kernel's route priority; part of a route's identity, so a delete must name it. */
  readonly metric: number;
  /** `blackhole VIP`: the VIP had next hops on this node and has none now. */
  readonly blackhole: boolean;
}

export type RouteChange =
  | {
      readonly kind: 'replace';
      readonly vip: string;
      /** The pod IPs; empty: a blackhole (packets to the VIP are dropped on the node). */
      readonly nexthops: readonly string[];
      /** The next hops before (empty when the route is new or was a blackhole). */
      readonly from: readonly string[];
      /**
       * The agent owns no route at this VIP's default metric: `ip route add`, which fails if one
       * appeared meanwhile, rather than `replace`, which would overwrite any protocol's route.
       */
      readonly create: boolean;
      readonly reason: string;
    }
  | {
      readonly kind: 'delete';
      readonly vip: string;
      readonly metric: number;
      readonly from: readonly string[];
      readonly reason: string;
    };

/** The metric `ip route add|replace` gives a route when none is named. */
export function defaultMetric(vip: string): number {
  return prefix(vip).family === 4 ? 0 : 1024;
}

const same = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

interface Target {
  readonly vip: string;
  readonly nexthops: readonly string[];
  readonly blackhole: boolean;
  readonly reason: (before: OwnedRoute | undefined) => string;
}

/**
 * Wanted against owned: write what differs (one atomic `ip route add|replace` per VIP, so the
 * data plane never sees a gap), delete owned routes nobody wants. Pure; only owned routes are in
 * `owned`, so nothing else can be touched. A VIP owned twice (another metric, added by hand) keeps
 * one route: the duplicate would shadow or be shadowed by it.
 *
 * A VIP still configured but with no next hop left (`unrouted`) keeps an owned route as a
 * blackhole instead of losing it: the router may still send the node that VIP's traffic for a
 * moment (the sidecars' withdraw is propagating), and without a route the node would forward it
 * by its default route, often back to the router. A VIP the agent never routed gets none: the
 * router was never told to send it here. The blackhole goes when the VIP leaves the config and
 * becomes a route again when a pod is back.
 */
export function diffRoutes(
  wanted: readonly WantedRoute[],
  owned: readonly OwnedRoute[],
  /** Configured VIPs with no next hop on this node. */
  unrouted: readonly string[] = [],
  /** Why a VIP is not wanted, for the log and the Event. */
  unwantedReason: (vip: string) => string = () => 'no healthy LB pod for this VIP on this node',
): RouteChange[] {
  const changes: RouteChange[] = [];
  const byVip = new Map<string, OwnedRoute[]>();
  for (const route of owned) byVip.set(route.vip, [...(byVip.get(route.vip) ?? []), route]);
  const targets: Target[] = [
    ...wanted.map((w) => ({
      vip: w.vip,
      nexthops: w.nexthops,
      blackhole: false,
      reason: (before: OwnedRoute | undefined) =>
        before === undefined
          ? `new route for ${w.service}`
          : before.blackhole
            ? `an LB pod for ${w.service} is back`
            : `next hops changed for ${w.service}`,
    })),
    ...unrouted
      .filter((vip) => byVip.has(vip))
      .map((vip) => ({
        vip,
        nexthops: [],
        blackhole: true,
        reason: () => `${unwantedReason(vip)}; blackholed so the node drops, not loops, its traffic`,
      })),
  ];

  for (const target of targets) {
    const present = byVip.get(target.vip) ?? [];
    const metric = defaultMetric(target.vip);
    const matches = (r: OwnedRoute) => r.blackhole === target.blackhole && same(r.nexthops, target.nexthops);
    const keep = present.find((r) => matches(r) && r.metric === metric) ?? present.find((r) => matches(r));
    const before = present.find((r) => r.metric === metric);
    if (keep === undefined) {
      changes.push({
        kind: 'replace',
        vip: target.vip,
        nexthops: target.nexthops,
        from: before?.nexthops ?? [],
        create: before === undefined,
        reason: target.reason(before),
      });
    }
    // The write lands at the default metric; any other owned copy goes.
    for (const other of present) {
      if (other === keep || (keep === undefined && other === before)) continue;
      changes.push({
        kind: 'delete',
        vip: other.vip,
        metric: other.metric,
        from: other.nexthops,
        reason: `duplicate owned route (metric ${other.metric})`,
      });
    }
  }
  const targeted = new Set(targets.map((t) => t.vip));
  for (const route of owned) {
    if (targeted.has(route.vip)) continue;
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

/**
 * Which unrouted VIPs keep (or get) their blackhole now, given when each became one (`since`, ms,
 * updated in place): a blackhole stands `holdMs`, then its route goes. A VIP the agent holds no
 * route for has nothing to hold, and a VIP routed again forgets its time. Returns the VIPs to
 * blackhole, and when the next one expires (to schedule a pass), if any.
 */
export function holdBlackholes(
  unrouted: readonly string[],
  ownedVips: ReadonlySet<string>,
  since: Map<string, number>,
  now: number,
  holdMs: number,
): { blackhole: string[]; nextExpiry: number | undefined } {
  const candidates = new Set(unrouted.filter((vip) => ownedVips.has(vip)));
  for (const vip of [...since.keys()]) if (!candidates.has(vip)) since.delete(vip);
  const blackhole: string[] = [];
  let nextExpiry: number | undefined;
  for (const vip of candidates) {
    const start = since.get(vip) ?? now;
    since.set(vip, start);
    const expiry = start + holdMs;
    if (expiry <= now) continue;
    blackhole.push(vip);
    nextExpiry = nextExpiry === undefined ? expiry : Math.min(nextExpiry, expiry);
  }
  return { blackhole, nextExpiry };
}
