import type { Change } from '../../core/model.js';
import type { Registry } from '../../core/ports.js';
import { PermanentError } from '../../errors.js';

/**
 * The sidecar's view of the GCP registry: of this owner's routes it sees only those to its own
 * instance, and it writes nothing else. Every LB's sidecar is a writer of its own routes (no
 * Lease); routes to the other LBs' instances are theirs, so they are not in this view at all
 * (not foreign: the planner would otherwise delete them as "not a candidate" of this LB, whose
 * desired state names only itself). Other owners' routes stay in view, left alone as foreign.
 */
export function ownInstanceOnly<View>(
  registry: Registry<View>,
  instance: () => string | undefined,
): Registry<View> {
  const outside = (change: Change, own: string | undefined) =>
    change.target !== own || (change.kind === 'replace' && change.from !== own);
  return {
    name: registry.name,
    owner: registry.owner,
    async observe() {
      const seen = await registry.observe();
      const own = instance();
      return {
        ...seen,
        routes: seen.routes.filter((r) => r.owner !== registry.owner || r.target === own),
      };
    },
    async apply(changes, context) {
      const own = instance();
      const inside = changes.filter((c) => !outside(c, own));
      const done = inside.length > 0 ? await registry.apply(inside, context) : [];
      const results = new Map(done.map((r) => [r.change, r]));
      return changes.map(
        (change) =>
          results.get(change) ?? {
            change,
            error: new PermanentError(
              `refusing ${change.kind} of ${change.vip} via ${change.target}: this sidecar writes only the routes to its own instance (${own ?? 'not known yet'})`,
            ),
          },
      );
    },
  };
}
