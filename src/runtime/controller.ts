import { ConfigError, errorMessage, isTransient, PermanentError, TransientError } from '../errors.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';

/*
 * One reconcile for every caller (external-dns's `Controller.RunOnce`): observe, plan, apply,
 * report. The sidecar's loop, the cloud functions, the node agent and `portlb plan` (apply off)
 * all run it; what differs between them is the Pipeline they hand it.
 */

/** What a pipeline planned in one pass: its changes, what it left alone, and how much it wanted. */
export interface PassPlan<C> {
  readonly changes: readonly C[];
  readonly skipped: readonly unknown[];
  /** How many desired entries the plan was made from (a gauge). */
  readonly desired: number;
}

/** How one change shows in logs and metrics. */
export interface ChangeLog {
  /** `create`, `replace`, `delete`: the metric's `kind` label. */
  readonly kind: string;
  /** What a repeated failure is recognised by (`quietRepeats`). */
  readonly key: string;
  readonly fields: Readonly<Record<string, unknown>>;
  /** Log messages on success and on failure. */
  readonly done: string;
  readonly failed: string;
}

export interface Pipeline<C, P extends PassPlan<C> = PassPlan<C>> {
  readonly name: string;
  /** Observe, ask the source, plan. Changes nothing. */
  plan(): Promise<P>;
  /** Applies the plan's changes: one result per change, failures included. */
  apply(plan: P): Promise<readonly { readonly change: C; readonly error?: unknown }[]>;
  describe(change: C): ChangeLog;
  /** Left-alone entries as log fields (debug). */
  describeSkipped?(skipped: P['skipped'][number]): Record<string, unknown>;
}

export interface RunOutcome<C, P extends PassPlan<C> = PassPlan<C>> {
  readonly plan: P;
  readonly applied: readonly C[];
  readonly failed: readonly { readonly change: C; readonly error: string; readonly cause: unknown }[];
  /** One typed error for the whole pass when a change failed (transient if the first failure was). */
  readonly error?: TransientError | PermanentError | undefined;
}

export interface Controller<C, P extends PassPlan<C>> {
  /** One pass. Throws only when planning fails; a failed change is in `failed` and `error`. */
  runOnce(trigger: string, options?: { apply?: boolean }): Promise<RunOutcome<C, P>>;
}

export interface ControllerDeps {
  readonly logger: Logger;
  readonly metrics?: Metrics | undefined;
  /**
   * A failure that repeats on every pass (a route someone else holds) is logged at warn once per
   * distinct error, then at debug, until it changes or passes.
   */
  readonly quietRepeats?: boolean;
  /** After each applied or failed change (Kubernetes Events). */
  readonly onResult?: ((change: unknown, error: string | undefined) => void) | undefined;
}

function resultLabel(error: unknown): string {
  if (error instanceof ConfigError) return 'config_error';
  return isTransient(error) ? 'transient_error' : 'permanent_error';
}

export function createController<C, P extends PassPlan<C>>(
  pipeline: Pipeline<C, P>,
  deps: ControllerDeps,
): Controller<C, P> {
  const { metrics } = deps;
  const log = deps.logger.child({ component: 'controller', pipeline: pipeline.name });
  let failing = new Map<string, string>();

  async function applyAll(plan: P): Promise<Omit<RunOutcome<C, P>, 'plan'>> {
    const applied: C[] = [];
    const failed: { change: C; error: string; cause: unknown }[] = [];
    if (plan.changes.length === 0) {
      failing = new Map();
      return { applied, failed };
    }
    const seen = new Map<string, string>();
    for (const { change, error } of await pipeline.apply(plan)) {
      const entry = pipeline.describe(change);
      if (error === undefined) {
        applied.push(change);
        metrics?.changes.inc({ kind: entry.kind, result: 'ok' });
        log.info(entry.fields, entry.done);
        deps.onResult?.(change, undefined);
        continue;
      }
      const message = errorMessage(error);
      failed.push({ change, error: message, cause: error });
      seen.set(entry.key, message);
      metrics?.changes.inc({ kind: entry.kind, result: 'error' });
      const level = deps.quietRepeats && failing.get(entry.key) === message ? 'debug' : 'warn';
      log[level]({ ...entry.fields, err: message }, entry.failed);
      deps.onResult?.(change, message);
    }
    failing = seen;
    const first = failed[0];
    if (first === undefined) return { applied, failed };
    const text = `${failed.length} of ${plan.changes.length} changes failed: ${first.error}`;
    const error = isTransient(first.cause)
      ? new TransientError(text, { cause: first.cause })
      : new PermanentError(text, { cause: first.cause });
    return { applied, failed, error };
  }

  return {
    async runOnce(trigger, options = {}) {
      const stopTimer = metrics?.reconcileSeconds.startTimer();
      try {
        const plan = await pipeline.plan();
        metrics?.desired.set(plan.desired);
        metrics?.skipped.set(plan.skipped.length);
        if (pipeline.describeSkipped) {
          for (const skip of plan.skipped) log.debug(pipeline.describeSkipped(skip), 'left alone');
        }
        const result = options.apply === false ? { applied: [], failed: [] } : await applyAll(plan);
        log.debug(
          {
            event: 'reconciled',
            trigger,
            desired: plan.desired,
            changes: plan.changes.length,
            skipped: plan.skipped.length,
            failed: result.failed.length,
          },
          'reconciled',
        );
        metrics?.reconciles.inc({ result: result.error ? resultLabel(result.error) : 'ok' });
        if (result.error === undefined) metrics?.lastSuccess.set(Date.now() / 1000);
        return { plan, ...result };
      } catch (error) {
        metrics?.reconciles.inc({ result: resultLabel(error) });
        throw error;
      } finally {
        stopTimer?.();
      }
    },
  };
}
