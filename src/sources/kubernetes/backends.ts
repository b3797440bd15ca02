import {
  CoreV1Api,
  DiscoveryV1Api,
  type KubeConfig,
  type V1EndpointSlice,
  type V1Service,
} from '@kubernetes/client-node';
import { createInformer, type Informer } from '../../kube/informer.js';
import type { KubeMetrics } from '../../kube/metrics.js';
import { pruneEndpointSlice, pruneService } from '../../kube/prune.js';
import type { Logger } from '../../runtime/logger.js';
import type { Backend, BackendSource } from '../backends.js';

export interface KubernetesBackendRef {
  /** The configured service (portlb's name for it). */
  readonly name: string;
  readonly namespace: string;
  /** The backend Kubernetes Service. */
  readonly service: string;
  /** Which Service port: its number or name; the first one when absent. */
  readonly port?: number | string | undefined;
}

export interface EndpointSliceBackendsOptions {
  readonly kubeConfig: KubeConfig;
  readonly services: readonly KubernetesBackendRef[];
  readonly relistMs: number;
  readonly logger: Logger;
  readonly metrics?: KubeMetrics | undefined;
}

interface ServicePortRef {
  readonly name?: string | undefined;
  readonly port?: number | undefined;
}

/** The Service port the config selects (by number or name), else its first. */
function servicePort(service: V1Service | undefined, wanted: number | string | undefined): ServicePortRef {
  const ports = service?.spec?.ports ?? [];
  const found =
    wanted === undefined
      ? ports[0]
      : ports.find((p) => (typeof wanted === 'number' ? p.port === wanted : p.name === wanted));
  if (found) return { name: found.name, port: found.port };
  return typeof wanted === 'string' ? { name: wanted } : {};
}

/**
 * Ready endpoints only: `ready` unset means unknown and the API says to treat it as ready;
 * `terminating` ones leave the set before they go, so no new traffic reaches them.
 */
export function readyBackends(slices: readonly V1EndpointSlice[], port: ServicePortRef): Backend[] {
  const seen = new Map<string, Backend>();
  for (const slice of slices) {
    // EndpointSlice ports carry the Service port's name, and the target port number.
    const match = (slice.ports ?? []).find((p) => (p.name ?? '') === (port.name ?? ''));
    const number = match?.port ?? (slice.ports?.length === 1 ? slice.ports[0]?.port : undefined);
    if (number === undefined) continue;
    for (const endpoint of slice.endpoints ?? []) {
      const c = endpoint.conditions ?? {};
      if (c.ready === false || c.terminating === true) continue;
      for (const address of endpoint.addresses ?? []) {
        seen.set(`${address}:${number}`, {
          address,
          port: number,
          ...(port.name && { name: port.name }),
          ...(endpoint.nodeName && { nodeName: endpoint.nodeName }),
        });
      }
    }
  }
  return [...seen.values()].sort((a, b) =>
    a.address === b.address ? a.port - b.port : a.address < b.address ? -1 : 1,
  );
}

const fingerprint = (backends: readonly Backend[]) => backends.map((b) => `${b.address}:${b.port}`).join(',');

/** Backends from each configured Service's EndpointSlices (label `kubernetes.io/service-name`). */
export function createEndpointSliceBackends(options: EndpointSliceBackendsOptions): BackendSource {
  const discovery = options.kubeConfig.makeApiClient(DiscoveryV1Api);
  const core = options.kubeConfig.makeApiClient(CoreV1Api);
  const listeners = new Set<(service: string) => void>();
  const last = new Map<string, string>();
  const watched = new Map<string, { slices: Informer<V1EndpointSlice>; service: Informer<V1Service> }>();

  const compute = (ref: KubernetesBackendRef): Backend[] => {
    const w = watched.get(ref.name);
    if (w === undefined) return [];
    return readyBackends(w.slices.list(), servicePort(w.service.list()[0], ref.port));
  };

  const changed = (ref: KubernetesBackendRef) => () => {
    const now = fingerprint(compute(ref));
    if (last.get(ref.name) === now) return;
    last.set(ref.name, now);
    for (const listener of listeners) listener(ref.name);
  };

  for (const ref of options.services) {
    const { namespace } = ref;
    const selector = `kubernetes.io/service-name=${ref.service}`;
    const onChange = changed(ref);
    watched.set(ref.name, {
      slices: createInformer<V1EndpointSlice>({
        resource: 'endpointslices',
        kubeConfig: options.kubeConfig,
        path: `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices`,
        list: () => discovery.listNamespacedEndpointSlice({ namespace, labelSelector: selector }),
        prune: pruneEndpointSlice,
        labelSelector: selector,
        relistMs: options.relistMs,
        logger: options.logger,
        metrics: options.metrics,
        onChange,
      }),
      service: createInformer<V1Service>({
        resource: 'services',
        kubeConfig: options.kubeConfig,
        path: `/api/v1/namespaces/${namespace}/services`,
        list: () => core.listNamespacedService({ namespace, fieldSelector: `metadata.name=${ref.service}` }),
        prune: pruneService,
        fieldSelector: `metadata.name=${ref.service}`,
        relistMs: options.relistMs,
        logger: options.logger,
        metrics: options.metrics,
        onChange,
      }),
    });
  }
  const all = () => [...watched.values()].flatMap((w) => [w.slices, w.service]);

  return {
    backends(name) {
      const ref = options.services.find((s) => s.name === name);
      return ref ? compute(ref) : [];
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async start() {
      await Promise.all(all().map((i) => i.start()));
    },
    async stop() {
      await Promise.all(all().map((i) => i.stop()));
    },
  };
}
