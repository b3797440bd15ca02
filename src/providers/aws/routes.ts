import { overlaps, parsePrefix, prefix } from '../../core/cidr.js';
import type { ObservedRoute } from '../../core/model.js';
import { ConfigError, type Problem } from '../../errors.js';
import type { RouteTableView } from './tables.js';

/*
 * Ownership in AWS. Single routes cannot carry tags, so, like the Kubernetes AWS route controller,
 * portlb owns a route when it sits in a managed table (selected by id or tag) AND its destination is
 * one of the configured VIPs AND its target is an ENI or instance (or gone: a blackhole). A
 * gateway, NAT, peering or transit route to a VIP is someone else's and is never touched; routes
 * to anything but a configured VIP are not even reported.
 */

export function canonical(cidr: string): string | undefined {
  const parsed = parsePrefix(cidr);
  return parsed.ok ? parsed.prefix.text : undefined;
}

export function observedRoutes(
  tables: readonly RouteTableView[],
  vips: ReadonlySet<string>,
  owner: string,
): ObservedRoute[] {
  const out: ObservedRoute[] = [];
  for (const table of tables) {
    for (const route of table.routes) {
      const vip = canonical(route.destination);
      if (vip === undefined || !vips.has(vip)) continue;
      out.push({
        table: table.id,
        vip,
        target: route.target,
        owner: route.kind === 'other' ? undefined : owner,
        state: route.state,
      });
    }
  }
  return out;
}

/**
 * A VIP inside the VPC's own address space would shadow (or be shadowed by) the `local` route:
 * refused, naming the VIP, the CIDR and where it came from. The VPC CIDRs come from the tables'
 * `local` routes (read in the same call, secondary CIDRs included) plus `aws.vpcCidrs`.
 */
export function vpcOverlapProblems(
  tables: readonly RouteTableView[],
  vips: readonly string[],
  configured: readonly string[] = [],
): Problem[] {
  const ranges = [
    ...configured.map((cidr) => ({ cidr, from: 'aws.vpcCidrs' })),
    ...tables.flatMap((t) =>
      t.localCidrs.map((cidr) => ({ cidr, from: `${t.vpcId} (local route in ${t.id})` })),
    ),
  ];
  const problems: Problem[] = [];
  const seen = new Set<string>();
  for (const vip of vips) {
    for (const range of ranges) {
      const parsed = parsePrefix(range.cidr);
      if (!parsed.ok || !overlaps(prefix(vip), parsed.prefix)) continue;
      const message = `VIP ${vip} overlaps VPC CIDR ${parsed.prefix.text} of ${range.from}: a VIP must lie outside the VPC`;
      if (seen.has(message)) continue;
      seen.add(message);
      problems.push({ path: `vip ${vip}`, message });
    }
  }
  return problems;
}

export function assertVipsOutsideVpc(
  tables: readonly RouteTableView[],
  vips: readonly string[],
  configured: readonly string[] = [],
): void {
  const problems = vpcOverlapProblems(tables, vips, configured);
  if (problems.length > 0) {
    throw new ConfigError(`refusing to route: ${problems[0]?.message}`, problems);
  }
}
