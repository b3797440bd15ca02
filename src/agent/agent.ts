import type { KubeConfig } from '@kubernetes/client-node';
import { Gauge } from 'prom-client';
import type { Config } from '../config/load.js';
import type { KubernetesConfig } from '../config/schema.js';
import { isAddress } from '../core/cidr.js';
import { ConfigError, errorMessage, isTransient, TransientError } from '../errors.js';
import { createEventRecorder, type EventRecorder, nullRecorder, type PodRef } from '../kube/events.js';
import { kubeMetrics } from '../kube/metrics.js';
import type { Logger } from '../runtime/logger.js';
import type { Metrics } from '../runtime/metrics.js';
import type { LbAnnotations } from '../sources/kubernetes/annotations.js';
import { createKubernetesSource } from '../sources/kubernetes/source.js';
import { diffRoutes, holdBlackholes, type RouteChange } from './diff.js';
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

export interface NodeAgent {
  readonly recorder: EventRecorder;
  start(): Promise<void>;
  /** Stops informers and flushes Events. Routes stay: the data plane keeps forwarding. */
  stop(): Promise<void>;
  /** One level-triggered pass: what the LB pods want, what `ip` shows, the diff, applied. */
  reconcile(why: string): Promise<AgentOutcome>;
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
  let drainingNow: readonly SkippedPod[] = [];
  let blackholedNow: readonly string[] = [];
  const now = deps.now ?? Date.now;
  const holdMs = config.nodeAgent.blackholeSeconds * 1000;
  /** When each held VIP became a blackhole, and the pass that ends the earliest hold. */
  const blackholeSince = new Map<string, number>();
  let holdTimer: NodeJS.Timeout | undefined;
  let stopped = false;
  /** The last error per VIP, so a repeating failure is logged once at warn. */
  let failing = new Map<string, string>();
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

  return {
    recorder,
    start: () => source.start(),
    async stop() {
      stopped = true;
      clearTimeout(holdTimer);
      await recorder.close();
      await source.stop();
    },
    async reconcile(why) {
      const stopTimer = metrics.reconcileSeconds.startTimer();
      try {
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
        reportRefusals(result.refused);
        const current = new Map(
          pods.flatMap((p) =>
            p.podIps.filter((ip) => isAddress(ip)).map((ip) => [canonicalAddress(ip), p] as const),
          ),
        );
        const podByIp = new Map<string, PodRef>([...lastPods, ...current]);
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
        const unrouted = held.blackhole;
        clearTimeout(holdTimer);
        if (held.nextExpiry !== undefined && !stopped) {
          holdTimer = setTimeout(() => deps.trigger('a blackhole hold-down ended'), held.nextExpiry - now());
          holdTimer.unref();
        }
        const unwanted = (vip: string) => {
          const service = services.get(vip);
          if (service === undefined) return 'VIP no longer configured';
          const reasons = [...new Set(result.skipped.filter((s) => s.vip === vip).map((s) => s.reason))];
          const why =
            reasons.length > 0 ? reasons.join('; ') : `no LB pod on node ${nodeName} serves ${service}`;
          return holdMs > 0 && blackholeSince.has(vip)
            ? `${why}; blackhole held ${config.nodeAgent.blackholeSeconds} s, the node's clients reach the VIP through the router again`
            : why;
        };
        const changes = diffRoutes(result.routes, owned, unrouted, unwanted);
        const applied: RouteChange[] = [];
        const failed: { change: RouteChange; error: string; cause: unknown }[] = [];
        for (const change of changes) {
          const fields = {
            event: `route_${change.kind}`,
            vip: change.vip,
            nexthops: change.kind === 'replace' ? change.nexthops : [],
            ...(change.kind === 'replace' && { create: change.create }),
            from: change.from,
            reason: change.reason,
          };
          let error: string | undefined;
          try {
            await table.apply(change);
            applied.push(change);
            metrics.changes.inc({ kind: change.kind, result: 'ok' });
            const done =
              change.kind === 'delete' ? 'removed' : change.nexthops.length > 0 ? 'programmed' : 'blackholed';
            log.info(fields, `route ${change.vip} ${done}`);
          } catch (cause) {
            error = errorMessage(cause);
            failed.push({ change, error, cause });
            metrics.changes.inc({ kind: change.kind, result: 'error' });
            // A conflict repeats on every pass until someone acts: say it again only when it changes.
            const level = failing.get(change.vip) === error ? 'debug' : 'warn';
            log[level]({ ...fields, err: error }, `route ${change.vip} ${change.kind} failed`);
          }
          for (const event of changeEvents({ change, error }, { nodeName, podByIp, skipped: result.skipped }))
            recorder.record(event);
        }
        failing = new Map(failed.map((f) => [f.change.vip, f.error]));
        wantedNow = result.routes;
        drainingNow = result.draining;
        // An owned route of an unrouted VIP is a blackhole now, unless writing it failed.
        blackholedNow = unrouted.filter(
          (vip) => owned.some((r) => r.vip === vip) && !failed.some((f) => f.change.vip === vip),
        );
        metrics.desired.set(result.routes.length);
        metrics.skipped.set(result.skipped.length);
        nexthops.reset();
        for (const { vip } of config.services) nexthops.set({ vip }, 0);
        for (const route of result.routes) nexthops.set({ vip: route.vip }, route.nexthops.length);
        log.debug(
          { event: 'reconciled', trigger: why, wanted: result.routes.length, changes: changes.length },
          'reconciled',
        );
        // A failed route is not thrown: the loop would hold every other VIP's update while it
        // retried. The caller schedules a retry and reports it.
        const retry = failed.some((f) => isTransient(f.cause));
        const label = failed.length === 0 ? 'ok' : retry ? 'transient_error' : 'permanent_error';
        metrics.reconciles.inc({ result: label });
        if (failed.length === 0) metrics.lastSuccess.set(Date.now() / 1000);
        return {
          wanted: result.routes,
          applied,
          failed: failed.map(({ change, error }) => ({ change, error })),
          retry,
        };
      } catch (error) {
        metrics.reconciles.inc({ result: isTransient(error) ? 'transient_error' : 'permanent_error' });
        throw error;
      } finally {
        stopTimer();
      }
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
