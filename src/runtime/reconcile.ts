import type { Change, Plan, Policy } from '../core/model.js';
import { plan } from '../core/plan.js';
import { ConfigError, isTransient } from '../errors.js';
import type { Provider, Source } from '../providers/types.js';
import { applyChanges } from './apply.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';

export interface ReconcileOutcome {
  readonly plan: Plan;
  readonly applied: readonly Change[];
  readonly failed: readonly { change: Change; error: string }[];
  readonly desired: number;
}

export interface ReconcilerDeps {
  readonly source: Source;
  readonly provider: Provider;
  readonly owner: string;
  readonly policy?: Policy;
  readonly logger: Logger;
  readonly metrics?: Metrics;
  /** When false, plans only: nothing is applied (`portlb plan`). */
  readonly apply?: boolean;
}

function resultLabel(error: unknown): string {
  if (error instanceof ConfigError) return 'config_error';
  return isTransient(error) ? 'transient_error' : 'permanent_error';
}

/** One pass: desired from the source, observed from the provider, the pure plan, then apply. */
export function createReconciler(deps: ReconcilerDeps) {
  const { provider, logger, metrics } = deps;
  const log = logger.child({ component: 'reconcile', provider: provider.name });

  async function reconcile(reason = 'manual'): Promise<ReconcileOutcome> {
    const stopTimer = metrics?.reconcileSeconds.startTimer();
    try {
      const desired = await deps.source.desired();
      const tables = await provider.tables();
      const observed = await provider.observe(tables);
      const result = plan(desired, observed, {
        owner: deps.owner,
        tables,
        cardinality: provider.cardinality,
        ...(deps.policy && { policy: deps.policy }),
        ...(provider.whenNoneHealthy && { whenNoneHealthy: provider.whenNoneHealthy }),
      });
      metrics?.desired.set(desired.length);
      metrics?.skipped.set(result.skipped.length);
      for (const skip of result.skipped) log.debug({ event: 'skipped', ...skip }, 'left alone');
      const { applied, failed, error } =
        deps.apply === false
          ? { applied: [], failed: [], error: undefined }
          : await applyChanges((changes) => provider.apply(changes), result.changes, {
              logger: log,
              metrics,
            });
      log.debug(
        {
          event: 'reconciled',
          trigger: reason,
          desired: desired.length,
          changes: result.changes.length,
          skipped: result.skipped.length,
        },
        'reconciled',
      );
      if (error !== undefined) throw error;
      metrics?.reconciles.inc({ result: 'ok' });
      metrics?.lastSuccess.set(Date.now() / 1000);
      return { plan: result, applied, failed, desired: desired.length };
    } catch (failure) {
      metrics?.reconciles.inc({ result: resultLabel(failure) });
      throw failure;
    } finally {
      stopTimer?.();
    }
  }

  return { reconcile };
}

export type Reconciler = ReturnType<typeof createReconciler>;
