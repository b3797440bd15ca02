import { TransientError } from '../../errors.js';
import { type GcpLifecycle, LIFECYCLE_KIND } from '../../providers/gcp/lifecycle.js';
import type { Logger } from '../../runtime/logger.js';
import { createStatePublisher, type StatePublisherOptions } from '../state-publisher.js';
import type { TopicPublisher } from './pubsub.js';

export type LifecycleState = GcpLifecycle['state'];

export interface LifecyclePublisherOptions {
  readonly topic: TopicPublisher;
  readonly owner: string;
  readonly node: string;
  /** This LB pod as `namespace/name`. */
  readonly pod: string;
  /** This node's instance URL, once known. */
  readonly instance: () => string | undefined;
  /** Can this LB serve every service now? Undefined: not known yet (nothing is published). */
  readonly healthy: () => Promise<boolean | undefined>;
  readonly refreshSeconds: number;
  /** Unix milliseconds. */
  readonly now: () => number;
  readonly logger: Logger;
  /** Counts failed publishes. */
  readonly failures?: StatePublisherOptions<LifecycleState>['failures'];
}

export interface LifecyclePublisher {
  /** Publishes when the state changed or is due for a refresh; cheap otherwise. */
  tick(): Promise<void>;
  /** Publishes this state now and holds it (shutdown: draining, then gone). */
  announce(state: LifecycleState): Promise<void>;
  /** The last publish failure, while it lasts (shown in status and counted; not a readiness reason). */
  failing(): string[];
  status(): Record<string, unknown>;
}

/**
 * The least-privilege topology's sidecar side: this LB's lifecycle on Pub/Sub (`ready` while every
 * service's gate passes and its pod may serve, `draining` otherwise and on shutdown, `gone` at the
 * end), published on change and again every `refreshSeconds`, so a lost or reordered message is
 * repaired by the next one. The lifecycle function writes the routes; this process writes none.
 */
export function createLifecyclePublisher(options: LifecyclePublisherOptions): LifecyclePublisher {
  const log = options.logger.child({ component: 'gcp-lifecycle' });
  let messageId: string | undefined;
  const reports = createStatePublisher<LifecycleState>({
    what: 'lifecycle',
    where: options.topic.topic,
    async publish(state, at) {
      const instance = options.instance();
      if (instance === undefined)
        throw new TransientError('the instance of this node is not known yet (no gce:// providerID)');
      const message: GcpLifecycle = {
        kind: LIFECYCLE_KIND,
        version: 1,
        owner: options.owner,
        node: options.node,
        pod: options.pod,
        instance,
        state,
        at,
      };
      messageId = await options.topic.publish(message);
    },
    current: async () => {
      // Before the Node informer knows the instance there is nothing to say yet: not a failure
      // (the mode's readiness names the missing providerID).
      if (options.instance() === undefined) return undefined;
      const healthy = await options.healthy();
      return healthy === undefined ? undefined : healthy ? 'ready' : 'draining';
    },
    refreshSeconds: options.refreshSeconds,
    now: options.now,
    logger: log,
    failures: options.failures,
    onChange: (state) =>
      log.info(
        { event: 'lifecycle', state, instance: options.instance(), messageId },
        `published lifecycle ${state}`,
      ),
  });
  return {
    tick: reports.tick,
    announce: reports.announce,
    failing: reports.failing,
    status: () => ({
      lifecycle: reports.last()?.state,
      lifecycleAt: reports.last()?.at,
      topic: options.topic.topic,
    }),
  };
}
