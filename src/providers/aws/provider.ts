import type { Change } from '../../core/model.js';
import type { ApplyResult, Observation, Provider } from '../../core/ports.js';
import { PermanentError } from '../../errors.js';
import type { Logger } from '../../runtime/logger.js';
import { applyRouteChanges } from './apply.js';
import { describeSourceDestCheck, turnOffSourceDestCheck } from './instances.js';
import type { Ec2Port } from './port.js';
import { describeTables, type RouteTableView, type TableSelector } from './tables.js';

export interface Ec2ProviderOptions {
  readonly ec2: Ec2Port;
  readonly tables: TableSelector;
  readonly concurrency?: number | undefined;
  readonly logger: Logger;
}

export interface Ec2Provider extends Provider<RouteTableView[]> {
  /**
   * Turns SourceDestCheck off on the targets these changes route to (an ENI forwards a VIP it does
   * not own only with the check off). Returns the targets that cannot take routes, with why.
   */
  prepareTargets(changes: readonly Change[]): Promise<Map<string, unknown>>;
  /** Records an ENI whose SourceDestCheck is known to be off, so it is not read again. */
  noteSourceDestCheckOff(eni: string): void;
}

/**
 * EC2 route tables, the adapter: one DescribeRouteTables reads every managed table (routes and
 * tags), and changes become Create/Replace/DeleteRoute calls. It knows nothing of ownership: the
 * AWS registry (src/registry/aws) decides what is portlb's and wraps this.
 */
export function createEc2Provider(options: Ec2ProviderOptions): Ec2Provider {
  const { ec2 } = options;
  const log = options.logger.child({ component: 'aws-provider' });
  const sourceDestOff = new Set<string>();

  return {
    name: 'aws',
    async observe(): Promise<Observation<RouteTableView[]>> {
      const view = await describeTables(ec2, options.tables);
      return {
        tables: view.map((t) => t.id),
        routes: view.flatMap((t) =>
          t.routes
            .filter((r) => r.kind !== 'other')
            .map((r) => ({ table: t.id, vip: r.destination, target: r.target, state: r.state })),
        ),
        view,
      };
    },
    async prepareTargets(changes) {
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
    },
    apply(changes): Promise<ApplyResult[]> {
      return applyRouteChanges(ec2, changes, options.concurrency ? { concurrency: options.concurrency } : {});
    },
    noteSourceDestCheckOff(eni) {
      sourceDestOff.add(eni);
    },
  };
}
