import type { Change } from '../core/model.js';
import { errorMessage, isTransient, PermanentError, TransientError } from '../errors.js';
import type { ApplyResult } from '../providers/types.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';

export interface AppliedChanges {
  readonly applied: Change[];
  readonly failed: { change: Change; error: string }[];
  /** One typed error for the whole batch (transient if the first failure was), after every change was tried. */
  readonly error?: TransientError | PermanentError;
}

/**
 * Applies a plan's changes through a provider, logging and counting each one. One failure does not
 * stop the rest: a failover of 200 routes must not stall on the first throttled call.
 */
export async function applyChanges(
  apply: (changes: readonly Change[]) => Promise<readonly ApplyResult[]>,
  changes: readonly Change[],
  deps: { logger: Logger; metrics?: Pick<Metrics, 'changes'> | undefined },
): Promise<AppliedChanges> {
  const applied: Change[] = [];
  const failed: { change: Change; error: string }[] = [];
  if (changes.length === 0) return { applied, failed };
  let firstError: unknown;
  for (const { change, error } of await apply(changes)) {
    const fields = {
      event: change.kind,
      vip: change.vip,
      table: change.table,
      target: change.target,
      reason: change.reason,
    };
    if (error === undefined) {
      applied.push(change);
      deps.metrics?.changes.inc({ kind: change.kind, result: 'ok' });
      deps.logger.info(fields, `route ${change.kind}d`);
    } else {
      failed.push({ change, error: errorMessage(error) });
      deps.metrics?.changes.inc({ kind: change.kind, result: 'error' });
      deps.logger.warn({ ...fields, err: errorMessage(error) }, `route ${change.kind} failed`);
      firstError ??= error;
    }
  }
  if (firstError === undefined) return { applied, failed };
  const message = `${failed.length} of ${changes.length} route changes failed: ${errorMessage(firstError)}`;
  const error = isTransient(firstError)
    ? new TransientError(message, { cause: firstError })
    : new PermanentError(message, { cause: firstError });
  return { applied, failed, error };
}
