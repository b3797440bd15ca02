import { DeleteTagsCommand } from '@aws-sdk/client-ec2';
import type { Change, DesiredRoute } from '../../src/core/model.js';
import { plan } from '../../src/core/plan.js';
import { PermanentError } from '../../src/errors.js';
import {
  type Candidacy,
  candidateTagKey,
  podId,
  sameReporter,
  supersedes,
  toCandidates,
} from '../../src/providers/aws/candidacy.js';
import { call } from '../../src/providers/aws/errors.js';
import {
  describeInstances,
  type InstanceView,
  nodeEni,
  turnOffSourceDestCheck,
} from '../../src/providers/aws/instances.js';
import type { LifecycleDetail } from '../../src/providers/aws/lifecycle.js';
import type { Ec2Port } from '../../src/providers/aws/port.js';
import { createEc2Provider } from '../../src/providers/aws/provider.js';
import { type PublishResult, writeCandidacy } from '../../src/providers/aws/publish.js';
import { assertVipsOutsideVpc } from '../../src/providers/aws/routes.js';
import { createTableSnapshot } from '../../src/providers/aws/snapshot.js';
import { readCandidacies } from '../../src/providers/aws/source.js';
import type { RouteTableView } from '../../src/providers/aws/tables.js';
import { applyChanges } from '../../src/runtime/apply.js';
import type { Logger } from '../../src/runtime/logger.js';
import type { FunctionConfig } from './env.js';

export interface PassDeps {
  readonly ec2: Ec2Port;
  readonly config: FunctionConfig;
  readonly logger: Logger;
  /** Unix milliseconds. */
  readonly now: () => number;
}

export type PassInput =
  | { readonly kind: 'instance-down'; readonly instanceId: string; readonly why: string }
  | { readonly kind: 'sweep' }
  | { readonly kind: 'lifecycle'; readonly detail: LifecycleDetail };

export interface PassOutcome {
  readonly status: 'changed' | 'unchanged' | 'noop';
  readonly reason: string;
  readonly applied: readonly Change[];
  readonly skipped: number;
  readonly candidacy?: PublishResult;
  readonly cleaned?: readonly string[];
}

/**
 * A report nobody refreshed for this long is removed by the sweep: its pod is gone (pod names are
 * never reused) and nobody needs to order events that far back.
 */
const RETENTION_SECONDS = 3600;

function downReasons(candidacies: readonly Candidacy[], instances: ReadonlyMap<string, InstanceView>) {
  const down = new Map<string, string>();
  for (const c of candidacies) {
    const instance = instances.get(c.instanceId);
    if (instance === undefined) down.set(c.instanceId, `instance ${c.instanceId} no longer exists`);
    else if (instance.state !== 'running')
      down.set(c.instanceId, `instance ${c.instanceId} is ${instance.state}`);
  }
  return down;
}

/** Resolves and checks a lifecycle report into a candidacy; refuses an ENI that is not on the instance. */
async function lifecycleCandidacy(
  deps: PassDeps,
  detail: LifecycleDetail,
  instance: InstanceView | undefined,
): Promise<Candidacy> {
  if (instance === undefined) {
    throw new PermanentError(
      `lifecycle event from ${detail.node} names instance ${detail.instanceId}, which does not exist`,
    );
  }
  const eni = detail.eni ? instance.enis.find((e) => e.id === detail.eni) : nodeEni(instance, detail.nodeIp);
  if (eni === undefined) {
    throw new PermanentError(
      `lifecycle event from ${detail.node}: ${detail.eni ?? 'no network interface'} is not attached to ${detail.instanceId}`,
    );
  }
  if (detail.state === 'ready' && (await turnOffSourceDestCheck(deps.ec2, eni.id, eni.sourceDestCheck))) {
    deps.logger.info({ event: 'source_dest_check_off', target: eni.id }, 'turned SourceDestCheck off');
  }
  return {
    instanceId: detail.instanceId,
    pod: podId(detail.pod),
    podName: detail.pod,
    eni: eni.id,
    state: detail.state,
    at: detail.at,
    node: detail.node,
  };
}

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
 * One function run: read the managed tables once (routes and candidacies), read the candidates'
 * instances once (state, and SourceDestCheck for free), plan with the same planner as the sidecar,
 * and write only what the plan says. An instance event only moves routes off that instance; the
 * sweep and lifecycle events repair everything. Every step is safe to repeat: a redelivered event
 * finds nothing left to do.
 */
export async function runPass(deps: PassDeps, input: PassInput): Promise<PassOutcome> {
  const { ec2, config, logger } = deps;
  const now = deps.now();
  const snapshot = createTableSnapshot(ec2, config.tables);
  const tables = await snapshot.load();
  assertVipsOutsideVpc(tables, config.vips, config.vpcCidrs);
  let candidacies = readCandidacies(tables, config.owner, logger);

  const subject =
    input.kind === 'instance-down'
      ? input.instanceId
      : input.kind === 'lifecycle'
        ? input.detail.instanceId
        : undefined;
  if (input.kind === 'lifecycle' && input.detail.owner !== config.owner) {
    return noop(`lifecycle event for owner ${input.detail.owner}, not ${config.owner}`);
  }
  const ids = [...new Set([...candidacies.map((c) => c.instanceId), ...(subject ? [subject] : [])])];
  const instances = await describeInstances(ec2, ids);
  const provider = createEc2Provider({
    ec2,
    snapshot,
    owner: config.owner,
    vips: config.vips,
    vpcCidrs: config.vpcCidrs,
    concurrency: config.concurrency,
    logger,
  });

  let published: PublishResult | undefined;
  if (input.kind === 'lifecycle') {
    const candidacy = await lifecycleCandidacy(deps, input.detail, instances.get(input.detail.instanceId));
    published = await writeCandidacy(ec2, tables, config.owner, candidacy);
    const held = candidacies.find((c) => sameReporter(c, candidacy));
    if (supersedes(candidacy, held)) {
      // A gone pod is no candidate at all; its tag was just removed.
      const others = candidacies.filter((c) => !sameReporter(c, candidacy));
      candidacies = candidacy.state === 'gone' ? others : [...others, candidacy];
    }
  }

  const down = downReasons(candidacies, instances);
  const subjectEnis = new Set<string>();
  if (input.kind === 'instance-down') {
    down.set(input.instanceId, input.why);
    for (const eni of instances.get(input.instanceId)?.enis ?? []) subjectEnis.add(eni.id);
    for (const c of candidacies) if (c.instanceId === input.instanceId) subjectEnis.add(c.eni);
  }
  for (const c of candidacies) {
    const eni = instances.get(c.instanceId)?.enis.find((e) => e.id === c.eni);
    if (eni && !eni.sourceDestCheck) provider.noteSourceDestCheckOff(eni.id);
  }

  const candidates = toCandidates(candidacies, { now, staleSeconds: config.staleSeconds, down });
  const desired: DesiredRoute[] = config.vips.map((vip) => ({ vip, service: vip, candidates }));
  const tableIds = await provider.tables();
  const observed = await provider.observe(tableIds);
  if (input.kind === 'instance-down' && !observed.some((r) => subjectEnis.has(r.target))) {
    return noop(`no managed route targets instance ${input.instanceId}`, published);
  }
  const result = plan(desired, observed, {
    owner: config.owner,
    tables: tableIds,
    cardinality: 'single',
    whenNoneHealthy: 'keep',
  });
  const changes =
    input.kind === 'instance-down'
      ? result.changes.filter((c) => c.kind === 'replace' && subjectEnis.has(c.from))
      : result.changes;
  for (const skip of result.skipped) logger.debug({ event: 'skipped', ...skip }, 'left alone');
  const applied = await applyChanges(provider.apply.bind(provider), changes, { logger });
  if (applied.error) throw applied.error;
  const outcome = applied.applied;

  let cleaned: string[] | undefined;
  if (input.kind === 'sweep') {
    cleaned = expiredKeys(config.owner, candidacies, instances, now);
    if (cleaned.length > 0) {
      await deleteTags(ec2, tables, cleaned);
      logger.info({ event: 'candidacies_removed', keys: cleaned }, 'removed candidacies of departed nodes');
    }
  }
  return {
    status: outcome.length > 0 ? 'changed' : 'unchanged',
    reason: input.kind === 'instance-down' ? input.why : input.kind,
    applied: outcome,
    skipped: result.skipped.length,
    ...(published && { candidacy: published }),
    ...(cleaned && { cleaned }),
  };

  function noop(reason: string, candidacy?: PublishResult): PassOutcome {
    logger.info({ event: 'noop', reason }, 'nothing to do');
    return { status: 'noop', reason, applied: [], skipped: 0, ...(candidacy && { candidacy }) };
  }
}
