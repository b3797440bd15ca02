import { addressFamily, prefix } from '../core/cidr.js';
import type { Candidate } from '../core/model.js';
import type { NodeView, PodView } from '../kube/objects.js';
import type { LbAnnotations } from '../sources/kubernetes/annotations.js';
import { lifecycleToDesired, type Refusal } from '../sources/kubernetes/lifecycle.js';

/*
 * What the node agent wants in its node's routing table: for each service VIP, an ECMP route over
 * the IPs of the healthy LB pods on this node. Pure: the agent hands in what its informers hold.
 * Which pod is healthy is the sidecar's own rule (lifecycleToDesired), so the two never disagree
 * about a pod: Ready, not terminating, not disabled, on a Ready node, serving the service.
 *
 * One exception, for the drain: a terminating pod that is otherwise healthy (still Ready) stays a
 * next hop of a VIP while no healthy pod on the node serves it. Its sidecar withdraws the node at
 * SIGTERM, but the router keeps sending for a moment and open connections are still draining;
 * without the route the node would forward that traffic by its default route, often back to the
 * router. It goes once it stops being Ready or its object is gone.
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
  /** Pod IPs, sorted; never empty (a VIP without one is in `unrouted`). */
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
  /** VIPs with no healthy pod on this node: an owned route becomes a blackhole (see diffRoutes). */
  readonly unrouted: { readonly vip: string; readonly service: string }[];
  readonly skipped: SkippedPod[];
  /** Terminating pods kept as a VIP's last next hops on this node, with why. */
  readonly draining: SkippedPod[];
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
  /** A pod by any of its IPs (a next hop may be a dual-stack pod's secondary one). */
  const podOf = (ip: string) =>
    byIp.get(ip) ??
    routable.find((pod) =>
      pod.podIps.some((a) => addressFamily(a) !== undefined && canonicalAddress(a) === ip),
    );
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

  // The terminating pods as if they were not: those that come out healthy may drain (see above).
  const terminating = routable.filter((pod) => pod.terminating);
  const drainable =
    terminating.length === 0
      ? undefined
      : lifecycleToDesired({
          services: input.services,
          pods: terminating.map((pod) => ({ ...pod, terminating: false })),
          nodes: new Map(input.node ? [[input.nodeName, input.node]] : []),
          targetOf: (pod) => canonicalAddress(pod.podIp ?? ''),
          lastGood: input.lastGood,
        });

  const routes: WantedRoute[] = [];
  const unrouted: { vip: string; service: string }[] = [];
  const skipped: SkippedPod[] = [];
  const draining: SkippedPod[] = [];
  lifecycle.routes.forEach((desired, index) => {
    const { vip, service } = desired;
    const family = prefix(vip).family;
    // The lifecycle's targets are primary pod IPs; a dual-stack pod serves the other family's VIPs
    // through its IP of that family.
    const ipFor = (target: string): string | undefined => {
      if (addressFamily(target) === family) return target;
      const other = byIp.get(target)?.podIps.find((ip) => addressFamily(ip) === family);
      return other === undefined ? undefined : canonicalAddress(other);
    };
    const usable = (candidates: readonly Candidate[]) => {
      const hops: string[] = [];
      const left: SkippedPod[] = [];
      for (const candidate of candidates) {
        const name = byIp.get(candidate.target)?.name ?? candidate.target;
        const ip = ipFor(candidate.target);
        if (!candidate.healthy) left.push({ vip, pod: name, reason: candidate.reason ?? 'unhealthy' });
        else if (ip === undefined) {
          left.push({ vip, pod: name, reason: `pod ${name} has no IPv${family} address for ${vip}` });
        } else hops.push(ip);
      }
      return { hops, left };
    };
    let { hops: nexthops, left } = usable(desired.candidates);
    if (nexthops.length === 0 && drainable !== undefined) {
      const last = usable(drainable.routes[index]?.candidates ?? []).hops;
      const names = new Set(last.map((ip) => podOf(ip)?.name ?? ip));
      nexthops = last;
      left = left.filter((s) => !names.has(s.pod));
      for (const pod of names) {
        draining.push({
          vip,
          pod,
          reason: `pod ${pod} is terminating but still Ready, and no other LB pod on this node serves ${service}: it stays a next hop until it is not Ready`,
        });
      }
    }
    skipped.push(...left);
    for (const { pod, reason } of blocked) skipped.push({ vip, pod: pod.name, reason });
    if (nexthops.length > 0) routes.push({ vip, service, nexthops: nexthops.sort() });
    else unrouted.push({ vip, service });
  });
  return { routes, unrouted, skipped, draining, refused: lifecycle.refused, accepted };
}
