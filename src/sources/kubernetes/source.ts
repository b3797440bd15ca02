import { CoreV1Api, type KubeConfig, type V1Node, type V1Pod } from '@kubernetes/client-node';
import type { DesiredRoute } from '../../core/model.js';
import type { Source } from '../../core/ports.js';
import { TransientError } from '../../errors.js';
import type { EventRecorder } from '../../kube/events.js';
import { createInformer, type Informer } from '../../kube/informer.js';
import type { KubeMetrics } from '../../kube/metrics.js';
import { type NodeView, nodeView, type PodView, podView } from '../../kube/objects.js';
import { pruneNode, prunePod } from '../../kube/prune.js';
import type { Logger } from '../../runtime/logger.js';
import type { LbAnnotations } from './annotations.js';
import { lifecycleToDesired } from './lifecycle.js';

export type TargetOf = (pod: PodView, node: NodeView) => string | undefined;

export interface KubernetesSourceOptions {
  readonly kubeConfig: KubeConfig;
  /** Where the LB pods live. */
  readonly namespace: string;
  readonly lbPodSelector: string;
  readonly services: readonly { readonly name: string; readonly vip: string }[];
  readonly targetOf: TargetOf;
  /** This LB pod, when only it is a candidate (BGP: each speaker announces itself). */
  readonly self?: { readonly namespace: string; readonly name: string } | undefined;
  /** With `self`: wait for the own pod's Ready condition too (see LifecycleInput). */
  readonly awaitOwnReady?: boolean | undefined;
  /** Watch only this Node (with `self`, nothing else is needed; less memory, fewer events). */
  readonly onlyNode?: string | undefined;
  /** Watch only the LB pods scheduled on this Node (`spec.nodeName`): the node agent's view. */
  readonly podsOnNode?: string | undefined;
  readonly relistMs: number;
  readonly logger: Logger;
  readonly metrics?: KubeMetrics | undefined;
  readonly recorder?: EventRecorder | undefined;
  /** Something changed: schedule a reconcile. */
  readonly onChange?: (reason: string) => void;
}

export interface KubernetesSource extends Source {
  /** From the informers' caches alone: no pass's observation is needed. */
  desired(): Promise<DesiredRoute[]>;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Every informer has listed once; before that `desired()` refuses (a transient error). */
  synced(): boolean;
  /** Reasons the API side is degraded; the last known state is still served. */
  degraded(): string[];
  pods(): PodView[];
  node(name: string): NodeView | undefined;
  status(): Record<string, unknown>;
}

/**
 * Desired routes from the LB pods' lifecycle: informers on the LB pods and their Nodes, the pure
 * `lifecycleToDesired`, and Events + log lines for refused annotations. While the API server is
 * unreachable the informers keep their caches, so routes stay as last known.
 */
export function createKubernetesSource(options: KubernetesSourceOptions): KubernetesSource {
  const core = options.kubeConfig.makeApiClient(CoreV1Api);
  const log = options.logger.child({ component: 'kubernetes-source' });
  const { namespace, lbPodSelector } = options;
  const onChange = (resource: string) => options.onChange?.(`kubernetes ${resource} changed`);
  const nodeSelector = options.onlyNode ? `metadata.name=${options.onlyNode}` : undefined;
  const podSelector = options.podsOnNode ? `spec.nodeName=${options.podsOnNode}` : undefined;
  const pods: Informer<V1Pod> = createInformer<V1Pod>({
    resource: 'lb-pods',
    kubeConfig: options.kubeConfig,
    path: `/api/v1/namespaces/${namespace}/pods`,
    list: () =>
      core.listNamespacedPod({ namespace, labelSelector: lbPodSelector, fieldSelector: podSelector }),
    prune: prunePod,
    labelSelector: lbPodSelector,
    fieldSelector: podSelector,
    relistMs: options.relistMs,
    logger: options.logger,
    metrics: options.metrics,
    onChange,
  });
  const nodes: Informer<V1Node> = createInformer<V1Node>({
    resource: 'nodes',
    kubeConfig: options.kubeConfig,
    path: '/api/v1/nodes',
    list: () => core.listNode(nodeSelector ? { fieldSelector: nodeSelector } : {}),
    prune: pruneNode,
    fieldSelector: nodeSelector,
    relistMs: options.relistMs,
    logger: options.logger,
    metrics: options.metrics,
    onChange,
  });
  const informers = [pods, nodes];
  let lastGood = new Map<string, LbAnnotations>();
  /** What was last reported per pod uid, so a refusal is logged once per distinct bad value. */
  const reported = new Map<string, string>();

  const nodeMap = () => new Map(nodes.list().map((n) => [n.metadata?.name ?? '', nodeView(n)]));

  return {
    async desired(): Promise<DesiredRoute[]> {
      const waiting = [pods.synced() ? [] : ['lb-pods'], nodes.synced() ? [] : ['nodes']].flat();
      if (waiting.length > 0) {
        // An empty answer would withdraw everything: refuse until the caches mean something.
        throw new TransientError(`kubernetes informers not synced yet: ${waiting.join(', ')}`);
      }
      const result = lifecycleToDesired({
        services: options.services,
        pods: pods.list().map(podView),
        nodes: nodeMap(),
        targetOf: options.targetOf,
        self: options.self,
        awaitOwnReady: options.awaitOwnReady,
        lastGood,
      });
      lastGood = result.accepted;
      const stillRefused = new Set<string>();
      for (const refusal of result.refused) {
        const { pod, problems, keptPrevious } = refusal;
        stillRefused.add(pod.uid);
        const text = problems.map((p) => `${p.path}: ${p.message}`).join('; ');
        if (reported.get(pod.uid) === text) continue;
        reported.set(pod.uid, text);
        const outcome = keptPrevious ? 'previous value kept, routes unchanged' : 'pod not used';
        log.warn(
          { event: 'refused', pod: `${pod.namespace}/${pod.name}`, field: problems[0]?.path, problems: text },
          `malformed annotation on LB pod ${pod.name}: ${text} (${outcome})`,
        );
        options.recorder?.record({
          regarding: { namespace: pod.namespace, name: pod.name, uid: pod.uid },
          type: 'Warning',
          reason: 'Refused',
          action: 'Refuse',
          note: `malformed annotation ${text}; ${outcome}`,
        });
      }
      for (const uid of reported.keys()) if (!stillRefused.has(uid)) reported.delete(uid);
      for (const warning of result.warnings) log.warn({ event: 'lifecycle_warning' }, warning);
      return result.routes;
    },
    async start() {
      await Promise.all(informers.map((i) => i.start()));
      log.info(
        { event: 'started', namespace, selector: lbPodSelector, synced: informers.every((i) => i.synced()) },
        'kubernetes source started',
      );
    },
    async stop() {
      await Promise.all(informers.map((i) => i.stop()));
    },
    synced: () => informers.every((i) => i.synced()),
    degraded() {
      const named: [string, Informer<unknown>][] = [
        ['lb-pods', pods],
        ['nodes', nodes],
      ];
      return named
        .filter(([, i]) => !i.up())
        .map(([n, i]) => `kubernetes ${n}: ${i.lastError() ?? 'not synced'} (serving last known state)`);
    },
    pods: () => pods.list().map(podView),
    node(name) {
      const found = nodes.list().find((n) => n.metadata?.name === name);
      return found ? nodeView(found) : undefined;
    },
    status: () => ({
      kubernetes: {
        lbPods: pods.list().length,
        nodes: nodes.list().length,
        apiUp: informers.every((i) => i.up()),
      },
    }),
  };
}
