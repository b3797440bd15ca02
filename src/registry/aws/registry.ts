import { parsePrefix } from '../../core/cidr.js';
import type { Change } from '../../core/model.js';
import type { ApplyResult, Registry } from '../../core/ports.js';
import { PermanentError } from '../../errors.js';
import type { Ec2Port } from '../../providers/aws/port.js';
import type { Ec2Provider } from '../../providers/aws/provider.js';
import type { RouteTableView } from '../../providers/aws/tables.js';
import type { Logger } from '../../runtime/logger.js';
import { inOrder, refuseUnowned } from '../guard.js';
import { assertVipsOutsideVpc, candidateTargets, observedRoutes, RECORD_ONLY } from './ownership.js';
import { createRecordKeeper } from './record-keeper.js';

export interface AwsRegistryOptions {
  readonly provider: Ec2Provider;
  readonly ec2: Ec2Port;
  readonly owner: string;
  /** The configured VIPs: the only destinations portlb ever writes. */
  readonly vips: readonly string[];
  /** `aws.vpcCidrs`, checked on top of the VPC CIDRs read from the tables. */
  readonly vpcCidrs?: readonly string[] | undefined;
  readonly logger: Logger;
}

/**
 * Ownership in EC2 route tables, around the EC2 provider. Single routes cannot carry tags, so a
 * route is portlb's by where it is and what it routes (ownership.ts), and every route portlb
 * creates is recorded on its table first (record-keeper.ts): a VIP that leaves the config is still
 * known as portlb's, so the plan deletes its route, then its record goes. Refuses to route a VIP
 * that overlaps the VPC before anything is written.
 */
export function createAwsRegistry(options: AwsRegistryOptions): Registry<RouteTableView[]> {
  const { provider, owner } = options;
  const vips = options.vips.map((vip) => {
    const parsed = parsePrefix(vip);
    if (!parsed.ok) throw new PermanentError(`invalid VIP ${vip}: ${parsed.reason}`);
    return parsed.prefix.text;
  });
  const vipSet = new Set(vips);
  const records = createRecordKeeper({ ec2: options.ec2, owner, vips: vipSet, logger: options.logger });

  /** A delete of a VIP the config no longer names says so (the plan only knows it is not desired). */
  function retired(change: Change): Change {
    if (change.kind !== 'delete' || vipSet.has(change.vip)) return change;
    const detail =
      change.id === RECORD_ONLY ? 'its route was already gone, its record is removed' : undefined;
    return { ...change, reason: { code: 'not_configured', detail } };
  }

  return {
    name: provider.name,
    owner,
    async observe() {
      const raw = await provider.observe();
      assertVipsOutsideVpc(raw.view, vips, options.vpcCidrs);
      // The LBs' ENIs and instances, read once from the candidacies: what a record alone may claim.
      const lbTargets = candidateTargets(raw.view, owner);
      await records.load(raw.view, lbTargets);
      return {
        ...raw,
        routes: observedRoutes(raw.view, vipSet, owner, (table) => records.recorded(table), lbTargets),
      };
    },
    async apply(changes, context): Promise<ApplyResult[]> {
      const outside = changes.filter(
        (c) => !vipSet.has(c.vip) && !(c.kind === 'delete' && records.recorded(c.table).has(c.vip)),
      );
      if (outside.length > 0) {
        throw new PermanentError(
          `refusing to write routes for VIPs neither configured nor recorded: ${outside.map((c) => `${c.table}/${c.vip}`).join(', ')}`,
        );
      }
      const { allowed, refused: unowned } = refuseUnowned(changes, context.observation, owner);
      const unusable = await provider.prepareTargets(allowed);
      const unusableFor = (c: Change) => (c.kind === 'delete' ? undefined : unusable.get(c.target));
      // Only what can really be written gets recorded, and a table that cannot record creates no route.
      const refused = await records.before(allowed.filter((c) => unusableFor(c) === undefined));
      // Only creates need record room: a replace keeps its record, a delete shrinks it afterwards.
      const blocked = (c: Change) => (c.kind === 'create' ? refused.get(c.table) : undefined);
      const failedEarly: ApplyResult[] = [];
      const ready: Change[] = [];
      for (const change of allowed) {
        const error = unusableFor(change) ?? blocked(change);
        if (error !== undefined) failedEarly.push({ change, error });
        // A record-only route has nothing left in EC2: its record goes in `after`.
        else if (change.kind === 'delete' && change.id === RECORD_ONLY) failedEarly.push({ change });
        else ready.push(change);
      }
      const written = await provider.apply(ready, context);
      const results = inOrder(changes, unowned, failedEarly, written);
      const unrecorded = await records.after(results);
      return results.map((r) => {
        const error = r.error ?? (r.change.kind === 'delete' ? unrecorded.get(r.change.table) : undefined);
        return error === undefined ? { change: retired(r.change) } : { change: retired(r.change), error };
      });
    },
  };
}
