import type { Change } from '../../core/model.js';
import { PermanentError } from '../../errors.js';
import type { ApplyResult, Provider } from '../types.js';
import { type Route, routeKey } from './protocol.js';
import type { Speaker, Why } from './speaker.js';

export const BGP_TABLE = 'bgp';

/** A bounded label for the metric; the planner's full sentence goes to the log. */
export function causeOf(change: Change): string {
  if (change.kind !== 'delete') return 'healthy';
  if (change.reason.startsWith('target is unhealthy')) return 'unhealthy';
  if (change.reason.startsWith('duplicate')) return 'duplicate';
  return 'not_desired';
}

/**
 * The exabgp announcer as a Provider: `multi` (every healthy LB announces, the router does ECMP),
 * one table `bgp` (this speaker's RIB-out), observed = `speaker.observed()`: what exabgp was told,
 * or while it is away the set the next one will be told. Every route it holds is this sidecar's
 * own, so all carry `owner`.
 */
export function createBgpProvider(options: { speaker: Speaker; owner: string }): Provider {
  const { speaker, owner } = options;
  return {
    name: 'bgp',
    cardinality: 'multi',
    whenNoneHealthy: 'withdraw',
    async tables() {
      return [BGP_TABLE];
    },
    async observe(tables) {
      if (!tables.includes(BGP_TABLE)) return [];
      return speaker.observed().map((r) => ({
        table: BGP_TABLE,
        vip: r.vip,
        target: r.nextHop,
        owner,
        state: 'active' as const,
      }));
    },
    async apply(changes): Promise<ApplyResult[]> {
      const whys = new Map<string, Why>();
      const keys = new Map<Change, string[]>();
      for (const change of changes) {
        if (change.table !== BGP_TABLE) continue;
        const why = { cause: causeOf(change), reason: change.reason };
        const touch = (route: Route, on: boolean) => {
          speaker.want(route, on);
          whys.set(routeKey(route), why);
          keys.set(change, [...(keys.get(change) ?? []), routeKey(route)]);
        };
        if (change.kind === 'replace') touch({ vip: change.vip, nextHop: change.from }, false);
        touch({ vip: change.vip, nextHop: change.target }, change.kind !== 'delete');
      }
      const errors = await speaker.sync(
        (key) => whys.get(key) ?? { cause: 'resync', reason: 'desired route not yet sent to exabgp' },
      );
      return changes.map((change) => {
        if (change.table !== BGP_TABLE) {
          return { change, error: new PermanentError(`the bgp provider has no table ${change.table}`) };
        }
        const error = (keys.get(change) ?? []).map((key) => errors.get(key)).find((e) => e !== undefined);
        return error === undefined ? { change } : { change, error };
      });
    },
  };
}
