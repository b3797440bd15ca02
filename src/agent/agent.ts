import type { KubeConfig } from '@kubernetes/client-node';
import { Gauge } from 'prom-client';
import type { Config } from '../config/load.js';
import type { KubernetesConfig } from '../config/schema.js';
import { isAddress } from '../core/cidr.js';
import { ConfigError, isTransient, TransientError } from '../errors.js';
import { createEventRecorder, type EventRecorder, nullRecorder, type PodRef } from '../kube/events.js';
import { kubeMetrics } from '../kube/metrics.js';
import { backoffDelay } from '../runtime/backoff.js';
import { createController, type PassPlan, type Pipeline } from '../runtime/controller.js';
import type { Logger } from '../runtime/logger.js';
import type { Metrics } from '../runtime/metrics.js';
import type { LbAnnotations } from '../sources/kubernetes/annotations.js';
import { createKubernetesSource } from '../sources/kubernetes/source.js';
import { diffRoutes, holdBlackholes, type OwnedRoute, type RouteChange } from './diff.js';
import { changeEvents } from './events.js';
import type { RouteTable } from './iproute.js';
import { canonicalAddress, nodeRoutes, type SkippedPod, type WantedRoute } from './routes.js';

export interface NodeAgentDeps {
  readonly config: Config;
  readonly nodeName: string;
  readonly kubeConfig: KubeConfig;
  readonly table: RouteTable;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Something changed: schedule a reconcile. */
  readonly trigger: (reason: string) => void;
  /** The clock for blackhole hold-downs (ms). */
  readonly now?: () => number;
}

export interface AgentOutcome {
  readonly wanted: readonly WantedRoute[];
  readonly applied: readonly RouteChange[];
  readonly failed: readonly { change: RouteChange; error: string }[];
  /** Some failure may pass by itself (a pod IP the CNI has not routed yet): worth retrying soon. */
  readonly retry: boolean;
}

/** One pass's plan: the changes, and what the agent reports from it. */
interface AgentPlan extends PassPlan<RouteChange> {
  readonly skipped: readonly SkippedPod[];
  readonly routes: readonly WantedRoute[];
  readonly draining: readonly SkippedPod[];
  /** Configured VIPs with no next hop on this node that keep their route as a blackhole. */
  readonly unrouted: readonly string[];
  readonly owned: readonly OwnedRoute[];
}

export interface NodeAgent {
  readonly recorder: EventRecorder;
  start(): Promise<void>;
  /** Stops informers and flushes Events. Routes stay: the data plane keeps forwarding. */
  stop(): Promise<void>;
  /** One level-triggered pass: what the LB pods want, what `ip` shows, the diff, applied. */
  reconcile(why: string): Promise<AgentOutcome>;
  /**
   * The pass the process runs: a reconcile that schedules its own retry of failed routes (so one
   * stuck VIP does not hold the others) and returns what failed, if anything.
   */
  pass(why: string): Promise<string | undefined>;
  notReady(): string[];
  status(): Record<string, unknown>;
}

const nexthopGauges = new WeakMap<Metrics, Gauge<'vip'>>();

function nexthopGauge(metrics: Metrics): Gauge<'vip'> {
  let gauge = nexthopGauges.get(metrics);
  if (gauge === undefined) {
    gauge = new Gauge({
      name: 'portlb_node_route_nexthops',
      help: 'LB pod IPs the node routes a VIP to (0: none, no route or a blackhole).',
      labelNames: ['vip'] as const,
      registers: [metrics.registry],
    });
    nexthopGauges.set(metrics, gauge);
  }
  return gauge;
}

/** The kubernetes section the agent needs, with the LB pods' namespace named; else a ConfigError. */
export function agentKubernetes(config: Config): KubernetesConfig & { namespace: string } {
  const k = config.kubernetes;
  if (k === undefined) throw new ConfigError('the node agent needs a kubernetes section (lbPodSelector)');
  const { namespace } = k;
  if (namespace === undefined) {
    throw new ConfigError("the node agent needs the LB pods' namespace", [
      {
        path: 'kubernetes.namespace',
        message: 'not set: the agent runs in a namespace of its own, so name theirs',
      },
    ]);
  }
  return { ...k, namespace };
}

/**
 * The node agent: the LB pods on this node (informers selected by `spec.nodeName`) and the node
 * itself, turned into `VIP -> pod IPs` ECMP routes in this node's table. Until the informers have
 * listed once it changes nothing: an empty cache would delete every route.
 */
export function createNodeAgent(deps: NodeAgentDeps): NodeAgent {
  const { config, nodeName, table, logger, metrics } = deps;
  const k = agentKubernetes(config);
  const log = logger.child({ component: 'node-agent', node: nodeName });
  const kube = kubeMetrics(metrics.registry);
  const nexthops = nexthopGauge(metrics);
  const recorder = k.events.enabled
    ? createEventRecorder({
        kubeConfig: deps.kubeConfig,
        controller: 'portlb.io/node-agent',
        instance: nodeName,
        logger,
        metrics: kube,
      })
    : nullRecorder();
  // Only the informers are used: the routes come from nodeRoutes, not the source's desired().
  const source = createKubernetesSource({
    kubeConfig: deps.kubeConfig,
    namespace: k.namespace,
    lbPodSelector: k.lbPodSelector,
    services: config.services,
    targetOf: (pod) => pod.podIp,
    onlyNode: nodeName,
    podsOnNode: nodeName,
    relistMs: k.resyncSeconds * 1000,
    logger,
    metrics: kube,
    onChange: deps.trigger,
  });
  let lastGood = new Map<string, LbAnnotations>();
  let lastPods = new Map<string, PodRef>();
  let wantedNow: readonly WantedRoute[] = [];
  /** This pass's left-alone pods and who has which IP, for the Events of its changes. */
  let skippedNow: readonly SkippedPod[] = [];
  let podByIp = new Map<string, PodRef>();
  let drainingNow: readonly SkippedPod[] = [];
  let blackholedNow: readonly string[] = [];
  const now = deps.now ?? Date.now;
  const holdMs = config.nodeAgent.blackholeSeconds * 1000;
  /** When each held VIP became a blackhole, and the pass that ends the earliest hold. */
  const blackholeSince = new Map<string, number>();
  let holdTimer: NodeJS.Timeout | undefined;
  let stopped = false;
  const reported = new Map<string, string>();

  const reportRefusals = (refused: ReturnType<typeof nodeRoutes>['refused']) => {
    const still = new Set<string>();
    for (const { pod, problems, keptPrevious } of refused) {
      still.add(pod.uid);
      const text = problems.map((p) => `${p.path}: ${p.message}`).join('; ');
      if (reported.get(pod.uid) === text) continue;
      reported.set(pod.uid, text);
      // The sidecars record the Refused Event; the agent only says what it did about it.
      log.warn(
        { event: 'refused', pod: `${pod.namespace}/${pod.name}`, field: problems[0]?.path, keptPrevious },
        `malformed annotation on LB pod ${pod.name}: ${text}`,
      );
    }
    for (const uid of reported.keys()) if (!still.has(uid)) reported.delete(uid);
  };

  /** One pass's plan: the routes wanted from the informers against what `ip` shows. */
  async function planPass(): Promise<AgentPlan> {
    if (!source.synced()) throw new TransientError('kubernetes informers not synced yet');
    const pods = source.pods();
    const result = nodeRoutes({
      services: config.services,
      pods,
      nodeName,
      node: source.node(nodeName),
      lastGood,
    });
    lastGood = result.accepted;
    skippedNow = result.skipped;
    reportRefusals(result.refused);
    const current = new Map(
      pods.flatMap((p) =>
        p.podIps.filter((ip) => isAddress(ip)).map((ip) => [canonicalAddress(ip), p] as const),
      ),
    );
    podByIp = new Map<string, PodRef>([...lastPods, ...current]);
    lastPods = current;

    const services = new Map(config.services.map((s) => [s.vip, s.name]));
    const owned = await table.owned();
    const held = holdBlackholes(
      result.unrouted.map((u) => u.vip),
      new Set(owned.map((r) => r.vip)),
      blackholeSince,
      now(),
      holdMs,
    );
    clearTimeout(holdTimer);
    if (held.nextExpiry !== undefined && !stopped) {
      holdTimer = setTimeout(() => deps.trigger('a blackhole hold-down ended'), held.nextExpiry - now());
      holdTimer.unref();
    }
    const unwanted = (vip: string) => {
      const service = services.get(vip);
      if (service === undefined) return 'VIP no longer configured';
      const reasons = [...new Set(result.skipped.filter((s) => s.vip === vip).map((s) => s.reason))];
      const why = reasons.length > 0 ? reasons.join('; ') : `no LB pod on node ${nodeName} serves ${service}`;
      return holdMs > 0 && blackholeSince.has(vip)
        ? `${why}; blackhole held ${config.nodeAgent.blackholeSeconds} s, the node's clients reach the VIP through the router again`
        : why;
    };
    return {
      changes: diffRoutes(result.routes, owned, held.blackhole, unwanted),
      skipped: result.skipped,
      desired: result.routes.length,
      routes: result.routes,
      draining: result.draining,
      unrouted: held.blackhole,
      owned,
    };
  }

  const pipeline: Pipeline<RouteChange, AgentPlan> = {
    name: 'node-routes',
    plan: planPass,
    async apply(plan) {
      const results: { change: RouteChange; error?: unknown }[] = [];
      for (const change of plan.changes) {
        try {
          await table.apply(change);
          results.push({ change });
        } catch (error) {
          results.push({ change, error });
        }
      }
      return results;
    },
    describe: (change) => ({
      kind: change.kind,
      key: change.vip,
      fields: {
        event: `route_${change.kind}`,
        vip: change.vip,
        nexthops: change.kind === 'replace' ? change.nexthops : [],
        ...(change.kind === 'replace' && { create: change.create }),
        from: change.from,
        reason: change.reason,
      },
      done: `route ${change.vip} ${change.kind === 'delete' ? 'removed' : change.nexthops.length > 0 ? 'programmed' : 'blackholed'}`,
      failed: `route ${change.vip} ${change.kind} failed`,
    }),
  };
  const controller = createController(pipeline, {
    logger: log,
    metrics,
    // A conflict repeats on every pass until someone acts: say it again only when it changes.
    quietRepeats: true,
    onResult: (change, error) => {
      for (const event of changeEvents(
        { change: change as RouteChange, error },
        { nodeName, podByIp, skipped: skippedNow },
      ))
        recorder.record(event);
    },
  });

  async function reconcile(why: string): Promise<AgentOutcome> {
    const outcome = await controller.runOnce(why);
    const { plan } = outcome;
    wantedNow = plan.routes;
    drainingNow = plan.draining;
    // An owned route of an unrouted VIP is a blackhole now, unless writing it failed.
    blackholedNow = plan.unrouted.filter(
      (vip) => plan.owned.some((r) => r.vip === vip) && !outcome.failed.some((f) => f.change.vip === vip),
    );
    nexthops.reset();
    for (const { vip } of config.services) nexthops.set({ vip }, 0);
    for (const route of plan.routes) nexthops.set({ vip: route.vip }, route.nexthops.length);
    return {
      wanted: plan.routes,
      applied: outcome.applied,
      failed: outcome.failed.map(({ change, error }) => ({ change, error })),
      // A failed route is not thrown: the loop would hold every other VIP's update while it
      // retried. Some failures pass by themselves (a pod IP the CNI has not routed yet).
      retry: outcome.failed.some((f) => isTransient(f.cause)),
    };
  }

  let failedPasses = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  const resyncMs = config.reconcile.resyncSeconds * 1000;

  return {
    recorder,
    start: () => source.start(),
    async stop() {
      stopped = true;
      clearTimeout(holdTimer);
      clearTimeout(retryTimer);
      await recorder.close();
      await source.stop();
    },
    reconcile,
    async pass(why) {
      const outcome = await reconcile(why);
      clearTimeout(retryTimer);
      const first = outcome.failed[0];
      if (first === undefined) {
        failedPasses = 0;
        return undefined;
      }
      failedPasses += 1;
      // A retry of its own, not the loop's: the loop's retry would hold every other VIP's update.
      if (outcome.retry && !stopped) {
        const delay = backoffDelay(failedPasses - 1, {
          minMs: 500,
          maxMs: Math.min(resyncMs, 500 * 2 ** 12),
        });
        retryTimer = setTimeout(() => deps.trigger('retry failed route changes'), delay);
        retryTimer.unref();
      }
      return `${outcome.failed.length} route change(s) failed: ${first.error}`;
    },
    notReady: () => (source.synced() ? [] : ['kubernetes informers not synced yet']),
    status: () => ({
      node: nodeName,
      routeProtocol: table.protocol,
      routes: Object.fromEntries(wantedNow.map((r) => [r.vip, r.nexthops])),
      ...(drainingNow.length > 0 && { draining: drainingNow.map((d) => d.reason) }),
      ...(blackholedNow.length > 0 && { blackholed: blackholedNow }),
      ...source.status(),
      ...(source.degraded().length > 0 && { degraded: source.degraded() }),
    }),
  };
}
