import type { Change } from '../../core/model.js';
import type { ApplyResult, Provider } from '../../core/ports.js';
import { reasonText } from '../../core/reasons.js';
import { PermanentError } from '../../errors.js';
import { type Route, routeKey } from './protocol.js';
import type { Speaker, Why } from './speaker.js';

export const BGP_TABLE = 'bgp';

/** The routes a change announces or withdraws. */
function routesOf(change: Change): Route[] {
  const target = { vip: change.vip, nextHop: change.target };
  return change.kind === 'replace' ? [{ vip: change.vip, nextHop: change.from }, target] : [target];
}

/**
 * The exabgp speaker as a Provider: one table `bgp` (this speaker's RIB-out), observed = what
 * exabgp was told (or while it is away, the set the next one will be told). Like MetalLB's session
 * it is handed the whole set each run (`speaker.set`); the changes only say why each route moved,
 * for the log and the `cause` label.
 */
export function createBgpProvider(options: { speaker: Speaker }): Provider<undefined> {
  const { speaker } = options;
  return {
    name: 'bgp',
    async observe() {
      return {
        tables: [BGP_TABLE],
        routes: speaker.observed().map((r) => ({
          table: BGP_TABLE,
          vip: r.vip,
          target: r.nextHop,
          state: 'active' as const,
        })),
        view: undefined,
      };
    },
    async apply(changes, { next }): Promise<ApplyResult[]> {
      const whys = new Map<string, Why>();
      for (const change of changes) {
        if (change.table !== BGP_TABLE) continue;
        const why = { cause: change.reason.code, reason: reasonText(change.reason) };
        for (const route of routesOf(change)) whys.set(routeKey(route), why);
      }
      const errors = await speaker.set(
        next.filter((r) => r.table === BGP_TABLE).map((r) => ({ vip: r.vip, nextHop: r.target })),
        (key) => whys.get(key) ?? { cause: 'resync', reason: 'desired route not yet sent to exabgp' },
      );
      return changes.map((change) => {
        if (change.table !== BGP_TABLE) {
          return { change, error: new PermanentError(`the bgp provider has no table ${change.table}`) };
        }
        const error = routesOf(change)
          .map((route) => errors.get(routeKey(route)))
          .find((e) => e !== undefined);
        return error === undefined ? { change } : { change, error };
      });
    },
  };
}
