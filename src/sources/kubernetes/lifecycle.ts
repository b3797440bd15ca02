import type { Candidate, DesiredRoute } from '../../core/model.js';
import type { Problem } from '../../errors.js';
import type { NodeView, PodView } from '../../kube/objects.js';
import { type LbAnnotations, parseAnnotations } from './annotations.js';

/*
 * The LB pods' lifecycle as desired routes. Pure: the source hands in what its informers hold and
 * gets back routes plus what it refused, with reasons; no clock, no I/O.
 */

export interface LifecycleInput {
  readonly services: readonly { readonly name: string; readonly vip: string }[];
  readonly pods: readonly PodView[];
  readonly nodes: ReadonlyMap<string, NodeView>;
  /** The provider's target id for a pod on a node (node IP, instance URL, ...); undefined when unknown. */
  readonly targetOf: (pod: PodView, node: NodeView) => string | undefined;
  /**
   * Only this pod is a candidate (each BGP speaker announces itself); every LB pod when absent.
   * With `self`, the pod's own Ready condition is not read unless `awaitOwnReady` says so.
   */
  readonly self?: { readonly namespace: string; readonly name: string } | undefined;
  /**
   * With `self`: a candidate only once the own pod is Ready too. BGP with the node as next hop
   * needs it: the router then sends the VIP to the node, and the node agent routes it on to the
   * pod only once the pod is Ready. Announcing on health alone would blackhole the flows the
   * router hashes to this node until then (up to a readiness probe period).
   */
  readonly awaitOwnReady?: boolean | undefined;
  /** Annotations that last parsed, by pod uid: a malformed edit keeps them, so no route changes. */
  readonly lastGood: ReadonlyMap<string, LbAnnotations>;
}

/** A pod whose annotations were refused: the source turns it into an Event and a log line. */
export interface Refusal {
  readonly pod: PodView;
  readonly problems: readonly Problem[];
  /** True when the pod's last good annotations still apply (its routes are unchanged). */
  readonly keptPrevious: boolean;
}

export interface LifecycleResult {
  readonly routes: DesiredRoute[];
  readonly refused: Refusal[];
  /** The annotations in force, by pod uid (the next call's `lastGood`). */
  readonly accepted: Map<string, LbAnnotations>;
  /** Things an operator should know that are no single pod's fault. */
  readonly warnings: string[];
}

interface PodVerdict {
  readonly target: string;
  readonly rank: string;
  readonly healthy: boolean;
  readonly reason?: string;
  readonly services?: readonly string[] | undefined;
}

/** Why a pod cannot carry traffic now, or undefined when it can. Order: the most specific first. */
function unhealthyReason(
  pod: PodView,
  node: NodeView | undefined,
  annotations: LbAnnotations,
  readiness: 'read' | 'own-ignored' | 'own-awaited',
): string | undefined {
  if (pod.terminating) return `pod ${pod.name} is terminating`;
  if (pod.phase === 'Succeeded' || pod.phase === 'Failed') return `pod ${pod.name} is ${pod.phase}`;
  if (annotations.disabled) return `pod ${pod.name} is disabled by annotation portlb.io/disabled`;
  if (node === undefined) return `node ${pod.nodeName} of pod ${pod.name} is unknown`;
  if (node.ready !== true) {
    const why = node.ready === undefined ? 'reports no Ready condition' : 'is NotReady';
    return `node ${node.name} ${why}${node.readyReason ? ` (${node.readyReason})` : ''}`;
  }
  // The own pod's Ready condition includes this sidecar's /readyz (exabgp up, a session up, health
  // passing; never the announcement itself, so awaiting it cannot deadlock). Without a node agent
  // in the path the health gate alone decides, and announcing does not wait a probe period.
  if (!pod.ready && readiness === 'read') return `pod ${pod.name} is not Ready`;
  if (!pod.ready && readiness === 'own-awaited')
    return `pod ${pod.name} is not Ready yet (the node agent routes to it once it is)`;
  return undefined;
}

function verdict(pod: PodView, input: LifecycleInput, annotations: LbAnnotations): PodVerdict | undefined {
  const nodeName = pod.nodeName;
  if (nodeName === undefined || nodeName === '') return undefined; // not scheduled: nowhere to route
  const node = input.nodes.get(nodeName);
  const target = node ? input.targetOf(pod, node) : undefined;
  const rank = annotations.rank ?? nodeName;
  const readiness = input.self === undefined ? 'read' : input.awaitOwnReady ? 'own-awaited' : 'own-ignored';
  const why = unhealthyReason(pod, node, annotations, readiness);
  if (target === undefined) {
    return {
      target: `${nodeName}:no-target`,
      rank,
      healthy: false,
      reason: why ?? `no target id for node ${nodeName} (address or providerID missing)`,
      services: annotations.services,
    };
  }
  return {
    target,
    rank,
    healthy: why === undefined,
    ...(why && { reason: why }),
    services: annotations.services,
  };
}

/**
 * Several LB pods can share a node, so they share its target: the node carries traffic while any
 * of them is healthy (the node agent spreads it over the healthy ones).
 */
function mergeByTarget(verdicts: readonly PodVerdict[]): Candidate[] {
  const byTarget = new Map<string, PodVerdict[]>();
  for (const v of verdicts) byTarget.set(v.target, [...(byTarget.get(v.target) ?? []), v]);
  const out: Candidate[] = [];
  for (const [target, group] of byTarget) {
    const healthy = group.filter((v) => v.healthy);
    const pick = healthy.length > 0 ? healthy : group;
    const rank = pick.map((v) => v.rank).sort()[0] ?? target;
    if (healthy.length > 0) out.push({ target, rank, healthy: true });
    else {
      const reason = [...new Set(group.map((v) => v.reason ?? 'unhealthy'))].join('; ');
      out.push({ target, rank, healthy: false, reason });
    }
  }
  return out;
}

export function lifecycleToDesired(input: LifecycleInput): LifecycleResult {
  const known = input.services.map((s) => s.name);
  const refused: Refusal[] = [];
  const accepted = new Map<string, LbAnnotations>();
  const warnings: string[] = [];
  const verdicts: PodVerdict[] = [];
  const self = input.self;
  const pods = self
    ? input.pods.filter((p) => p.namespace === self.namespace && p.name === self.name)
    : input.pods;
  if (self && pods.length === 0) {
    warnings.push(
      `own pod ${self.namespace}/${self.name} is not among the LB pods (check kubernetes.lbPodSelector)`,
    );
  }
  for (const pod of pods) {
    const parsed = parseAnnotations(pod.annotations, known);
    let annotations: LbAnnotations;
    if (parsed.ok) annotations = parsed.value;
    else {
      const previous = input.lastGood.get(pod.uid);
      refused.push({ pod, problems: parsed.problems, keptPrevious: previous !== undefined });
      if (previous === undefined) {
        // Never seen good: refuse the pod rather than guess what the operator meant.
        const field = parsed.problems[0]?.path ?? 'annotations';
        const nodeName = pod.nodeName ?? pod.name;
        verdicts.push({
          target: `${nodeName}:refused`,
          rank: nodeName,
          healthy: false,
          reason: `pod ${pod.name}: annotation ${field} is malformed`,
        });
        continue;
      }
      annotations = previous;
    }
    accepted.set(pod.uid, annotations);
    const v = verdict(pod, input, annotations);
    if (v) verdicts.push(v);
  }
  const routes = input.services.map((service) => ({
    vip: service.vip,
    service: service.name,
    candidates: mergeByTarget(
      verdicts.filter((v) => v.services === undefined || v.services.includes(service.name)),
    ),
  }));
  return { routes, refused, accepted, warnings };
}
