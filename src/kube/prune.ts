import type {
  KubernetesObject,
  V1EndpointSlice,
  V1Node,
  V1ObjectMeta,
  V1Pod,
  V1Service,
} from '@kubernetes/client-node';

/*
 * What portlb keeps of each object it caches, applied to every listed and watched object before
 * the informer stores it (client-go calls these transform functions). A real pod carries its
 * whole spec, managedFields and status history; the sidecar reads a dozen fields of it, and with
 * a thousand LB pods and hundreds of EndpointSlices the difference is most of its memory.
 * Everything downstream reads the views in objects.ts, which only need what is kept here.
 */

export type Prune<T extends KubernetesObject> = (obj: T) => T;

/** Annotations portlb reads: its own prefix only. */
const OWN_ANNOTATION = 'portlb.io/';

function meta(
  m: V1ObjectMeta | undefined,
  keep: { annotations?: boolean; labels?: boolean } = {},
): V1ObjectMeta {
  const out: V1ObjectMeta = {};
  if (m === undefined) return out;
  if (m.name !== undefined) out.name = m.name;
  if (m.namespace !== undefined) out.namespace = m.namespace;
  if (m.uid !== undefined) out.uid = m.uid;
  if (m.resourceVersion !== undefined) out.resourceVersion = m.resourceVersion;
  if (m.deletionTimestamp != null) out.deletionTimestamp = m.deletionTimestamp;
  if (keep.labels && m.labels !== undefined) out.labels = m.labels;
  if (keep.annotations && m.annotations !== undefined) {
    const own = Object.entries(m.annotations).filter(([key]) => key.startsWith(OWN_ANNOTATION));
    if (own.length > 0) out.annotations = Object.fromEntries(own);
  }
  return out;
}

/** A Service or EndpointSlice port: name, number, protocol (its other fields are hints). */
function port<P extends { name?: string; port?: number; protocol?: string }>(p: P): P {
  return {
    ...(p.name !== undefined && { name: p.name }),
    ...(p.port !== undefined && { port: p.port }),
    ...(p.protocol !== undefined && { protocol: p.protocol }),
  } as P;
}

/** Name, uid, deletion, portlb.io annotations, node, pod IPs, host IP, phase and the Ready condition. */
export const prunePod: Prune<V1Pod> = (pod) => {
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
  return {
    metadata: meta(pod.metadata, { annotations: true }),
    ...(pod.spec?.nodeName !== undefined && { spec: { containers: [], nodeName: pod.spec.nodeName } }),
    status: {
      ...(pod.status?.podIP !== undefined && { podIP: pod.status.podIP }),
      // Dual-stack pods: one IP per family (the node agent routes each VIP over its family's).
      ...(pod.status?.podIPs !== undefined && { podIPs: pod.status.podIPs.map((p) => ({ ip: p.ip })) }),
      ...(pod.status?.hostIP !== undefined && { hostIP: pod.status.hostIP }),
      ...(pod.status?.phase !== undefined && { phase: pod.status.phase }),
      ...(ready && { conditions: [{ type: ready.type, status: ready.status }] }),
    },
  };
};

/** Name, providerID, addresses and the Ready condition (with its reason, for logs). */
export const pruneNode: Prune<V1Node> = (node) => {
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  return {
    metadata: meta(node.metadata),
    ...(node.spec?.providerID !== undefined && { spec: { providerID: node.spec.providerID } }),
    status: {
      ...(node.status?.addresses && {
        addresses: node.status.addresses.map((a) => ({ type: a.type, address: a.address })),
      }),
      ...(ready && {
        conditions: [
          { type: ready.type, status: ready.status, ...(ready.reason && { reason: ready.reason }) },
        ],
      }),
    },
  };
};

/** Endpoints (addresses, conditions, node) and ports. */
export const pruneEndpointSlice: Prune<V1EndpointSlice> = (slice) => ({
  metadata: meta(slice.metadata),
  addressType: slice.addressType,
  endpoints: (slice.endpoints ?? []).map((e) => ({
    addresses: e.addresses,
    ...(e.conditions && { conditions: e.conditions }),
    ...(e.nodeName !== undefined && { nodeName: e.nodeName }),
  })),
  ...(slice.ports && {
    ports: slice.ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol })),
  }),
});

/** The Service's ports. */
export const pruneService: Prune<V1Service> = (service) => ({
  metadata: meta(service.metadata),
  ...(service.spec?.ports && {
    spec: { ports: service.spec.ports.map(port) },
  }),
});
