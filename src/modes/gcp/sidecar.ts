import { Counter } from 'prom-client';
import type { Config } from '../../config/load.js';
import type { Registry } from '../../core/ports.js';
import { gceInstanceUrl, parseProviderId } from '../../core/provider-id.js';
import { ConfigError, errorMessage, PermanentError } from '../../errors.js';
import { defaultAuth, TEST_TOKEN_ENV, testTokenAuth } from '../../providers/gcp/auth.js';
import { createComputeClients } from '../../providers/gcp/client.js';
import { countedPort } from '../../providers/gcp/instrument.js';
import type { ComputePort } from '../../providers/gcp/port.js';
import { createComputeRoutes } from '../../providers/gcp/routes.js';
import {
  createLifecyclePublisher,
  type LifecyclePublisher,
} from '../../publishers/gcp/lifecycle-publisher.js';
import { createTopicPublisher, type TopicPublisher } from '../../publishers/gcp/pubsub.js';
import { ownInstanceOnly } from '../../registry/gcp/own-instance.js';
import { createGcpRouteRegistry } from '../../registry/gcp/provider.js';
import { createController } from '../../runtime/controller.js';
import type { KubernetesContext } from '../../sources/kubernetes/context.js';
import { modePipeline } from '../pipeline.js';
import { createOwnGates, createSelfSource, sleep } from '../self.js';
import type { ModeDeps, ModeParts } from '../types.js';
import { createOrphanSweep, type OrphanSweep } from './orphans.js';
import { gcpPlanning } from './planning.js';

type GcpConfig = NonNullable<Config['gcp']>;

export interface GcpModeOptions {
  /** Compute, for `publish: routes` (the sidecar writes its own routes). */
  readonly compute?: ComputePort | undefined;
  /** The lifecycle topic, for `publish: pubsub` (the sidecar writes nothing in Compute). */
  readonly topic?: TopicPublisher | undefined;
  /** The Node's `spec.providerID`, once known. */
  readonly providerId: () => string | undefined;
  /** Unix milliseconds. */
  readonly now?: () => number;
  /** How often the lifecycle state is checked (ms) with `publish: pubsub`. */
  readonly checkMs?: number;
  /** How long to keep serving after the withdrawal on shutdown; `drain.seconds` by default. */
  readonly drainMs?: number;
  /** Releases the clients (close()). */
  readonly release?: () => Promise<void>;
}

function gcpSection(config: Config): GcpConfig {
  if (config.gcp === undefined)
    throw new ConfigError('mode gcp needs a "gcp" section', [{ path: 'gcp', message: 'missing' }]);
  return config.gcp;
}

/** This node's instance URL from a `gce://project/zone/name` providerID; the reason when there is none. */
function instanceOf(providerId: string | undefined): { url?: string; why?: string } {
  if (providerId === undefined)
    return { why: 'the Node has no providerID yet: cannot tell which instance this is' };
  const parsed = parseProviderId(providerId);
  if (parsed?.cloud !== 'gce') return { why: `providerID ${providerId} is not a GCE instance (gce://…)` };
  return { url: gceInstanceUrl(parsed) };
}

/**
 * The instances hosting an LB pod, from the informers and the pods' Nodes; undefined unless that
 * is certain (not synced, the API degraded, a Node that cannot be read or is no GCE instance).
 */
async function lbInstances(kubernetes: KubernetesContext): Promise<ReadonlySet<string> | undefined> {
  const { source } = kubernetes;
  if (!source.synced() || source.degraded().length > 0) return undefined;
  const nodes = new Set(source.pods().flatMap((p) => (p.nodeName === undefined ? [] : [p.nodeName])));
  const hosts = new Set<string>();
  for (const node of nodes) {
    const url = instanceOf(await kubernetes.providerIdOf(node)).url;
    if (url === undefined) return undefined;
    hosts.add(url);
  }
  return hosts;
}

/** Neither observes nor writes anything: the sidecar's registry when the lifecycle function writes. */
function publishOnly(network: string, owner: string): Registry<undefined> {
  return {
    name: 'gcp-pubsub',
    owner,
    observe: async () => ({ tables: [network], routes: [], view: undefined }),
    apply: async (changes) =>
      changes.map((change) => ({
        change,
        error: new PermanentError('gcp.publish is pubsub: the lifecycle function writes the routes'),
      })),
  };
}

/**
 * `gcp` mode in the sidecar: every healthy LB is a next hop (equal-priority routes, ECMP), and
 * each sidecar is the writer of its own routes only: desired = this LB (its gates, its pod),
 * observed = this owner's routes to its own instance. No Lease. With `publish: pubsub` it writes
 * nothing and publishes its lifecycle instead; the `lifecycle` function programs its routes.
 * On SIGTERM: withdraw (delete its own routes, or publish `draining`), drain, exit.
 */
export async function createGcpMode(deps: ModeDeps, options: GcpModeOptions): Promise<ModeParts<undefined>> {
  const { config, logger, kubernetes } = deps;
  const gcp = gcpSection(config);
  const direct = gcp.publish === 'routes';
  if (direct && options.compute === undefined)
    throw new ConfigError('gcp.publish is routes but no Compute client was given');
  if (!direct && options.topic === undefined)
    throw new ConfigError('gcp.publish is pubsub but no Pub/Sub topic was given');
  const log = logger.child({ component: 'gcp-mode' });
  const now = options.now ?? Date.now;
  const instance = () => instanceOf(options.providerId()).url;
  const gates = createOwnGates(deps);
  let withdrawing: string | undefined;
  const self = createSelfSource({
    config,
    gates,
    kubernetes,
    target: instance,
    withdrawing: () => withdrawing,
  });

  const computeRoutes =
    direct && options.compute
      ? createComputeRoutes({ compute: options.compute, project: gcp.project, network: gcp.network })
      : undefined;
  /** This owner's routes: listed filtered to one next hop (the reconcile's), or all (the orphan sweep's). */
  const ownerRoutes = (nextHop?: () => string | undefined) =>
    computeRoutes &&
    createGcpRouteRegistry({
      routes: computeRoutes,
      owner: config.owner,
      priority: gcp.priority,
      nextHop,
      logger,
    });
  const owned = ownerRoutes(instance);
  const registry: Registry<undefined> = owned
    ? ownInstanceOnly(owned, instance)
    : publishOnly(gcp.network, config.owner);
  const everyNextHop = kubernetes ? ownerRoutes() : undefined;
  const orphans: OrphanSweep | undefined =
    everyNextHop && kubernetes
      ? createOrphanSweep({
          registry: everyNextHop,
          vips: new Set(config.services.map((s) => s.vip)),
          lbInstances: () => lbInstances(kubernetes),
          graceMs: gcp.orphanSeconds * 1000,
          now,
          logger,
        })
      : undefined;
  /** The shutdown's own pass: the loop has stopped by then. */
  const withdrawPass = createController(modePipeline(gcpPlanning, { source: self, registry }), { logger });

  const lifecycle: LifecyclePublisher | undefined = options.topic
    ? createLifecyclePublisher({
        failures: deps.metrics.publishFailures,
        topic: options.topic,
        owner: config.owner,
        node: config.identity.nodeName ?? 'unknown',
        pod: config.identity.podName
          ? `${config.identity.podNamespace ?? 'default'}/${config.identity.podName}`
          : `node/${config.identity.nodeName ?? 'unknown'}`,
        instance,
        healthy: async () => {
          try {
            const desired = await self.desired();
            return desired.length > 0 && desired.every((d) => d.candidates.every((c) => c.healthy));
          } catch {
            return undefined; // Kubernetes not synced yet: say nothing rather than `draining`.
          }
        },
        refreshSeconds: gcp.refreshSeconds,
        now,
        logger,
      })
    : undefined;
  let timer: NodeJS.Timeout | undefined;
  let sweepTimer: NodeJS.Timeout | undefined;
  let sweeping: Promise<void> | undefined;
  const sweep = () => {
    sweeping ??= (orphans?.sweep() ?? Promise.resolve())
      .catch((error: unknown) =>
        log.warn({ event: 'orphan_sweep_failed', err: errorMessage(error) }, 'orphan sweep failed'),
      )
      .finally(() => {
        sweeping = undefined;
      });
    return sweeping;
  };
  let ticking: Promise<void> | undefined;
  const tick = () => {
    ticking ??= (lifecycle?.tick() ?? Promise.resolve()).finally(() => {
      ticking = undefined;
    });
    return ticking;
  };

  /** Another Ready LB pod on this node still serves the node's routes (they are per node, not per pod). */
  const sharer = () => {
    const me = kubernetes?.self;
    const node = config.identity.nodeName;
    if (me === undefined || node === undefined) return undefined;
    return kubernetes?.source
      .pods()
      .find(
        (p) =>
          p.nodeName === node &&
          p.ready &&
          !p.terminating &&
          !(p.name === me.name && p.namespace === me.namespace),
      );
  };

  async function withdraw(): Promise<void> {
    const other = sharer();
    if (other !== undefined) {
      log.info(
        { event: 'withdraw_skipped', pod: `${other.namespace}/${other.name}` },
        `routes stay: LB pod ${other.name} on this node still serves them`,
      );
      return;
    }
    if (lifecycle) {
      await lifecycle.announce('draining');
      return;
    }
    withdrawing = 'shutting down: withdraw before exit';
    const started = Date.now();
    try {
      const outcome = await withdrawPass.runOnce('shutdown');
      if (outcome.failed.length > 0) {
        log.warn(
          { event: 'withdraw_incomplete', failed: outcome.failed.length, err: outcome.failed[0]?.error },
          'could not delete every own route',
        );
      } else {
        log.info(
          { event: 'withdrawn', routes: outcome.applied.length, ms: Date.now() - started },
          outcome.applied.length > 0 ? 'own routes deleted' : 'no own route to delete',
        );
      }
    } catch (error) {
      log.warn({ event: 'withdraw_incomplete', err: errorMessage(error) }, 'could not read the own routes');
    }
  }

  return {
    source: direct ? self : { desired: async () => [] },
    registry,
    async start() {
      log.info(
        { event: 'start', publish: gcp.publish, network: gcp.network, instance: instance() },
        'gcp mode starting',
      );
      gates.start();
      if (orphans) {
        sweepTimer = setInterval(() => void sweep(), Math.max(5, gcp.orphanSeconds / 2) * 1000);
        sweepTimer.unref();
      }
      if (lifecycle) {
        await tick();
        timer = setInterval(() => void tick(), options.checkMs ?? 1000);
        timer.unref();
      }
    },
    // Only its own routes, once it knows which instance it is; with Pub/Sub, never.
    canWrite: () => direct && instance() !== undefined,
    notReady: () => {
      const reasons: string[] = [];
      const own = instanceOf(options.providerId());
      if (own.why) reasons.push(own.why);
      for (const s of config.services) {
        const gate = gates.gateOf(s.name);
        if (!gate.healthy) reasons.push(`service ${s.name} not routed: ${gate.reason}`);
      }
      // A failed publish is not a reason (see the aws mode): it is in status.
      return reasons;
    },
    status: () => {
      const [publishError] = lifecycle?.failing() ?? [];
      return {
        gcp: {
          project: gcp.project,
          network: gcp.network,
          publish: gcp.publish,
          instance: instance(),
          ...lifecycle?.status(),
          ...(publishError && { publishError }),
        },
        health: Object.fromEntries(config.services.map((s) => [s.name, gates.gateOf(s.name)])),
      };
    },
    async shutdown() {
      clearInterval(timer);
      clearInterval(sweepTimer);
      await sweeping;
      await ticking;
      await gates.stop();
      await withdraw();
      const drainMs = options.drainMs ?? config.drain.seconds * 1000;
      log.info({ event: 'drain', seconds: drainMs / 1000 }, 'draining');
      await sleep(drainMs);
      if (lifecycle && sharer() === undefined) await lifecycle.announce('gone');
    },
    async close() {
      clearInterval(timer);
      clearInterval(sweepTimer);
      await sweeping;
      await ticking;
      await gates.stop();
      await options.release?.();
    },
  };
}

/**
 * The composition root for `gcp` mode: the real Compute clients (or the Pub/Sub topic) from the
 * config, credentials from Application Default Credentials, or from PORTLB_GCP_TEST_TOKEN in
 * tests (a static token; never in a deployment).
 */
export async function createGcpModeFromConfig(deps: ModeDeps): Promise<ModeParts<undefined>> {
  const gcp = gcpSection(deps.config);
  const auth = testTokenAuth();
  if (auth) {
    deps.logger.warn(
      { event: 'test_token' },
      `${TEST_TOKEN_ENV} is set: a static token is used (tests only)`,
    );
  }
  const counter = new Counter({
    name: 'portlb_gcp_api_calls_total',
    help: 'Compute API calls by method and outcome.',
    labelNames: ['method', 'outcome'] as const,
    registers: [deps.metrics.registry],
  });
  const clients =
    gcp.publish === 'routes'
      ? createComputeClients({ project: gcp.project, endpoint: gcp.endpoint, auth })
      : undefined;
  const topic =
    gcp.publish === 'pubsub'
      ? createTopicPublisher({
          project: gcp.project,
          topic: gcp.topic,
          endpoint: gcp.pubsubEndpoint,
          auth: auth ?? defaultAuth('https://www.googleapis.com/auth/pubsub'),
        })
      : undefined;
  const kube = deps.kubernetes;
  return createGcpMode(deps, {
    compute: clients && countedPort(clients.port, (method, outcome) => counter.inc({ method, outcome })),
    topic,
    providerId: () => deps.providerId ?? kube?.ownNode()?.providerId ?? process.env.PORTLB_PROVIDER_ID,
    release: () => clients?.close() ?? Promise.resolve(),
  });
}
