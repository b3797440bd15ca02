import { errorMessage, TransientError } from '../../errors.js';
import { type GcpLifecycle, LIFECYCLE_KIND } from '../../providers/gcp/lifecycle.js';
import { backoffDelay } from '../../runtime/backoff.js';
import type { Logger } from '../../runtime/logger.js';
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
}

export interface LifecyclePublisher {
  /** Publishes when the state changed or is due for a refresh; cheap otherwise. */
  tick(): Promise<void>;
  /** Publishes this state now and holds it (shutdown: draining, then gone). */
  announce(state: LifecycleState): Promise<void>;
  notReady(): string[];
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
  let held: LifecycleState | undefined;
  let last: { state: LifecycleState; at: number; messageId: string } | undefined;
  let failures = 0;
  let retryAt = 0;
  let lastError: string | undefined;

  async function attempt(state: LifecycleState): Promise<void> {
    try {
      const instance = options.instance();
      if (instance === undefined)
        throw new TransientError('the instance of this node is not known yet (no gce:// providerID)');
      const at = Math.floor(options.now());
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
      const messageId = await options.topic.publish(message);
      if (last?.state !== state) {
        log.info({ event: 'lifecycle', state, instance, messageId }, `published lifecycle ${state}`);
      }
      last = { state, at, messageId };
      failures = 0;
      lastError = undefined;
    } catch (error) {
      failures += 1;
      lastError = `publishing lifecycle ${state} to ${options.topic.topic} failed: ${errorMessage(error)}`;
      retryAt =
        options.now() +
        backoffDelay(failures, { minMs: 1000, maxMs: Math.min(options.refreshSeconds, 64) * 1000 });
      log.warn({ event: 'lifecycle_failed', state, err: errorMessage(error) }, lastError);
    }
  }

  return {
    async tick() {
      const now = options.now();
      if (now < retryAt) return;
      const healthy = held === undefined ? await options.healthy() : undefined;
      if (held === undefined && healthy === undefined) return;
      const state: LifecycleState = held ?? (healthy ? 'ready' : 'draining');
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
    status: () => ({ lifecycle: last?.state, lifecycleAt: last?.at, topic: options.topic.topic }),
  };
}
