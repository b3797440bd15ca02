import { Counter, Gauge, type Registry } from 'prom-client';

function create(registry: Registry) {
  const registers = [registry];
  return {
    apiUp: new Gauge({
      name: 'portlb_kube_api_up',
      help: '1 while the last list/watch of a resource worked; 0 while the API server is unreachable (state is kept).',
      labelNames: ['resource'] as const,
      registers,
    }),
    lastSync: new Gauge({
      name: 'portlb_kube_last_sync_timestamp_seconds',
      help: 'Unix time of the last full list of a resource.',
      labelNames: ['resource'] as const,
      registers,
    }),
    restarts: new Counter({
      name: 'portlb_kube_informer_restarts_total',
      help: 'Informer restarts, by resource and reason (error, relist).',
      labelNames: ['resource', 'reason'] as const,
      registers,
    }),
    objects: new Gauge({
      name: 'portlb_kube_cached_objects',
      help: 'Objects held in an informer cache.',
      labelNames: ['resource'] as const,
      registers,
    }),
    leader: new Gauge({
      name: 'portlb_leader',
      help: '1 while this process holds the leader Lease.',
      labelNames: ['lease'] as const,
      registers,
    }),
    leaseTransitions: new Counter({
      name: 'portlb_leader_transitions_total',
      help: 'Times this process gained or lost the leader Lease.',
      labelNames: ['lease', 'leading'] as const,
      registers,
    }),
    events: new Counter({
      name: 'portlb_kube_events_total',
      help: 'Kubernetes Events by reason and result (created, aggregated, dropped, error).',
      labelNames: ['reason', 'result'] as const,
      registers,
    }),
  };
}

export type KubeMetrics = ReturnType<typeof create>;

const byRegistry = new WeakMap<Registry, KubeMetrics>();

/** The Kubernetes metrics on a registry; the source, elector and recorder share one set per process. */
export function kubeMetrics(registry: Registry): KubeMetrics {
  let metrics = byRegistry.get(registry);
  if (metrics === undefined) {
    metrics = create(registry);
    byRegistry.set(registry, metrics);
  }
  return metrics;
}
