import type { V1Node, V1Pod } from '@kubernetes/client-node';

/*
 * Slim, plain views of the API objects portlb reads. Lists come back as client-node model objects
 * (timestamps as Date) and watch events as raw JSON (timestamps as strings), so everything
 * downstream reads these views, never the raw objects.
 */

export interface PodView {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly nodeName?: string | undefined;
  readonly podIp?: string | undefined;
  /** Every IP of the pod, the primary (`podIp`) first: two on a dual-stack cluster. */
  readonly podIps: readonly string[];
  readonly hostIp?: string | undefined;
  readonly phase?: string | undefined;
  /** The pod's Ready condition is True. */
  readonly ready: boolean;
  /** `metadata.deletionTimestamp` is set: the pod is going away. */
  readonly terminating: boolean;
  readonly annotations: Readonly<Record<string, string>>;
}

export interface NodeAddress {
  readonly type: string;
  readonly address: string;
}

export interface NodeView {
  readonly name: string;
  /** True/False from the Ready condition; undefined when the node reports none. */
  readonly ready: boolean | undefined;
  readonly readyReason?: string | undefined;
  readonly addresses: readonly NodeAddress[];
  readonly providerId?: string | undefined;
}

function podIpsOf(pod: V1Pod): string[] {
  const primary = pod.status?.podIP;
  const all = (pod.status?.podIPs ?? []).map((p) => p.ip).filter((ip) => ip !== undefined && ip !== '');
  if (primary === undefined || primary === '') return all;
  return [primary, ...all.filter((ip) => ip !== primary)];
}

export function podView(pod: V1Pod): PodView {
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
  return {
    namespace: pod.metadata?.namespace ?? '',
    name: pod.metadata?.name ?? '',
    uid: pod.metadata?.uid ?? '',
    nodeName: pod.spec?.nodeName,
    podIp: pod.status?.podIP,
    podIps: podIpsOf(pod),
    hostIp: pod.status?.hostIP,
    phase: pod.status?.phase,
    ready: ready?.status === 'True',
    terminating: pod.metadata?.deletionTimestamp != null,
    annotations: pod.metadata?.annotations ?? {},
  };
}

export function nodeView(node: V1Node): NodeView {
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  return {
    name: node.metadata?.name ?? '',
    ready: ready === undefined ? undefined : ready.status === 'True',
    readyReason: ready?.reason,
    addresses: (node.status?.addresses ?? []).map((a) => ({ type: a.type, address: a.address })),
    providerId: node.spec?.providerID,
  };
}

/** The node's address for a BGP next hop: InternalIP first, then ExternalIP. */
export function nodeAddress(node: NodeView, family?: 4 | 6): string | undefined {
  const fits = (a: NodeAddress) => family === undefined || a.address.includes(':') === (family === 6);
  return (
    node.addresses.find((a) => a.type === 'InternalIP' && fits(a))?.address ??
    node.addresses.find((a) => a.type === 'ExternalIP' && fits(a))?.address
  );
}
