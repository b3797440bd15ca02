import { DeleteTagsCommand } from '@aws-sdk/client-ec2';
import type { Change, Skipped } from '../../src/core/model.js';
import { awsPlanning } from '../../src/modes/aws/planning.js';
import { modePipeline } from '../../src/modes/pipeline.js';
import { call } from '../../src/providers/aws/errors.js';
import type { InstanceView } from '../../src/providers/aws/instances.js';
import type { Ec2Port } from '../../src/providers/aws/port.js';
import { createEc2Provider } from '../../src/providers/aws/provider.js';
import type { RouteTableView } from '../../src/providers/aws/tables.js';
import type { PublishResult } from '../../src/publishers/aws/tags.js';
import { createAwsRegistry } from '../../src/registry/aws/registry.js';
import { createController } from '../../src/runtime/controller.js';
import type { Logger } from '../../src/runtime/logger.js';
import { type Candidacy, candidateTagKey } from '../../src/sources/aws/candidacy.js';
import type { FunctionConfig } from './env.js';
import { createFunctionSource, type PassInput } from './source.js';
import { reportStuck } from './stuck.js';

export type { PassInput } from './source.js';

export interface PassDeps {
  readonly ec2: Ec2Port;
  readonly config: FunctionConfig;
  readonly logger: Logger;
  /** Unix milliseconds. */
  readonly now: () => number;
  /** Where a route stuck on a dying instance is announced (`portlb Route Stuck` events). */
  readonly announce?: ((detail: StuckDetail) => Promise<void>) | undefined;
}

export interface StuckDetail {
  readonly instanceId: string;
  readonly why: string;
  readonly routes: readonly { readonly table: string; readonly vip: string; readonly target: string }[];
}

export interface PassOutcome {
  readonly status: 'changed' | 'unchanged' | 'noop';
  readonly reason: string;
  readonly applied: readonly Change[];
  readonly skipped: number;
  readonly candidacy?: PublishResult;
  readonly cleaned?: readonly string[];
  /** Routes left on the instance of an instance event because no healthy LB could take them. */
  readonly stuck?: readonly Skipped[];
}

/**
 * A report nobody refreshed for this long is removed by the sweep: its pod is gone (pod names are
 * never reused) and nobody needs to order events that far back.
 */
const RETENTION_SECONDS = 3600;

/** Candidacy tags of instances that are gone for good, or reports nobody refreshed for the retention time. */
function expiredKeys(
  owner: string,
  candidacies: readonly Candidacy[],
  instances: ReadonlyMap<string, InstanceView>,
  now: number,
): string[] {
  return candidacies
    .filter((c) => {
      const state = instances.get(c.instanceId)?.state;
      return state === undefined || state === 'terminated' || now - c.at > RETENTION_SECONDS * 1000;
    })
    .map((c) => candidateTagKey(owner, c.instanceId, c.pod));
}

async function deleteTags(
  ec2: Ec2Port,
  tables: readonly RouteTableView[],
  keys: readonly string[],
): Promise<void> {
  const ids = tables.filter((t) => keys.some((k) => t.tags[k] !== undefined)).map((t) => t.id);
  if (ids.length === 0) return;
  await call({ action: 'DeleteTags', resource: ids.join(', ') }, () =>
    ec2.send(new DeleteTagsCommand({ Resources: ids, Tags: keys.map((Key) => ({ Key })) })),
  );
}

/**
 * One function run on the same controller as the sidecar: one read of the managed tables (routes,
 * candidacies, records), one read of the candidates' instances, the planner, and only what the
 * plan says written. An instance event only moves routes off that instance; the sweep and
 * lifecycle events repair everything. Every step is safe to repeat: a redelivered event finds
 * nothing left to do.
 */
export async function runPass(deps: PassDeps, input: PassInput): Promise<PassOutcome> {
  const { ec2, config, logger } = deps;
  if (input.kind === 'lifecycle' && input.detail.owner !== config.owner) {
    return noop(`lifecycle event for owner ${input.detail.owner}, not ${config.owner}`);
  }
  const now = deps.now();
  const provider = createEc2Provider({ ec2, tables: config.tables, concurrency: config.concurrency, logger });
  const registry = createAwsRegistry({
    provider,
    ec2,
    owner: config.owner,
    vips: config.vips,
    vpcCidrs: config.vpcCidrs,
    logger,
  });
  const source = createFunctionSource({
    ec2,
    config,
    logger,
    now,
    input,
    onSourceDestCheckOff: (eni) => provider.noteSourceDestCheckOff(eni),
  });
  const subjectEnis = () => source.read()?.subjectEnis ?? new Set<string>();
  const scope =
    input.kind === 'instance-down'
      ? {
          allows: (c: Change) => c.kind === 'replace' && subjectEnis().has(c.from),
          detail: `moving routes off ${input.instanceId}`,
        }
      : undefined;
  const controller = createController(modePipeline(awsPlanning, { source, registry, scope }), { logger });
  const outcome = await controller.runOnce(input.kind);
  const read = source.read();
  const published = read?.published;
  if (
    input.kind === 'instance-down' &&
    !outcome.plan.observation.routes.some((r) => subjectEnis().has(r.target))
  ) {
    return noop(`no managed route targets instance ${input.instanceId}`, published);
  }
  if (outcome.error) throw outcome.error;

  const stuck =
    input.kind === 'instance-down'
      ? outcome.plan.skipped.filter((s) => s.reason.code === 'kept' && subjectEnis().has(s.target ?? ''))
      : [];
  if (input.kind === 'instance-down' && stuck.length > 0) {
    await reportStuck({ logger, announce: deps.announce }, input, stuck);
  }

  let cleaned: string[] | undefined;
  if (input.kind === 'sweep' && read !== undefined) {
    cleaned = expiredKeys(config.owner, read.candidacies, read.instances, now);
    if (cleaned.length > 0) {
      await deleteTags(ec2, outcome.plan.observation.view, cleaned);
      logger.info({ event: 'candidacies_removed', keys: cleaned }, 'removed candidacies of departed nodes');
    }
  }
  return {
    status: outcome.applied.length > 0 ? 'changed' : 'unchanged',
    reason: input.kind === 'instance-down' ? input.why : input.kind,
    applied: outcome.applied,
    skipped: outcome.plan.skipped.length,
    ...(published && { candidacy: published }),
    ...(cleaned && { cleaned }),
    ...(stuck.length > 0 && { stuck }),
  };

  function noop(reason: string, candidacy?: PublishResult): PassOutcome {
    logger.info({ event: 'noop', reason }, 'nothing to do');
    return { status: 'noop', reason, applied: [], skipped: 0, ...(candidacy && { candidacy }) };
  }
}
