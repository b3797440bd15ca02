import type { Change } from '../core/model.js';
import type { ApplyResult, Observation } from '../core/ports.js';
import { PermanentError } from '../errors.js';

/**
 * The registry's promise, checked at the last moment: a replace or delete must name a route this
 * owner holds in the observation the change was planned from. The planner never plans anything
 * else; a wrong write here would move someone else's traffic, so it is refused, not trusted.
 */
export function refuseUnowned(
  changes: readonly Change[],
  observation: Observation,
  owner: string,
): { allowed: Change[]; refused: ApplyResult[] } {
  const owned = new Set(
    observation.routes
      .filter((r) => r.owner === owner)
      .map((r) => `${r.table}\u0000${r.vip}\u0000${r.target}`),
  );
  const allowed: Change[] = [];
  const refused: ApplyResult[] = [];
  for (const change of changes) {
    const touched =
      change.kind === 'replace' ? change.from : change.kind === 'delete' ? change.target : undefined;
    if (touched === undefined || owned.has(`${change.table}\u0000${change.vip}\u0000${touched}`)) {
      allowed.push(change);
      continue;
    }
    refused.push({
      change,
      error: new PermanentError(
        `refusing to ${change.kind} ${change.table}/${change.vip} -> ${touched}: the route is not owned by ${owner}`,
      ),
    });
  }
  return { allowed, refused };
}

/**
 * Results in the order of `changes`, from the results of several batches. A change no batch
 * answered for failed: success is only what a provider reported, so no record follows a write that
 * never ran.
 */
export function inOrder(
  changes: readonly Change[],
  ...batches: readonly (readonly ApplyResult[])[]
): ApplyResult[] {
  const byChange = new Map(batches.flat().map((r) => [r.change, r]));
  return changes.map(
    (change) =>
      byChange.get(change) ?? {
        change,
        error: new PermanentError(
          `${change.kind} ${change.table}/${change.vip}: no result from the provider`,
        ),
      },
  );
}
