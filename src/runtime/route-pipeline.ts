import type { Cardinality, Change, Plan, Policy, Skipped } from '../core/model.js';
import { afterChanges, plan } from '../core/plan.js';
import type { Observation, Registry, Source } from '../core/ports.js';
import { reasonFields } from '../core/reasons.js';
import type { Pipeline } from './controller.js';

/** A route plan, with the observation it was made from. */
export interface RoutePlan<View = unknown> extends Plan {
  readonly observation: Observation<View>;
  readonly desired: number;
}

/** Which changes a run may make (an instance event moves routes off one instance and does nothing else). */
export interface Scope {
  readonly allows: (change: Change) => boolean;
  /** What the run is limited to, for the left-alone entry of a change outside it. */
  readonly detail: string;
}

export interface RoutePipelineParts<View> {
  readonly source: Source<View>;
  readonly registry: Registry<View>;
  readonly cardinality: Cardinality;
  readonly whenNoneHealthy: 'keep' | 'withdraw';
  readonly policy?: Policy | undefined;
  readonly scope?: Scope | undefined;
}

/** The logging shape of a route change: the same fields in the sidecar, the functions and `plan`. */
export function routeChangeFields(change: Change): Record<string, unknown> {
  return {
    event: change.kind,
    vip: change.vip,
    table: change.table,
    target: change.target,
    ...(change.kind === 'replace' && { from: change.from }),
    ...reasonFields(change.reason),
  };
}

/**
 * The VIP-route pipeline every mode runs: one observation through the registry (ownership marked),
 * the desired state from the source given that observation, the pure planner, then the registry's
 * apply with the whole resulting set beside the changes.
 */
export function createRoutePipeline<View>(
  parts: RoutePipelineParts<View>,
): Pipeline<Change, RoutePlan<View>> {
  const { registry, scope } = parts;
  return {
    name: registry.name,
    async plan() {
      const observation = await registry.observe();
      const desired = await parts.source.desired(observation);
      const result = plan(desired, observation.routes, {
        owner: registry.owner,
        tables: observation.tables,
        cardinality: parts.cardinality,
        whenNoneHealthy: parts.whenNoneHealthy,
        ...(parts.policy && { policy: parts.policy }),
      });
      if (scope === undefined) return { ...result, observation, desired: desired.length };
      const outside: Skipped[] = result.changes
        .filter((c) => !scope.allows(c))
        .map((c) => ({
          table: c.table,
          vip: c.vip,
          target: c.target,
          reason: { code: 'out_of_scope', detail: scope.detail, cause: c.reason },
        }));
      return {
        changes: result.changes.filter(scope.allows),
        skipped: [...result.skipped, ...outside],
        observation,
        desired: desired.length,
      };
    },
    apply: (p) =>
      registry.apply(p.changes, {
        observation: p.observation,
        next: afterChanges(p.observation.routes, p.changes, registry.owner),
      }),
    describe: (change) => ({
      kind: change.kind,
      key: `${change.table}/${change.vip}`,
      fields: routeChangeFields(change),
      done: `route ${change.kind}d`,
      failed: `route ${change.kind} failed`,
    }),
    describeSkipped: (s: Skipped) => ({
      event: 'skipped',
      table: s.table,
      vip: s.vip,
      target: s.target,
      ...reasonFields(s.reason),
    }),
  };
}
