import { addressFamily, prefix } from '../core/cidr.js';
import type { NodeView, PodView } from '../kube/objects.js';
import type { LbAnnotations } from '../sources/kubernetes/annotations.js';
import { lifecycleToDesired, type Refusal } from '../sources/kubernetes/lifecycle.js';

/*
 * What the node agent wants in its node's routing table: for each service VIP, an ECMP route over
 * the IPs of the healthy LB pods on this node. Pure: the agent hands in what its informers hold.
 * Which pod is healthy is the sidecar's own rule (lifecycleToDesired), so the two never disagree
 * about a pod: Ready, not terminating, not disabled, on a Ready node, serving the service.
 */

export interface NodeRoutesInput {
  readonly services: readonly { readonly name: string; readonly vip: string }[];
  /** The LB pods; only those scheduled on `nodeName` count. */
  readonly pods: readonly PodView[];
  readonly nodeName: string;
  /** This node as the API server sees it; undefined until it is known (every pod is then unhealthy). */
  readonly node: NodeView | undefined;
  /** Annotations that last parsed, by pod uid (see lifecycleToDesired). */
  readonly lastGood: ReadonlyMap<string, LbAnnotations>;
}

/** A VIP routed over these pods: `ip route replace VIP nexthop via IP ...`. */
export interface WantedRoute {
  readonly vip: string;
  readonly service: string;
  /** Pod IPs, sorted; never empty (a VIP without a healthy pod has no route). */
  readonly nexthops: readonly string[];
}

/** A pod that is not a next hop for a VIP, and why. */
export interface SkippedPod {
  readonly vip: string;
  readonly pod: string;
  readonly reason: string;
}

export interface NodeRoutesResult {
  readonly routes: WantedRoute[];
  /** VIPs with no healthy pod on this node: their route goes. */
  readonly unrouted: { readonly vip: string; readonly service: string }[];
  readonly skipped: SkippedPod[];
  readonly refused: Refusal[];
  /** The annotations in force, by pod uid (the next call's `lastGood`). */
  readonly accepted: Map<string, LbAnnotations>;
}

/** Why a pod cannot be a next hop at all, before its lifecycle is read. */
function unroutable(pod: PodView): string | undefined {
  if (pod.podIp === undefined || pod.podIp === '') return `pod ${pod.name} has no IP yet`;
  if (addressFamily(pod.podIp) === undefined) return `pod ${pod.name} has an invalid IP "${pod.podIp}"`;
  // A host-network pod has the node's own address: the VIP traffic is already where it listens.
  if (pod.hostIp !== undefined && pod.podIp === pod.hostIp) {
    return `pod ${pod.name} uses the host network (its IP is the node's), no route needed`;
  }
  return undefined;
}

/** The canonical text of an address, as `ip -json route` prints it (compressed IPv6). */
export function canonicalAddress(address: string): string {
  return prefix(`${address}/${address.includes(':') ? 128 : 32}`).text.replace(/\/\d+$/, '');
}

export function nodeRoutes(input: NodeRoutesInput): NodeRoutesResult {
  const local = input.pods.filter((p) => p.nodeName === input.nodeName);
  const blocked = local.flatMap((pod) => {
    const reason = unroutable(pod);
    return reason === undefined ? [] : [{ pod, reason }];
  });
  const routable = local.filter((pod) => !blocked.some((b) => b.pod === pod));
  const byIp = new Map(routable.map((pod) => [canonicalAddress(pod.podIp ?? ''), pod]));
  const lifecycle = lifecycleToDesired({
    services: input.services,
    pods: routable,
    nodes: new Map(input.node ? [[input.nodeName, input.node]] : []),
    targetOf: (pod) => canonicalAddress(pod.podIp ?? ''),
    lastGood: input.lastGood,
  });
  // A pod left out before the lifecycle keeps its annotations for when it gets an IP.
  const accepted = new Map(lifecycle.accepted);
  for (const { pod } of blocked) {
    const previous = input.lastGood.get(pod.uid);
    if (previous !== undefined) accepted.set(pod.uid, previous);
  }

  const routes: WantedRoute[] = [];
  const unrouted: { vip: string; service: string }[] = [];
  const skipped: SkippedPod[] = [];
  for (const desired of lifecycle.routes) {
    const { vip, service } = desired;
    const family = prefix(vip).family;
    const nexthops: string[] = [];
    for (const candidate of desired.candidates) {
      const pod = byIp.get(candidate.target);
      const name = pod?.name ?? candidate.target;
      if (!candidate.healthy) {
        skipped.push({ vip, pod: name, reason: candidate.reason ?? 'unhealthy' });
      } else if (addressFamily(candidate.target) !== family) {
        skipped.push({ vip, pod: name, reason: `pod ${name} has no IPv${family} address for ${vip}` });
      } else nexthops.push(candidate.target);
    }
    for (const { pod, reason } of blocked) skipped.push({ vip, pod: pod.name, reason });
    if (nexthops.length > 0) routes.push({ vip, service, nexthops: nexthops.sort() });
    else unrouted.push({ vip, service });
  }
  return { routes, unrouted, skipped, refused: lifecycle.refused, accepted };
}
