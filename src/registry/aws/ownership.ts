import { overlaps, parsePrefix, prefix } from '../../core/cidr.js';
import type { ObservedRoute } from '../../core/model.js';
import { ConfigError, type Problem } from '../../errors.js';
import type { RawRoute, RouteTableView } from '../../providers/aws/tables.js';
import { decodeCandidacies } from '../../sources/aws/candidacy.js';

/*
 * Ownership in AWS. Single routes cannot carry tags, so, like the Kubernetes AWS route controller,
 * portlb owns a route when it sits in a managed table (selected by id or tag) AND its destination is
 * a configured VIP or one recorded on that table (`records.ts`: portlb created it, and its VIP may
 * since have left the config) AND its target is an ENI or instance (or gone: a blackhole). A
 * gateway, NAT, peering or transit route is someone else's and is never touched; routes to
 * anything neither configured nor recorded are not even reported.
 */

/** The `id` of an observed route that is only a record: the route itself is gone. */
export const RECORD_ONLY = 'record-only';

export type Ownership =
  /** portlb's: planned, replaced, deleted when its VIP is no longer configured. */
  | 'owned'
  /** Someone else's route to a VIP portlb cares about: reported so the plan can say why it is left alone. */
  | 'foreign'
  /** Recorded, no longer configured, and no route any more (a crash between deleting the route and its record). */
  | 'record-only'
  /** Not portlb's business. */
  | 'unrelated';

/**
 * The ownership rule, for one destination in one managed table. `ours`: the route's target is one
 * portlb would have written (an LB's ENI or instance from a candidacy on the managed tables). A
 * VIP owned by its record alone (no longer configured) is owned only with such a target or none:
 * if someone else routed that destination since, it is theirs, whatever the record says.
 */
export function ownership(
  route: { readonly kind: RawRoute['kind']; readonly target?: string } | undefined,
  configured: boolean,
  recorded: boolean,
  ours: (target: string) => boolean = () => true,
): Ownership {
  if (!configured && !recorded) return 'unrelated';
  if (route === undefined) return recorded && !configured ? 'record-only' : 'unrelated';
  if (route.kind === 'other') return 'foreign';
  if (!configured && route.kind === 'eni' && !ours(route.target ?? '')) return 'foreign';
  return 'owned';
}

/** The ENIs and instances of this owner's candidacies on these tables: targets portlb writes. */
export function candidateTargets(tables: readonly RouteTableView[], owner: string): Set<string> {
  const targets = new Set<string>();
  for (const table of tables) {
    for (const c of decodeCandidacies(table.tags, owner).candidacies) {
      targets.add(c.eni);
      targets.add(c.instanceId);
    }
  }
  return targets;
}

export function canonical(cidr: string): string | undefined {
  const parsed = parsePrefix(cidr);
  return parsed.ok ? parsed.prefix.text : undefined;
}

/**
 * The routes portlb cares about in these tables, with the owner it recognises on them. A recorded
 * VIP that is no longer configured and has no route left comes back as a target-less route with
 * `id` RECORD_ONLY, so the plan deletes it and the provider removes just the record.
 */
export function observedRoutes(
  tables: readonly RouteTableView[],
  vips: ReadonlySet<string>,
  owner: string,
  recorded: (table: string) => ReadonlySet<string> = () => new Set(),
  /** The LBs' ENIs and instances (`candidateTargets`): what a record alone may claim. */
  lbTargets: ReadonlySet<string> = candidateTargets(tables, owner),
): ObservedRoute[] {
  const out: ObservedRoute[] = [];
  for (const table of tables) {
    const records = recorded(table.id);
    const seen = new Set<string>();
    for (const route of table.routes) {
      const vip = canonical(route.destination);
      if (vip === undefined) continue;
      const owns = ownership(route, vips.has(vip), records.has(vip), (t) => lbTargets.has(t));
      if (owns === 'unrelated') continue;
      seen.add(vip);
      out.push({
        table: table.id,
        vip,
        target: route.target,
        owner: owns === 'owned' ? owner : undefined,
        state: route.state,
      });
    }
    for (const vip of [...records].sort()) {
      if (seen.has(vip) || ownership(undefined, vips.has(vip), true) !== 'record-only') continue;
      out.push({ table: table.id, vip, target: '', owner, state: 'blackhole', id: RECORD_ONLY });
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
