import { errorMessage, PermanentError, TransientError } from '../../errors.js';
import { describeInstances, nodeEni, turnOffSourceDestCheck } from '../../providers/aws/instances.js';
import type { Ec2Port, EventsPort } from '../../providers/aws/port.js';
import { describeTables, type TableSelector } from '../../providers/aws/tables.js';
import { backoffDelay } from '../../runtime/backoff.js';
import type { Logger } from '../../runtime/logger.js';
import { type CandidateState, podId } from '../../sources/aws/candidacy.js';
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
  /** The published state changed (refreshes do not count): the caller may want a reconcile. */
  readonly onPublished?: (state: CandidateState) => void;
}

export interface CandidacyPublisher {
  /** Publishes when the state changed or the last report is due for refresh; cheap otherwise. */
  tick(): Promise<void>;
  /** Publishes this state now and holds it (shutdown: draining, then gone). */
  announce(state: CandidateState): Promise<void>;
  notReady(): string[];
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
  let held: CandidateState | undefined;
  let last: { state: CandidateState; at: number } | undefined;
  let failures = 0;
  let retryAt = 0;
  let lastError: string | undefined;

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

  async function publish(state: CandidateState): Promise<void> {
    const instanceId = options.instanceId();
    if (instanceId === undefined)
      throw new TransientError('the instance of this node is not known yet (no providerID)');
    const at = Math.floor(options.now());
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
    } else {
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
    const changed = last?.state !== state;
    last = { state, at };
    if (changed) {
      log.info({ event: 'candidacy', state, instanceId }, `candidacy ${state}`);
      options.onPublished?.(state);
    }
  }

  async function attempt(state: CandidateState): Promise<void> {
    try {
      await publish(state);
      failures = 0;
      lastError = undefined;
    } catch (error) {
      failures += 1;
      lastError = `publishing candidacy ${state} failed: ${errorMessage(error)}`;
      retryAt =
        options.now() +
        backoffDelay(failures, { minMs: 1000, maxMs: Math.min(options.refreshSeconds, 64) * 1000 });
      log.warn({ event: 'candidacy_failed', state, err: errorMessage(error) }, lastError);
    }
  }

  return {
    async tick() {
      const state: CandidateState = held ?? (options.healthy() ? 'ready' : 'draining');
      const now = options.now();
      if (now < retryAt) return;
      const due =
        last === undefined || last.state !== state || now - last.at >= options.refreshSeconds * 1000;
      if (due) await attempt(state);
    },
    async announce(state) {
      held = state;
      retryAt = 0;
      await attempt(state);
    },
    notReady: () => (lastError ? [lastError] : []),
    status: () => ({ candidacy: last?.state, candidacyAt: last?.at, eni, instanceId: options.instanceId() }),
  };
}
