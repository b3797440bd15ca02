import { z } from 'zod';
import { ip } from '../system/exec.js';

/** `ip -j route` output, just the fields a multipath route needs. */
const routeSchema = z.object({
  dst: z.string(),
  gateway: z.string().optional(),
  protocol: z.string().optional(),
  nexthops: z.array(z.object({ gateway: z.string().optional(), weight: z.number().optional() })).optional(),
});

export interface FibRoute {
  readonly dst: string;
  readonly protocol: string | undefined;
  /** Next-hop addresses, sorted. */
  readonly nextHops: readonly string[];
}

export function parseRoutes(json: string): FibRoute[] {
  const list = z.array(z.unknown()).parse(JSON.parse(json || '[]'));
  const out: FibRoute[] = [];
  for (const item of list) {
    const r = routeSchema.safeParse(item);
    if (!r.success) continue;
    const hops = r.data.nexthops
      ? r.data.nexthops.flatMap((h) => (h.gateway ? [h.gateway] : []))
      : r.data.gateway
        ? [r.data.gateway]
        : [];
    out.push({ dst: r.data.dst, protocol: r.data.protocol, nextHops: [...hops].sort() });
  }
  return out;
}

/** The router's kernel table for one VIP range: its ECMP next hops, none when there is no route. */
export async function routerNextHops(routerNs: string, vip: string): Promise<string[]> {
  const routes = parseRoutes(await ip(routerNs, '-j', 'route', 'show', 'exact', vip));
  return [...(routes[0]?.nextHops ?? [])];
}

export async function routerTable(routerNs: string): Promise<FibRoute[]> {
  return parseRoutes(await ip(routerNs, '-j', 'route', 'show')).filter(
    (r) => r.protocol !== 'kernel' && r.dst !== 'default',
  );
}
