import { PermanentError, TransientError } from '../../errors.js';
import { describeInstances, nodeEni, turnOffSourceDestCheck } from '../../providers/aws/instances.js';
import type { Ec2Port, EventsPort } from '../../providers/aws/port.js';
import { describeTables, type TableSelector } from '../../providers/aws/tables.js';
import type { Logger } from '../../runtime/logger.js';
import { type CandidateState, podId } from '../../sources/aws/candidacy.js';
import { createStatePublisher, type StatePublisherOptions } from '../state-publisher.js';
import { putLifecycleEvent } from './event.js';
import { writeCandidacy } from './tags.js';

export interface CandidacyPublisherOptions {
  readonly ec2: Ec2Port;
  /** `tags`: write the candidacy tag here; `eventbridge`: put a lifecycle event, write nothing in EC2. */
  readonly publish:
    | { readonly kind: 'tags' }
    | { readonly kind: 'eventbridge'; readonly events: EventsPort; readonly bus: string };
  readonly tables: TableSelector;
  readonly owner: string;
  readonly node: string;
  /** This LB pod as `namespace/name` (the node name when there is no pod). */
  readonly pod: string;
  readonly nodeIp?: string | undefined;
  /** The instance behind this node (from the Node's providerID), once known. */
  readonly instanceId: () => string | undefined;
  /** This LB pod can serve: its data plane is healthy. */
  readonly healthy: () => boolean;
  readonly refreshSeconds: number;
  /** Unix milliseconds. */
  readonly now: () => number;
  readonly logger: Logger;
  /** Counts failed publishes. */
  readonly failures?: StatePublisherOptions<CandidateState>['failures'];
  /** The published state changed (refreshes do not count): the caller may want a reconcile. */
  readonly onPublished?: (state: CandidateState) => void;
}

export interface CandidacyPublisher {
  /** Publishes when the state changed or the last report is due for refresh; cheap otherwise. */
  tick(): Promise<void>;
  /** Publishes this state now and holds it (shutdown: draining, then gone). */
  announce(state: CandidateState): Promise<void>;
  /** The last publish failure, while it lasts (shown in status and counted; not a readiness reason). */
  failing(): string[];
  status(): Record<string, unknown>;
}

/**
 * This LB pod's candidacy, kept current: `ready` while healthy, `draining` when not or when
 * shutting down, `gone` at the end. Refreshed every `refreshSeconds` so that a pod that dies
 * without a word goes stale. SourceDestCheck is turned off on the node's ENI before the first
 * `ready` (in the tags topology; with EventBridge, the function does it).
 */
export function createCandidacyPublisher(options: CandidacyPublisherOptions): CandidacyPublisher {
  const log = options.logger.child({ component: 'aws-candidacy' });
  let eni: string | undefined;
  let sourceDestOff = false;

  /** The node's ENI (looked up once); before its first `ready`, SourceDestCheck is turned off. */
  async function ownEni(instanceId: string, state: CandidateState): Promise<string> {
    if (eni !== undefined && (sourceDestOff || state !== 'ready')) return eni;
    const instance = (await describeInstances(options.ec2, [instanceId])).get(instanceId);
    const found = instance && nodeEni(instance, options.nodeIp);
    if (found === undefined)
      throw new PermanentError(`instance ${instanceId} or its network interface was not found`);
    if (state === 'ready') {
      if (await turnOffSourceDestCheck(options.ec2, found.id, found.sourceDestCheck)) {
        log.info({ event: 'source_dest_check_off', target: found.id }, 'turned SourceDestCheck off');
      }
      sourceDestOff = true;
    }
    eni = found.id;
    return eni;
  }

  async function publish(state: CandidateState, at: number): Promise<void> {
    const instanceId = options.instanceId();
    if (instanceId === undefined)
      throw new TransientError('the instance of this node is not known yet (no providerID)');
    if (options.publish.kind === 'eventbridge') {
      await putLifecycleEvent(options.publish.events, options.publish.bus, {
        version: 1,
        owner: options.owner,
        node: options.node,
        pod: options.pod,
        instanceId,
        ...(options.nodeIp && { nodeIp: options.nodeIp }),
        state,
        at,
      });
      return;
    }
    const target = await ownEni(instanceId, state);
    const tables = await describeTables(options.ec2, options.tables);
    await writeCandidacy(options.ec2, tables, options.owner, {
      instanceId,
      pod: podId(options.pod),
      podName: options.pod,
      eni: target,
      state,
      at,
      node: options.node,
    });
  }

  const reports = createStatePublisher<CandidateState>({
    what: 'candidacy',
    publish,
    current: () => (options.healthy() ? 'ready' : 'draining'),
    refreshSeconds: options.refreshSeconds,
    now: options.now,
    logger: log,
    failures: options.failures,
    onChange: (state) => {
      log.info({ event: 'candidacy', state, instanceId: options.instanceId() }, `candidacy ${state}`);
      options.onPublished?.(state);
    },
  });

  return {
    tick: reports.tick,
    announce: reports.announce,
    failing: reports.failing,
    status: () => ({
      candidacy: reports.last()?.state,
      candidacyAt: reports.last()?.at,
      eni,
      instanceId: options.instanceId(),
    }),
  };
}
