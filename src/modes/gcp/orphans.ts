import type { Change, ObservedRoute } from '../../core/model.js';
import type { Registry } from '../../core/ports.js';
import { errorMessage } from '../../errors.js';
import type { Logger } from '../../runtime/logger.js';

/*
 * In gcp mode each sidecar writes only the routes to its own instance, so a route whose LB pod
 * went without withdrawing (SIGKILLed, OOM-killed, evicted and rescheduled elsewhere, a withdraw
 * that failed at shutdown) has no writer left while its instance keeps running: the instance
 * keeps its ECMP share of the VIP with no LB behind it. The functions' sweep cannot see that (the
 * instance is fine). Every sidecar that watches the LB pods can: a route of this owner to an
 * instance that hosts no LB pod at all, for `gcp.orphanSeconds` in a row, is deleted by whichever
 * sidecar sees it first. Deletes are idempotent (404 is done), so several sidecars doing it at
 * once is harmless; and a new LB pod is in the informers before its own route exists (it inserts
 * only once its gates pass), so a route just made is never an orphan.
 */

export interface OrphanSweepOptions {
  /** This owner's routes in Compute, all of them (not the sidecar's own-instance view). */
  readonly registry: Registry<undefined>;
  /** This config's VIPs: another deployment's routes under the same owner are not looked at. */
  readonly vips: ReadonlySet<string>;
  /** The instances that host an LB pod now; undefined while that is not known for certain. */
  readonly lbInstances: () => Promise<ReadonlySet<string> | undefined>;
  readonly graceMs: number;
  /** Unix milliseconds. */
  readonly now: () => number;
  readonly logger: Logger;
}

export interface OrphanSweep {
  /** One look: remembers new orphans, deletes those orphaned for the grace period. */
  sweep(): Promise<void>;
}

const keyOf = (r: Pick<ObservedRoute, 'table' | 'vip' | 'target'>) =>
  `${r.table}\u0000${r.vip}\u0000${r.target}`;

export function createOrphanSweep(options: OrphanSweepOptions): OrphanSweep {
  const log = options.logger.child({ component: 'gcp-orphans' });
  const since = new Map<string, number>();
  return {
    async sweep() {
      const hosts = await options.lbInstances();
      if (hosts === undefined) return;
      const observation = await options.registry.observe();
      const now = options.now();
      const orphans = observation.routes.filter(
        (r) =>
          r.owner === options.registry.owner &&
          options.vips.has(r.vip) &&
          r.state !== 'blackhole' &&
          !hosts.has(r.target),
      );
      const seen = new Set(orphans.map(keyOf));
      for (const key of since.keys()) if (!seen.has(key)) since.delete(key);
      const due: ObservedRoute[] = [];
      for (const route of orphans) {
        const first = since.get(keyOf(route)) ?? now;
        since.set(keyOf(route), first);
        if (now - first >= options.graceMs) due.push(route);
      }
      if (due.length === 0) return;
      const changes: Change[] = due.map((r) => ({
        kind: 'delete',
        table: r.table,
        vip: r.vip,
        target: r.target,
        ...(r.id !== undefined && { id: r.id }),
        reason: { code: 'orphaned', detail: `for ${options.graceMs / 1000} s` },
      }));
      const results = await options.registry.apply(changes, { observation, next: [] });
      for (const { change, error } of results) {
        if (error === undefined) {
          since.delete(keyOf(change));
          log.warn(
            { event: 'orphan_deleted', vip: change.vip, target: change.target },
            `deleted route ${change.vip} -> ${change.target}: no LB pod has been on that instance for ${options.graceMs / 1000} s`,
          );
        } else {
          log.warn(
            {
              event: 'orphan_delete_failed',
              vip: change.vip,
              target: change.target,
              err: errorMessage(error),
            },
            `could not delete orphaned route ${change.vip} -> ${change.target}`,
          );
        }
      }
    },
  };
}
