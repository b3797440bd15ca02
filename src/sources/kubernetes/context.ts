import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Config } from '../../config/load.js';
import type { Change } from '../../core/model.js';
import { ConfigError } from '../../errors.js';
import { loadKubeConfig } from '../../kube/client.js';
import { createEventRecorder, type EventRecorder, nullRecorder, type PodRef } from '../../kube/events.js';
import { createLeaseElector } from '../../kube/lease.js';
import { kubeMetrics } from '../../kube/metrics.js';
import type { NodeView } from '../../kube/objects.js';
import type { ModeDescriptor } from '../../modes/types.js';
import type { LeaderElector } from '../../runtime/leader.js';
import type { Logger } from '../../runtime/logger.js';
import type { Metrics } from '../../runtime/metrics.js';
import { type BackendSource, selectBackends } from '../backends.js';
import { createEndpointSliceBackends } from './backends.js';
import { createKubernetesSource, type KubernetesSource, type TargetOf } from './source.js';

/** What the sidecar and the modes take from Kubernetes: desired state, backends, a Lease, Events. */
export interface KubernetesContext {
  readonly source: KubernetesSource;
  readonly backends: BackendSource;
  /** Present for modes with one writer (`writers: leader`). */
  readonly elector?: LeaderElector | undefined;
  readonly recorder: EventRecorder;
  /** This LB pod, from the Downward API. */
  readonly self?: PodRef | undefined;
  ownNode(): NodeView | undefined;
  /**
   * Any Node's `spec.providerID` (the informer watches only this pod's own Node in `self` scope):
   * one `get` per Node, remembered once set (a providerID never changes). Throws when it cannot tell.
   */
  providerIdOf(nodeName: string): Promise<string | undefined>;
  start(): Promise<void>;
  /** Releases the Lease (the next leader takes over at once), flushes Events, stops informers. */
  stop(): Promise<void>;
  notReady(): string[];
  status(): Record<string, unknown>;
  /** Tells the story on the LB pod: announced, withdrawn, programmed, failover, failed. */
  recordChanges(applied: readonly Change[], failed: readonly { change: Change; error: string }[]): void;
}

export interface KubernetesContextDeps {
  readonly config: Config;
  readonly mode: ModeDescriptor;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly trigger: (reason: string) => void;
  /** Tests and the bench pass one; otherwise `kubernetes.kubeconfig` or the in-cluster account. */
  readonly kubeConfig?: KubeConfig;
  readonly targetOf?: TargetOf;
}

/** The Node's `spec.providerID`, for `mode: auto` before any mode runs. */
export async function readProviderId(
  kubeconfig: string | undefined,
  nodeName: string,
): Promise<string | undefined> {
  const node = await loadKubeConfig(kubeconfig).makeApiClient(CoreV1Api).readNode({ name: nodeName });
  return node.spec?.providerID;
}

/**
 * Each service's backends from where its config says: its static list, or the ready endpoints of
 * its Kubernetes Service's EndpointSlices (the sidecar's health probes and the data plane read these).
 */
export function serviceBackends(options: {
  readonly config: Pick<Config, 'services'>;
  readonly kubeConfig: KubeConfig;
  /** Where a service reference without a namespace looks. */
  readonly namespace: string;
  readonly relistMs: number;
  readonly logger: Logger;
  readonly metrics: ReturnType<typeof kubeMetrics>;
}): BackendSource {
  const { config, namespace } = options;
  const refs = config.services.flatMap((s) =>
    'kubernetes' in s.backends
      ? [{ ...s.backends.kubernetes, name: s.name, namespace: s.backends.kubernetes.namespace ?? namespace }]
      : [],
  );
  return selectBackends(
    config,
    refs.length > 0
      ? createEndpointSliceBackends({
          kubeConfig: options.kubeConfig,
          services: refs,
          relistMs: options.relistMs,
          logger: options.logger,
          metrics: options.metrics,
        })
      : undefined,
  );
}

export function createKubernetesContext(deps: KubernetesContextDeps): KubernetesContext {
  const { config, mode, logger } = deps;
  const k = config.kubernetes;
  if (k === undefined) throw new ConfigError('the kubernetes section is missing');
  const kubeConfig = deps.kubeConfig ?? loadKubeConfig(k.kubeconfig);
  const namespace = k.namespace ?? config.identity.podNamespace;
  if (namespace === undefined) {
    throw new ConfigError('kubernetes.namespace is not set and POD_NAMESPACE is not in the environment');
  }
  const { podName, nodeName } = config.identity;
  const self: PodRef | undefined = podName
    ? { namespace: config.identity.podNamespace ?? namespace, name: podName }
    : undefined;
  const scope = k.candidates ?? mode.candidates;
  if (scope === 'self' && self === undefined) {
    throw new ConfigError(
      'kubernetes.candidates is "self" but POD_NAME is not in the environment (Downward API)',
    );
  }
  const metrics = kubeMetrics(deps.metrics.registry);
  const relistMs = k.resyncSeconds * 1000;
  const recorder =
    k.events.enabled && self
      ? createEventRecorder({
          kubeConfig,
          controller: 'portlb.io/sidecar',
          instance: self.name,
          logger,
          metrics,
        })
      : nullRecorder();
  const source = createKubernetesSource({
    kubeConfig,
    namespace,
    lbPodSelector: k.lbPodSelector,
    services: config.services,
    targetOf: deps.targetOf ?? mode.targetOf,
    self: scope === 'self' ? self : undefined,
    awaitOwnReady: scope === 'self' && mode.awaitOwnReady(config),
    onlyNode: scope === 'self' ? nodeName : undefined,
    relistMs,
    logger,
    metrics,
    recorder,
    onChange: deps.trigger,
  });
  const backends = serviceBackends({ config, kubeConfig, namespace, relistMs, logger, metrics });
  backends.onChange((service) => deps.trigger(`backends of ${service} changed`));
  const elector =
    mode.writers === 'leader'
      ? createLeaseElector({
          kubeConfig,
          namespace,
          name: k.lease.name ?? `${config.owner}-leader`,
          identity: podName ?? `${nodeName ?? 'unknown'}-${process.pid}`,
          leaseDurationMs: k.lease.durationSeconds * 1000,
          renewDeadlineMs: k.lease.renewSeconds * 1000,
          retryPeriodMs: k.lease.retrySeconds * 1000,
          logger,
          metrics,
        })
      : undefined;
  elector?.onChange((leading) => {
    deps.trigger(leading ? 'became leader' : 'lost leadership');
    if (self && leading) {
      recorder.record({
        regarding: self,
        type: 'Normal',
        reason: 'Leading',
        action: 'Elect',
        note: 'holds the leader Lease',
      });
    }
  });

  const providerIds = new Map<string, string>();
  const core = kubeConfig.makeApiClient(CoreV1Api);

  return {
    source,
    backends,
    elector,
    recorder,
    self,
    ownNode: () => (nodeName ? source.node(nodeName) : undefined),
    async providerIdOf(name) {
      const known = providerIds.get(name) ?? source.node(name)?.providerId;
      if (known !== undefined) return known;
      const read = (await core.readNode({ name })).spec?.providerID;
      if (read !== undefined) providerIds.set(name, read);
      return read;
    },
    async start() {
      await source.start();
      await backends.start?.();
      await elector?.start();
    },
    async stop() {
      await elector?.stop({ release: true });
      await recorder.close();
      await backends.stop?.();
      await source.stop();
    },
    notReady: () => (source.synced() ? [] : ['kubernetes informers not synced yet']),
    status: () => ({
      ...source.status(),
      ...(elector && { leader: elector.holder(), leading: elector.isLeader() }),
      ...(source.degraded().length > 0 && { degraded: source.degraded() }),
    }),
    recordChanges(applied, failed) {
      if (self === undefined) return;
      for (const change of applied) {
        recorder.record({ regarding: self, type: 'Normal', ...mode.changeEvent(change) });
      }
      for (const { change, error } of failed) {
        recorder.record({
          regarding: self,
          type: 'Warning',
          reason: 'Failed',
          action: mode.changeEvent(change).action,
          note: `${change.kind} ${change.vip} -> ${change.target} failed: ${error}`,
        });
      }
    },
  };
}
