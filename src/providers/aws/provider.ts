import { parsePrefix } from '../../core/cidr.js';
import type { Change } from '../../core/model.js';
import { PermanentError } from '../../errors.js';
import type { Logger } from '../../runtime/logger.js';
import type { ApplyResult, Provider } from '../types.js';
import { applyRouteChanges } from './apply.js';
import { describeSourceDestCheck, turnOffSourceDestCheck } from './instances.js';
import type { Ec2Port } from './port.js';
import { createRecordKeeper } from './record-keeper.js';
import { assertVipsOutsideVpc, candidateTargets, observedRoutes, RECORD_ONLY } from './routes.js';
import type { TableSnapshot } from './snapshot.js';

export interface Ec2ProviderOptions {
  readonly ec2: Ec2Port;
  readonly snapshot: TableSnapshot;
  readonly owner: string;
  /** The configured VIPs: the only destinations portlb ever writes. */
  readonly vips: readonly string[];
  /** `aws.vpcCidrs`, checked on top of the VPC CIDRs read from the tables. */
  readonly vpcCidrs?: readonly string[];
  readonly concurrency?: number;
  readonly logger: Logger;
}

export type Ec2Provider = Provider & {
  /** Records an ENI whose SourceDestCheck is known to be off, so apply does not read it again. */
  noteSourceDestCheckOff(eni: string): void;
};

/**
 * EC2 route tables as a portlb provider: single target per destination (no ECMP in VPC route
 * tables); a VIP with no healthy candidate keeps its route (never deleted without a replacement).
 * Every route portlb creates is recorded on its table first (record-keeper.ts), so a VIP that
 * leaves the config is still known as portlb's: the plan deletes its route, then its record goes.
 * A steady-state reconcile costs exactly one DescribeRouteTables (shared with the candidate source
 * through the snapshot) and no writes.
 */
export function createEc2Provider(options: Ec2ProviderOptions): Ec2Provider {
  const { ec2, snapshot, owner, logger } = options;
  const log = logger.child({ component: 'aws-provider' });
  const vips = options.vips.map((vip) => {
    const parsed = parsePrefix(vip);
    if (!parsed.ok) throw new PermanentError(`invalid VIP ${vip}: ${parsed.reason}`);
    return parsed.prefix.text;
  });
  const vipSet = new Set(vips);
  const sourceDestOff = new Set<string>();
  const records = createRecordKeeper({ ec2, owner, vips: vipSet, logger });

  /** A delete of a VIP the config no longer names says so (the plan only knows it is not desired). */
  function retired(change: Change): Change {
    if (change.kind !== 'delete' || vipSet.has(change.vip)) return change;
    const gone = change.id === RECORD_ONLY ? '; its route was already gone, its record is removed' : '';
    return { ...change, reason: `VIP no longer configured${gone}` };
  }

  /** Turns SourceDestCheck off on targets about to receive routes; reads only ENIs not seen before. */
  async function prepareTargets(changes: readonly Change[]): Promise<Map<string, unknown>> {
    const failed = new Map<string, unknown>();
    const targets = [
      ...new Set(
        changes.flatMap((c) => (c.kind === 'delete' || sourceDestOff.has(c.target) ? [] : [c.target])),
      ),
    ];
    if (targets.length === 0) return failed;
    let checks: Map<string, boolean>;
    try {
      checks = await describeSourceDestCheck(ec2, targets);
    } catch (error) {
      for (const target of targets) failed.set(target, error);
      return failed;
    }
    for (const target of targets) {
      const check = checks.get(target);
      if (check === undefined) {
        failed.set(target, new PermanentError(`target network interface ${target} does not exist`));
        continue;
      }
      try {
        if (await turnOffSourceDestCheck(ec2, target, check)) {
          log.info({ event: 'source_dest_check_off', target }, 'turned SourceDestCheck off');
        }
        sourceDestOff.add(target);
      } catch (error) {
        failed.set(target, error);
      }
    }
    return failed;
  }

  return {
    name: 'aws',
    cardinality: 'single',
    whenNoneHealthy: 'keep',
    async tables() {
      const tables = await snapshot.current();
      assertVipsOutsideVpc(tables, vips, options.vpcCidrs);
      return tables.map((t) => t.id);
    },
    async observe(tables) {
      const wanted = new Set(tables);
      const read = (await snapshot.take()).filter((t) => wanted.has(t.id));
      // The LBs' ENIs and instances, read once from the candidacies: what a record alone may claim.
      const lbTargets = candidateTargets(read, owner);
      await records.load(read, lbTargets);
      return observedRoutes(read, vipSet, owner, (table) => records.recorded(table), lbTargets);
    },
    async apply(changes): Promise<ApplyResult[]> {
      // The planner never does this; a guard, because a wrong write here moves someone's traffic.
      const outside = changes.filter(
        (c) => !vipSet.has(c.vip) && !(c.kind === 'delete' && records.recorded(c.table).has(c.vip)),
      );
      if (outside.length > 0) {
        throw new PermanentError(
          `refusing to write routes for VIPs neither configured nor recorded: ${outside.map((c) => `${c.table}/${c.vip}`).join(', ')}`,
        );
      }
      snapshot.forget();
      const unusable = await prepareTargets(changes);
      const unusableFor = (c: Change) => (c.kind === 'delete' ? undefined : unusable.get(c.target));
      // Only what can really be written gets recorded, and a table that cannot record creates no route.
      const refused = await records.before(changes.filter((c) => unusableFor(c) === undefined));
      // Only creates need record room: a replace keeps its record, a delete shrinks it afterwards.
      const blocked = (c: Change) => (c.kind === 'create' ? refused.get(c.table) : undefined);
      const ready = changes.filter(
        (c) =>
          unusableFor(c) === undefined &&
          blocked(c) === undefined &&
          !(c.kind === 'delete' && c.id === RECORD_ONLY),
      );
      const applied = await applyRouteChanges(
        ec2,
        ready,
        options.concurrency ? { concurrency: options.concurrency } : {},
      );
      const byChange = new Map(applied.map((r) => [r.change, r]));
      const results = changes.map((change): ApplyResult => {
        const error = unusableFor(change) ?? blocked(change);
        return error === undefined ? (byChange.get(change) ?? { change }) : { change, error };
      });
      const unrecorded = await records.after(results);
      return results.map((r) => {
        const error = r.error ?? (r.change.kind === 'delete' ? unrecorded.get(r.change.table) : undefined);
        return error === undefined ? { change: retired(r.change) } : { change: retired(r.change), error };
      });
    },
    noteSourceDestCheckOff(eni) {
      sourceDestOff.add(eni);
    },
  };
}
