import { Counter } from 'prom-client';
import { ConfigError } from '../../errors.js';
import { createServiceGates } from '../../health/services.js';
import { createEc2Client, createEventBridgeClient } from '../../providers/aws/client.js';
import { awsInstanceId } from '../../providers/aws/instances.js';
import { countCalls } from '../../providers/aws/instrument.js';
import type { Ec2Port, EventsPort } from '../../providers/aws/port.js';
import { describeTables, type RouteTableView } from '../../providers/aws/tables.js';
import { createCandidacyPublisher } from '../../publishers/aws/candidacy-publisher.js';
import { assertVipsOutsideVpc } from '../../registry/aws/ownership.js';
import { createController } from '../../runtime/controller.js';
import { alwaysLeader, type LeaderElector } from '../../runtime/leader.js';
import type { HealthContext } from '../../sources/aws/candidacy.js';
import { kubernetesVeto } from '../../sources/aws/kube-veto.js';
import { createStaticBackends } from '../../sources/backends.js';
import type { ModeDeps, ModeParts } from '../types.js';
import { awsRoutePipeline } from './routes.js';

export interface AwsModeOptions {
  readonly ec2: Ec2Port;
  /** Needed when `aws.publish` is `eventbridge`. */
  readonly events?: EventsPort | undefined;
  /** One writer: the Kubernetes Lease in a cluster; tests pass their own. */
  readonly leader: LeaderElector;
  /** The Node's `spec.providerID`, once known. */
  readonly providerId: () => string | undefined;
  /**
   * This LB pod can serve. By default: every service passes its health check (config `health`,
   * as in bgp mode) and, with Kubernetes, the pod is Ready and not terminating. Tests pass their own.
   */
  readonly healthy?: () => boolean;
  /** With the default health check: is this pod Ready (Kubernetes)? */
  readonly podReady?: () => boolean;
  /** Unix milliseconds. */
  readonly now?: () => number;
  /** How often the candidacy state is checked (ms); a publish happens only on change or refresh. */
  readonly checkMs?: number;
  /** Overrules `ready` reports this process knows better about (Kubernetes pod readiness). */
  readonly veto?: HealthContext['veto'];
  /** How long to keep serving after announcing `draining` on shutdown; `drain.seconds` by default. */
  readonly drainMs?: number;
}

/**
 * `aws` mode in the sidecar. Every LB pod publishes its candidacy (tags on the managed route
 * tables, or a lifecycle event); the Lease holder reconciles the routes from those candidacies
 * with the planner, which keeps the current target while it is healthy: a target a Lambda chose
 * stays, and a Lease handover moves no traffic. With `publish: eventbridge` the sidecar writes
 * nothing in EC2 and the lifecycle function programs the routes.
 */
export async function createAwsMode(
  deps: ModeDeps,
  options: AwsModeOptions,
): Promise<ModeParts<RouteTableView[]>> {
  const { config, logger } = deps;
  const aws = config.aws;
  if (aws === undefined)
    throw new ConfigError('mode aws needs an "aws" section', [{ path: 'aws', message: 'missing' }]);
  if (aws.publish === 'eventbridge' && options.events === undefined) {
    throw new ConfigError('aws.publish is eventbridge but no EventBridge client was given');
  }
  const now = options.now ?? Date.now;
  const log = logger.child({ component: 'aws-mode' });
  const selector = 'ids' in aws.routeTables ? { ids: aws.routeTables.ids } : { tags: aws.routeTables.tags };
  const vips = config.services.map((s) => s.vip);
  const { source, registry, pipeline } = awsRoutePipeline({
    ec2: options.ec2,
    tables: selector,
    owner: config.owner,
    services: config.services,
    vpcCidrs: aws.vpcCidrs,
    staleSeconds: aws.candidacy.staleSeconds,
    now,
    logger,
    veto: options.veto,
  });
  const instanceId = () => {
    const id = options.providerId();
    return id === undefined ? undefined : awsInstanceId(id);
  };
  const direct = aws.publish === 'tags';
  const gates =
    options.healthy === undefined
      ? createServiceGates({
          config,
          backends: deps.kubernetes?.backends ?? createStaticBackends(config),
          hasKubernetes: deps.kubernetes !== undefined,
          registry: deps.metrics.registry,
          logger,
          onChange: () => void tick(),
        })
      : undefined;
  const healthy =
    options.healthy ?? (() => (gates?.overall().healthy ?? false) && (options.podReady?.() ?? true));
  const announcer = createCandidacyPublisher({
    failures: deps.metrics.publishFailures,
    ec2: options.ec2,
    publish:
      direct || options.events === undefined
        ? { kind: 'tags' }
        : { kind: 'eventbridge', events: options.events, bus: aws.eventBus },
    tables: selector,
    owner: config.owner,
    node: config.identity.nodeName ?? 'unknown',
    pod: config.identity.podName
      ? `${config.identity.podNamespace ?? 'default'}/${config.identity.podName}`
      : `node/${config.identity.nodeName ?? 'unknown'}`,
    nodeIp: config.identity.hostIp,
    instanceId,
    healthy,
    refreshSeconds: aws.candidacy.refreshSeconds,
    now,
    logger,
    onPublished: (state) => {
      deps.trigger(`own candidacy ${state}`);
      // The leader's loop moves the routes; a follower that stops serving moves its own at once
      // instead of leaving them until the leader's next resync.
      if (state === 'draining' && direct && !options.leader.isLeader()) void moveOffSelf();
    },
  });
  /**
   * One pass outside the loop, to move routes off this node. Safe for any pod, leader or not: the
   * choice is deterministic over the same tags, so it agrees with whatever the leader would write.
   */
  const pass = createController(pipeline, { logger });
  let moving: Promise<void> | undefined;
  const moveOffSelf = () => {
    moving ??= pass
      .runOnce('draining')
      .then((outcome) => {
        if (outcome.error) throw outcome.error;
      })
      .catch((error: unknown) =>
        log.warn({ event: 'drain_reconcile_failed', err: String(error) }, 'could not move routes away'),
      )
      .finally(() => {
        moving = undefined;
      });
    return moving;
  };
  let timer: NodeJS.Timeout | undefined;
  let ticking: Promise<void> | undefined;
  const tick = () => {
    ticking ??= announcer.tick().finally(() => {
      ticking = undefined;
    });
    return ticking;
  };

  return {
    source,
    registry,
    async start() {
      options.leader.onChange((leading) =>
        log.info({ event: 'leader', leading }, leading ? 'leading' : 'following'),
      );
      // Nothing is written (not even the candidacy) for VIPs this VPC cannot route.
      if (direct) assertVipsOutsideVpc(await describeTables(options.ec2, selector), vips, aws.vpcCidrs);
      gates?.start();
      await tick();
      timer = setInterval(() => void tick(), options.checkMs ?? 1000);
      timer.unref();
    },
    // Only the Lease holder writes routes, and only in the tags topology: with EventBridge the
    // sidecar holds no EC2 write permission and the lifecycle function writes instead.
    canWrite: () => direct && options.leader.isLeader(),
    notReady: () => [
      ...(options.providerId() === undefined
        ? ['the Node has no providerID yet: cannot tell which instance this is']
        : []),
    ],
    // A failed publish shows here, in the log and in portlb_publish_failures_total, not in the
    // readiness: the pod still serves, and an API outage must not make every LB NotReady at once.
    status: () => {
      const [publishError] = announcer.failing();
      return {
        ...announcer.status(),
        ...(publishError && { publishError }),
        ...(gates && { health: gates.overall() }),
        leader: options.leader.holder(),
        leading: options.leader.isLeader(),
      };
    },
    async shutdown() {
      clearInterval(timer);
      await ticking;
      await gates?.stop();
      await announcer.announce('draining');
      if (direct) await moveOffSelf();
      await new Promise((resolve) => setTimeout(resolve, options.drainMs ?? config.drain.seconds * 1000));
      await announcer.announce('gone');
    },
    async close() {
      clearInterval(timer);
      await ticking;
      await gates?.stop();
    },
  };
}

/** The composition root for `aws` mode: real clients from the config, the Lease from Kubernetes. */
export async function createAwsModeFromConfig(deps: ModeDeps): Promise<ModeParts<RouteTableView[]>> {
  const aws = deps.config.aws;
  if (aws === undefined)
    throw new ConfigError('mode aws needs an "aws" section', [{ path: 'aws', message: 'missing' }]);
  const ec2 = createEc2Client({ region: aws.region, endpoint: aws.endpoint });
  const counter = new Counter({
    name: 'portlb_aws_api_calls_total',
    help: 'EC2 API calls by action and outcome.',
    labelNames: ['action', 'outcome'] as const,
    registers: [deps.metrics.registry],
  });
  countCalls(ec2, (action, outcome) => counter.inc({ action, outcome }));
  const kube = deps.kubernetes;
  const leader = kube?.elector ?? alwaysLeader(deps.config.identity.podName);
  if (kube?.elector === undefined) {
    deps.logger.warn(
      { event: 'no_lease' },
      'no Kubernetes Lease configured: this sidecar writes as if it were the only one (run one replica, or add a kubernetes section)',
    );
  }
  const self = kube?.self;
  return createAwsMode(deps, {
    ec2,
    events: aws.publish === 'eventbridge' ? createEventBridgeClient({ region: aws.region }) : undefined,
    leader,
    providerId: () => deps.providerId ?? kube?.ownNode()?.providerId ?? process.env.PORTLB_PROVIDER_ID,
    // Health: the services' health checks (built by createAwsMode) and, with Kubernetes, this pod's Ready.
    podReady: () => {
      const pod =
        self && kube?.source.pods().find((p) => p.name === self.name && p.namespace === self.namespace);
      return pod === undefined ? true : pod.ready && !pod.terminating;
    },
    veto: kube
      ? kubernetesVeto({ pods: () => kube.source.pods(), synced: () => kube.source.synced(), now: Date.now })
      : undefined,
  });
}
