import type { Change } from '../../src/core/model.js';
import { gcpPlanning } from '../../src/modes/gcp/planning.js';
import { modePipeline } from '../../src/modes/pipeline.js';
import type { ComputeRoutes } from '../../src/providers/gcp/routes.js';
import { createGcpRouteRegistry } from '../../src/registry/gcp/provider.js';
import { createController } from '../../src/runtime/controller.js';
import type { Logger } from '../../src/runtime/logger.js';
import type { GcpFunctionConfig } from './env.js';
import { createGcpFunctionSource, type GcpPassInput, scopeOf, subjectOf } from './source.js';

export type { GcpPassInput } from './source.js';

export interface GcpPassDeps {
  /** The Compute adapter, built once per cold start (it remembers requestIds across retries). */
  readonly routes: ComputeRoutes;
  readonly config: GcpFunctionConfig;
  readonly logger: Logger;
  /** Unix milliseconds. */
  readonly now: () => number;
}

export interface GcpPassOutcome {
  readonly status: 'changed' | 'unchanged' | 'noop';
  readonly reason: string;
  readonly applied: readonly Change[];
  readonly skipped: number;
}

/**
 * One function run on the same controller as the sidecar: one filtered `routes.list` through the
 * GCP registry (ownership marked), the function's source and scope, the planner, and only what
 * the plan says written. Every step is safe to repeat: a redelivered message finds nothing to do.
 */
export async function runGcpPass(deps: GcpPassDeps, input: GcpPassInput): Promise<GcpPassOutcome> {
  const { config, logger } = deps;
  if (input.kind === 'lifecycle') {
    const { owner, at, pod } = input.detail;
    if (owner !== config.owner) return noop(`lifecycle message for owner ${owner}, not ${config.owner}`);
    const age = (deps.now() - at) / 1000;
    if (age > config.lifecycleMaxAgeSeconds) {
      return noop(
        `lifecycle message of ${pod} is ${Math.round(age)} s old (over ${config.lifecycleMaxAgeSeconds} s): a newer one says more`,
      );
    }
  }
  const registry = createGcpRouteRegistry({
    routes: deps.routes,
    owner: config.owner,
    priority: config.priority,
    logger,
  });
  const source = createGcpFunctionSource({ owner: config.owner, vips: config.vips, input });
  const pipeline = modePipeline(gcpPlanning, { source, registry, scope: scopeOf(input) });
  const outcome = await createController(pipeline, { logger }).runOnce(input.kind);
  const subject = subjectOf(input);
  if (
    input.kind === 'instance-down' &&
    !outcome.plan.observation.routes.some((r) => r.owner === config.owner && r.target === subject)
  ) {
    return noop(`no portlb route (owner ${config.owner}) goes to instance ${subject}`);
  }
  if (outcome.error) throw outcome.error;
  return {
    status: outcome.applied.length > 0 ? 'changed' : 'unchanged',
    reason: input.kind === 'instance-down' ? input.why : input.kind,
    applied: outcome.applied,
    skipped: outcome.plan.skipped.length,
  };

  function noop(reason: string): GcpPassOutcome {
    logger.info({ event: 'noop', reason }, 'nothing to do');
    return { status: 'noop', reason, applied: [], skipped: 0 };
  }
}
