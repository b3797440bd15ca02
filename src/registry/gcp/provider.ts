import pLimit from 'p-limit';
import { canonicalText } from '../../core/cidr.js';
import type { Change, ObservedRoute, RouteState } from '../../core/model.js';
import type { ApplyResult, Registry } from '../../core/ports.js';
import { PermanentError } from '../../errors.js';
import type { OperationWarning } from '../../providers/gcp/operations.js';
import type { ComputeRoute, ComputeRoutes } from '../../providers/gcp/routes.js';
import type { Logger } from '../../runtime/logger.js';
import { ownership, ROUTE_PREFIX, routeDescription, routeName } from './names.js';

export interface GcpRouteRegistryOptions {
  /** The Compute adapter (src/providers/gcp/routes.ts) for one project and network. */
  readonly routes: ComputeRoutes;
  readonly owner: string;
  /** `gcp.priority`: every portlb route has the same one, so Compute spreads flows over them (ECMP). */
  readonly priority: number;
  /**
   * Observe only the routes to this instance (a sidecar: its own routes are all it writes), so a
   * sidecar's list stays one page however many LBs there are. Undefined: every route.
   */
  readonly nextHop?: (() => string | undefined) | undefined;
  /** Writes in flight at once; Compute's rate quotas are per minute and generous (1,500). */
  readonly concurrency?: number;
  readonly logger: Logger;
}

/** Route warnings that mean the route exists but carries no traffic. */
const deadWarnings = new Set([
  'NEXT_HOP_NOT_RUNNING',
  'NEXT_HOP_INSTANCE_NOT_FOUND',
  'NEXT_HOP_INSTANCE_NOT_ON_NETWORK',
  'NEXT_HOP_CANNOT_IP_FORWARD',
  'NEXT_HOP_ADDRESS_NOT_ASSIGNED',
  'NEXT_HOP_INSTANCE_HAS_NO_IPV6_INTERFACE',
]);

function stateOf(route: ComputeRoute): RouteState {
  if (route.warnings.some((w) => deadWarnings.has(w))) return 'blackhole';
  if (route.routeStatus === 'INACTIVE' || route.routeStatus === 'DROPPED') return 'blackhole';
  return 'active';
}

type Step = { readonly change: Change; readonly run: () => Promise<readonly OperationWarning[]> };

/**
 * The registry around the Compute adapter, as a portlb Provider (external-dns's TXT registry,
 * with the Kubernetes route controller's GCP rule): `observe` reports every route under the
 * prefix and marks as owned only those `ownership()` says are this owner's; `apply` writes only
 * names derived from (owner, VIP, target), so it cannot touch a route it does not own even when a
 * change asks it to. Routes are immutable: a `replace` is an insert of the new route, then (only
 * if that worked) a delete of the old; across changes, every insert runs before any delete, so a
 * VIP moving between nodes always has a route (make before break).
 *
 * No Lease: every healthy LB writes only the routes to its own instance (names derive from it),
 * and deletes only names derived from its owner; two writers that disagree about another node
 * converge on the next reconcile, because each recomputes from what it observes (docs/gcp.md).
 */
export function createGcpRouteRegistry(options: GcpRouteRegistryOptions): Registry<undefined> {
  const { routes, owner, priority } = options;
  const log = options.logger.child({ component: 'gcp-registry' });
  const limit = pLimit(options.concurrency ?? 8);

  function warn(change: Change, name: string, warnings: readonly OperationWarning[]): void {
    for (const w of warnings) {
      log.warn(
        { event: 'operation_warning', code: w.code, route: name, vip: change.vip, target: change.target },
        `compute warning on ${name}: ${w.code} ${w.message}`,
      );
    }
  }

  function insert(change: Change, target: string): () => Promise<readonly OperationWarning[]> {
    return async () => {
      const name = routeName(owner, change.vip, target);
      await routes.assertCanForward(target);
      const outcome = await routes.insert({
        name,
        destRange: change.vip,
        nextHopInstance: target,
        priority,
        description: routeDescription(owner, change.vip, target),
      });
      warn(change, name, outcome.warnings);
      return outcome.warnings;
    };
  }

  function remove(
    change: Change,
    target: string,
    id: string | undefined,
  ): () => Promise<readonly OperationWarning[]> {
    return async () => {
      const name = routeName(owner, change.vip, target);
      if (id !== undefined && id !== name) {
        throw new PermanentError(
          `refusing to delete route ${id}: it is not the route portlb (owner ${owner}) names for ${change.vip} via ${target} (${name})`,
        );
      }
      const outcome = await routes.delete(name);
      warn(change, name, outcome.warnings);
      return outcome.warnings;
    };
  }

  /** Why a change cannot be applied at all, or undefined. */
  function invalid(change: Change): Error | undefined {
    if (change.table !== routes.network) {
      return new PermanentError(
        `change for table ${change.table}: portlb manages network ${routes.network} only`,
      );
    }
    const vip = canonicalText(change.vip);
    if (!vip.ok || vip.text !== change.vip) return new PermanentError(`invalid VIP ${change.vip}`);
    return undefined;
  }

  async function settle(steps: readonly Step[]): Promise<Map<Change, unknown>> {
    const failed = new Map<Change, unknown>();
    await Promise.all(
      steps.map((step) =>
        limit(async () => {
          try {
            await step.run();
          } catch (error) {
            failed.set(step.change, error);
          }
        }),
      ),
    );
    return failed;
  }

  return {
    name: 'gcp',
    owner,
    async observe() {
      const out: ObservedRoute[] = [];
      for (const route of await routes.list(ROUTE_PREFIX, options.nextHop?.())) {
        const owns = ownership(route, owner);
        if (owns.kind === 'unrelated') continue;
        out.push({
          table: routes.network,
          vip: owns.kind === 'owned' ? owns.vip : route.destRange,
          target: route.nextHopInstance ?? '',
          owner: owns.kind === 'owned' ? owner : owns.owner,
          state: stateOf(route),
          id: route.name,
        });
        if (owns.kind === 'foreign') {
          log.debug({ event: 'foreign_route', route: route.name, reason: owns.why }, 'route left alone');
        }
      }
      return { tables: [routes.network], routes: out, view: undefined };
    },
    // Its own guard, stronger than registry/guard.ts: it only ever writes names it derives.
    async apply(changes): Promise<ApplyResult[]> {
      const errors = new Map<Change, unknown>();
      const inserts: Step[] = [];
      for (const change of changes) {
        const bad = invalid(change);
        if (bad !== undefined) errors.set(change, bad);
        else if (change.kind !== 'delete') inserts.push({ change, run: insert(change, change.target) });
      }
      for (const [change, error] of await settle(inserts)) errors.set(change, error);
      // Deletes only after every insert; the old route of a replace only once its successor exists.
      const deletes: Step[] = [];
      for (const change of changes) {
        if (errors.has(change)) continue;
        if (change.kind === 'delete') deletes.push({ change, run: remove(change, change.target, change.id) });
        if (change.kind === 'replace') deletes.push({ change, run: remove(change, change.from, change.id) });
      }
      for (const [change, error] of await settle(deletes)) errors.set(change, error);
      return changes.map((change) =>
        errors.has(change) ? { change, error: errors.get(change) } : { change },
      );
    },
  };
}
