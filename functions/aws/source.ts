import type { DesiredRoute } from '../../src/core/model.js';
import type { Source } from '../../src/core/ports.js';
import { PermanentError } from '../../src/errors.js';
import {
  describeInstances,
  type InstanceView,
  nodeEni,
  turnOffSourceDestCheck,
} from '../../src/providers/aws/instances.js';
import type { Ec2Port } from '../../src/providers/aws/port.js';
import type { RouteTableView } from '../../src/providers/aws/tables.js';
import type { LifecycleDetail } from '../../src/publishers/aws/lifecycle-event.js';
import { type PublishResult, writeCandidacy } from '../../src/publishers/aws/tags.js';
import type { Logger } from '../../src/runtime/logger.js';
import {
  type Candidacy,
  podId,
  sameReporter,
  supersedes,
  toCandidates,
} from '../../src/sources/aws/candidacy.js';
import { readCandidacies } from '../../src/sources/aws/source.js';
import type { FunctionConfig } from './env.js';

/** What a function run is about. */
export type PassInput =
  | { readonly kind: 'instance-down'; readonly instanceId: string; readonly why: string }
  | { readonly kind: 'sweep' }
  | { readonly kind: 'lifecycle'; readonly detail: LifecycleDetail };

/** What the source read, for the rest of the run (the sweep's cleanup, the instance event's scope). */
export interface FunctionRead {
  readonly candidacies: readonly Candidacy[];
  readonly instances: ReadonlyMap<string, InstanceView>;
  /** The ENIs of the instance an instance event is about. */
  readonly subjectEnis: ReadonlySet<string>;
  readonly published?: PublishResult | undefined;
}

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
  ec2: Ec2Port,
  logger: Logger,
  detail: LifecycleDetail,
  instance: InstanceView | undefined,
  onSourceDestCheckOff: (eni: string) => void,
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
  if (detail.state === 'ready' && (await turnOffSourceDestCheck(ec2, eni.id, eni.sourceDestCheck))) {
    logger.info({ event: 'source_dest_check_off', target: eni.id }, 'turned SourceDestCheck off');
    onSourceDestCheckOff(eni.id);
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

export interface FunctionSource extends Source<RouteTableView[]> {
  /** What `desired` read; undefined before it ran (a read that failed). */
  read(): FunctionRead | undefined;
}

/**
 * The desired side of one function run, from the pass's one read of the managed tables: the
 * candidacies on them, the candidates' instances (one DescribeInstances: their state, and their
 * ENIs' SourceDestCheck for free), and, for a lifecycle event, the report it carries, which is
 * recorded on the tables first. An instance event marks its instance down at once.
 */
export function createFunctionSource(deps: {
  readonly ec2: Ec2Port;
  readonly config: FunctionConfig;
  readonly logger: Logger;
  readonly now: number;
  readonly input: PassInput;
  /** ENIs found with SourceDestCheck already off: the provider need not read them again. */
  readonly onSourceDestCheckOff: (eni: string) => void;
}): FunctionSource {
  const { ec2, config, logger, input } = deps;
  let read: FunctionRead | undefined;
  return {
    async desired(observation): Promise<DesiredRoute[]> {
      const tables = observation.view;
      let candidacies = readCandidacies(tables, config.owner, logger);
      const subject =
        input.kind === 'instance-down'
          ? input.instanceId
          : input.kind === 'lifecycle'
            ? input.detail.instanceId
            : undefined;
      const ids = [...new Set([...candidacies.map((c) => c.instanceId), ...(subject ? [subject] : [])])];
      const instances = await describeInstances(ec2, ids);
      let published: PublishResult | undefined;
      if (input.kind === 'lifecycle') {
        const candidacy = await lifecycleCandidacy(
          ec2,
          logger,
          input.detail,
          instances.get(subject ?? ''),
          deps.onSourceDestCheckOff,
        );
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
        if (eni && !eni.sourceDestCheck) deps.onSourceDestCheckOff(eni.id);
      }
      read = { candidacies, instances, subjectEnis, published };
      const candidates = toCandidates(candidacies, {
        now: deps.now,
        staleSeconds: config.staleSeconds,
        down,
      });
      return config.vips.map((vip) => ({ vip, service: vip, candidates }));
    },
    read: () => read,
  };
}
