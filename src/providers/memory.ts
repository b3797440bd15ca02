import { canonicalText } from '../core/cidr.js';
import type { Change, ObservedRoute } from '../core/model.js';
import type { ApplyResult, Provider } from '../core/ports.js';

/**
 * Routes held in memory, like external-dns's inmemory provider: for `portlb plan --observed`,
 * `sidecar --state`, and tests of everything above the cloud adapters.
 */
export function createMemoryProvider(options: {
  tables: readonly string[];
  owner: string;
  routes?: readonly ObservedRoute[];
}): Provider<undefined> & { routes(): ObservedRoute[] } {
  let routes: ObservedRoute[] = [...(options.routes ?? [])];
  // Stored routes may carry a VIP as written (`2001:DB8::/64`); the planner names the canonical form.
  const canonical = (vip: string) => {
    const parsed = canonicalText(vip);
    return parsed.ok ? parsed.text : vip;
  };
  const same = (r: ObservedRoute, c: Change) => r.table === c.table && canonical(r.vip) === c.vip;
  const applyOne = (change: Change) => {
    switch (change.kind) {
      case 'create':
        routes.push({
          table: change.table,
          vip: change.vip,
          target: change.target,
          owner: options.owner,
          state: 'active',
        });
        return;
      case 'replace':
        routes = routes.map((r) =>
          same(r, change) && r.target === change.from && r.owner === options.owner
            ? { ...r, target: change.target, state: 'active' }
            : r,
        );
        return;
      case 'delete': {
        const index = routes.findIndex(
          (r) =>
            same(r, change) &&
            r.target === change.target &&
            r.owner === options.owner &&
            (change.id === undefined || r.id === change.id),
        );
        if (index >= 0) routes.splice(index, 1);
        return;
      }
    }
  };
  return {
    name: 'memory',
    async observe() {
      const wanted = new Set(options.tables);
      return {
        tables: [...options.tables],
        routes: routes.filter((r) => wanted.has(r.table)),
        view: undefined,
      };
    },
    async apply(changes): Promise<ApplyResult[]> {
      return changes.map((change) => {
        applyOne(change);
        return { change };
      });
    },
    routes: () => [...routes],
  };
}
