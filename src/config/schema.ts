import { z } from 'zod';
import { DEFAULT_TABLE_SIZE, isPrime } from '../core/maglev.js';
import {
  address,
  awsRegion,
  awsTagKeys,
  cidr,
  endpointUrl,
  eventBus,
  filePath,
  gcpName,
  gcpProjectId,
  labelSelector,
  listen,
  logLevel,
  name,
  port,
  portName,
  routeTableId,
  seconds,
  subdomain,
} from './fields.js';
import {
  asn,
  bgpIdentifier,
  community,
  DEFAULT_ROUTE_PROTOCOL,
  holdTime,
  routeProtocol,
} from './protocols.js';
import { atMost, before, exactlyOne, recordWithKeys, whenValid } from './refine.js';
import { SPECIAL_PURPOSE_CATEGORIES } from './special.js';

export const MAX_HOLD_TIME_WITHOUT_OVERRIDE = 30;

/** Periods that still mean something: a resync or refresh once a day at the least. */
const DAY = 86_400;

const portSchema = z.strictObject({
  port,
  protocol: z.enum(['TCP', 'UDP']).default('TCP'),
  name: portName.optional(),
});

const staticBackends = z
  .array(z.strictObject({ address, port, name: portName.optional() }))
  .min(1, 'needs at least one backend');

const kubernetesBackend = z.strictObject({
  namespace: name.optional(),
  service: name,
  /** The Service port, by number or by name. */
  port: z.union([port, portName], { error: 'must be a port number (1-65535) or a port name' }).optional(),
});

type Backends =
  | { static: z.output<typeof staticBackends> }
  | { kubernetes: z.output<typeof kubernetesBackend> };

const backendsSchema = z
  .strictObject({ static: staticBackends.optional(), kubernetes: kubernetesBackend.optional() })
  .superRefine(exactlyOne(['static', 'kubernetes']))
  .transform(
    ({ static: list, kubernetes }): Backends =>
      list !== undefined ? { static: list } : { kubernetes: kubernetes! },
  );

const serviceSchema = z.strictObject({
  name,
  vip: cidr,
  ports: z.array(portSchema).min(1, 'needs at least one port'),
  backends: backendsSchema,
});

const staticTargetSchema = z.strictObject({
  node: subdomain,
  address,
  /** The cloud target when it differs from the address: an ENI id (aws) or instance URL (gcp). */
  cloudTarget: z.string().min(1).optional(),
  healthy: z.boolean().default(true),
});

const peerSchema = z.strictObject({
  address,
  as: asn,
  /** Same rules as bgp.holdTime, which it overrides for this peer. */
  holdTime: holdTime.optional(),
  /** A TCP-MD5 key (RFC 2385), one line; load.ts reads it when loading. */
  passwordFile: filePath.optional(),
  port: port.optional(),
});

const bgpSchema = z.strictObject({
  localAs: asn,
  /** `node-ip`/`pod-ip` need that address to be IPv4 (checked in rules.ts against the environment). */
  routerId: z
    .union([z.enum(['node-ip', 'pod-ip']), bgpIdentifier], {
      error: 'must be node-ip, pod-ip or a dotted quad',
    })
    .default('node-ip'),
  nextHop: z.enum(['node', 'pod']).default('node'),
  holdTime: holdTime.default(9),
  allowLongHoldTime: z.boolean().default(false),
  communities: z.array(community).default([]),
  peers: z.array(peerSchema).min(1, 'needs at least one route reflector'),
  exabgp: z
    .strictObject({
      command: filePath.default('exabgp'),
      /** Passed to exabgp's environment: names as a process environment takes them. */
      env: recordWithKeys(
        /^[A-Za-z_][A-Za-z0-9_.]*$/,
        'must be an environment name such as exabgp.api.ack',
        z.string().refine((v) => !v.includes('\0'), 'must not contain a NUL character'),
      ).default({}),
    })
    .default({ command: 'exabgp', env: {} }),
  /**
   * SIGTERM: after exabgp acknowledged the withdraw, wait until the network confirms that the
   * router no longer uses this next hop (docs/bgp.md), at most `nextHopWaitSeconds` (the W of the
   * pod's grace period, the chart's `lb.shutdown.nextHopWaitSeconds`), then drain. Without
   * `confirm`, only the ack.
   */
  shutdown: z
    .strictObject({
      nextHopWaitSeconds: seconds({ min: 0, max: 600 }).default(10),
      confirm: z
        .strictObject({
          /** Run with PORTLB_VIP, PORTLB_NEXT_HOP, PORTLB_SERVICE: exit 0 gone, 1 still used, else unknown. */
          command: z.array(z.string().min(1)).min(1),
          intervalMs: z.number().int().min(10).max(60_000).default(200),
        })
        .optional(),
    })
    .default({ nextHopWaitSeconds: 10 }),
  /**
   * The peers around the LB pods, for `portlb render rr|router` only: the upstream router, and
   * the route reflectors' cluster id (default: each RR's own address). The RRs are `peers`.
   */
  topology: z
    .strictObject({
      router: z.strictObject({
        address,
        /** Default: localAs (iBGP, as in the paper). */
        as: asn.optional(),
        maximumPaths: z.number().int().min(1).max(256).default(16),
        passwordFile: filePath.optional(),
      }),
      /** A CLUSTER_ID is 4 octets (RFC 4456). */
      clusterId: bgpIdentifier.optional(),
    })
    .optional(),
  /**
   * What the route reflectors (and, as a second line, the router) take from LB speakers, for
   * `portlb render rr|router`: prefixes inside allowedVipPools (or only the configured VIPs), of
   * the VIP's family, with a next hop in clusterNetworks.nodes (.pods with nextHop: pod).
   */
  policy: z
    .strictObject({
      vipsOnly: z.boolean().default(false),
      /** Per LB session, counted before the filter: more and the RR closes the session. */
      maxPrefixes: z.number().int().min(1).max(4294967295).default(100),
      /** Where LB speakers connect from (the RRs' dynamic-neighbor ranges); default nodes + pods. */
      listenRanges: z.array(cidr).min(1).optional(),
    })
    .default({ vipsOnly: false, maxPrefixes: 100 }),
  /** BFD between each LB's bfdd (`portlb render bfdd`) and the route reflectors; off when absent. */
  bfd: z
    .strictObject({
      intervalMs: z.number().int().min(50).max(60_000).default(300),
      multiplier: z.number().int().min(2).max(255).default(3),
      /** Route reflectors that run single-hop BFD (GoBGP's is); the others multihop (FRR's, for iBGP). */
      singleHop: z.array(address).default([]),
    })
    .optional(),
});

/** The aws fields the Lambda functions' environment shares (functions/aws/env.ts builds on them). */
export const awsFields = {
  owner: name,
  vip: cidr,
  region: awsRegion,
  routeTableId,
  tagValue: z.string().max(256),
  endpoint: endpointUrl,
  eventBus,
  staleSeconds: seconds({ min: 1, max: 7 * DAY }),
};

const routeTablesSchema = z
  .strictObject({
    ids: z.array(awsFields.routeTableId).min(1).optional(),
    tags: z
      .record(z.string(), awsFields.tagValue)
      .refine((t) => Object.keys(t).length > 0, 'needs a tag')
      .superRefine(awsTagKeys)
      .optional(),
  })
  .superRefine(exactlyOne(['ids', 'tags']))
  .transform(({ ids, tags }): { ids: string[] } | { tags: Record<string, string> } =>
    ids !== undefined ? { ids } : { tags: tags! },
  );

const awsSchema = z.strictObject({
  region: awsFields.region.optional(),
  routeTables: routeTablesSchema,
  endpoint: awsFields.endpoint.optional(),
  vpcCidrs: z.array(cidr).default([]),
  /** `tags`: the sidecar writes its candidacy and routes itself; `eventbridge`: it only puts lifecycle events. */
  publish: z.enum(['tags', 'eventbridge']).default('tags'),
  eventBus: awsFields.eventBus.default('portlb-lifecycle'),
  candidacy: z
    .strictObject({
      refreshSeconds: seconds({ min: 1, max: DAY }).default(60),
      staleSeconds: awsFields.staleSeconds.default(180),
    })
    .superRefine(
      before('refreshSeconds', 'staleSeconds', 'a candidacy would go stale before its refresh'),
      whenValid,
    )
    .default({ refreshSeconds: 60, staleSeconds: 180 }),
});

/** The gcp fields the Cloud Functions' environment shares (functions/gcp/env.ts builds on them). */
export const gcpFields = {
  owner: name,
  vip: cidr,
  project: gcpProjectId,
  network: gcpName,
  priority: z.number().int().min(0).max(65535),
  endpoint: endpointUrl,
  /** How long a lifecycle message counts (the sidecar publishes again every refreshSeconds). */
  lifecycleMaxAgeSeconds: seconds({ min: 1, max: 7 * DAY }),
};

const gcpSchema = z.strictObject({
  project: gcpFields.project,
  network: gcpFields.network,
  priority: gcpFields.priority.default(1000),
  /** Compute's endpoint: a Private Service Connect address, or the stand-in in tests. */
  endpoint: gcpFields.endpoint.optional(),
  /** `routes`: each sidecar writes its own Compute routes; `pubsub`: it only publishes lifecycle messages (least privilege) and the `lifecycle` function writes. */
  publish: z.enum(['routes', 'pubsub']).default('routes'),
  /** The lifecycle topic: its id, or `projects/P/topics/T`. */
  topic: z
    .string()
    .regex(/^(projects\/[^/]+\/topics\/)?[A-Za-z][-A-Za-z0-9_.~+%]{2,254}$/, 'must be a Pub/Sub topic id')
    .default('portlb-lifecycle'),
  /** Pub/Sub's endpoint: the emulator in tests. */
  pubsubEndpoint: endpointUrl.optional(),
  /** With `pubsub`: the lifecycle state is published again this often (a lost message is repaired). */
  refreshSeconds: seconds({ min: 1, max: DAY }).default(60),
  /**
   * With `routes` and Kubernetes: a route of this owner to an instance that has hosted no LB pod
   * for this long is deleted by the sidecars that see it (its own LB went without withdrawing).
   */
  orphanSeconds: seconds({ min: 5, max: DAY }).default(30),
});

const healthSchema = z
  .strictObject({
    probe: z
      .strictObject({
        type: z.enum(['tcp', 'http']).default('tcp'),
        /** `backends` probes the service's backends (until the data plane lands); `vip` probes through it. */
        through: z.enum(['backends', 'vip']).default('backends'),
        /** The request line's path: printable, no spaces or line breaks that would split the request. */
        path: z
          .string()
          .regex(/^\/[!-~]*$/, 'must be a path starting with "/", printable ASCII without spaces')
          .default('/'),
      })
      .default({ type: 'tcp', through: 'backends', path: '/' }),
    intervalSeconds: seconds({ min: 0.01, max: 3600 }).default(1),
    timeoutSeconds: seconds({ min: 0.01, max: 3600 }).default(1),
    rise: z.number().int().min(1).max(100).default(2),
    fall: z.number().int().min(1).max(100).default(2),
  })
  .superRefine(
    atMost('timeoutSeconds', 'intervalSeconds', 'a probe must end before the next one is due'),
    whenValid,
  );

/** The LB pods as Kubernetes sees them: where the sidecar takes its desired state from (issue 4). */
const kubernetesSchema = z
  .strictObject({
    /** A kubeconfig file; in a pod the service account is used when absent. */
    kubeconfig: filePath.optional(),
    /** The LB pods' namespace; the pod's own (POD_NAMESPACE) when absent. */
    namespace: name.optional(),
    /** Label selector of the LB pods, e.g. `app.kubernetes.io/name=portlb-lb`. */
    lbPodSelector: labelSelector,
    /** `self`: only this pod's node (each BGP speaker announces itself); `all`: every LB pod (one writer). */
    candidates: z.enum(['self', 'all']).optional(),
    /** Full relist of every informer this often, whatever the watches say. */
    resyncSeconds: seconds({ min: 1, max: DAY }).default(300),
    lease: z
      .strictObject({
        name: name.optional(),
        durationSeconds: seconds({ min: 0.01, max: 3600 }).default(15),
        renewSeconds: seconds({ min: 0.01, max: 3600 }).default(10),
        retrySeconds: seconds({ min: 0.01, max: 3600 }).default(2),
      })
      .refine((l) => l.retrySeconds < l.renewSeconds && l.renewSeconds < l.durationSeconds, {
        message: 'needs retrySeconds < renewSeconds < durationSeconds',
      })
      .default({ durationSeconds: 15, renewSeconds: 10, retrySeconds: 2 }),
    events: z.strictObject({ enabled: z.boolean().default(true) }).default({ enabled: true }),
  })
  .optional();

export { DEFAULT_ROUTE_PROTOCOL };

/** `portlb node-agent` (DaemonSet, host network): VIP -> LB pod IP routes on its node. */
const nodeAgentSchema = z.strictObject({
  routeProtocol: routeProtocol.default(DEFAULT_ROUTE_PROTOCOL),
  /** Program routes in this network namespace (`ip -n NETNS`); the agent's own when absent. */
  netns: z
    .string()
    .regex(/^(?!\.\.?$)[A-Za-z0-9_.-]{1,255}$/, 'must be a network namespace name (as in ip netns)')
    .optional(),
  /** The agent's /healthz, /readyz and /metrics, on the node's network (host network). */
  listen: listen.default('0.0.0.0:9403'),
  /**
   * How long a VIP that lost its last LB pod on this node stays blackholed before its route goes:
   * long enough for the withdraw (BGP) or the route change (VPC) to reach the router, short
   * enough that the node's own clients soon reach the VIP through the router again. 0: no blackhole.
   */
  blackholeSeconds: z.number().min(0).max(3600).default(10),
});

/** A Linux interface name: 1-15 characters, no slash, no whitespace. */
const ifname = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,15}$/, 'must be an interface name (1-15 of A-Z a-z 0-9 _ . -)');

/**
 * `dataPlane.forwarding: tunnel` (issue 14): VXLAN from the LB to each backend, the VIP kept as
 * the inner destination. VXLAN because it is the one encapsulation every common cluster kernel has
 * and this one too (no ipip/gre/geneve here); see docs/dataplane.md.
 */
const tunnelSchema = z.strictObject({
  /** VXLAN network identifier of the LB-to-backend tunnel. */
  vni: z.number().int().min(1).max(0xffffff).default(4242),
  /** UDP port the backends' VXLAN device listens on (in their own network namespace). */
  port: z.number().int().min(1).max(65535).default(4789),
  /** The VXLAN device, on the LBs and on the backends. */
  device: ifname.default('plbvx0'),
  /** LB: the interfaces VIP traffic arrives on (the pod's eth0). */
  interfaces: z.array(ifname).min(1).default(['eth0']),
  /**
   * LB: send its own connections to the VIP (health probes through: vip, the per-backend tunnel
   * check) through the tunnel too. Needs nftables' netdev egress hook (Linux 5.16 or later).
   */
  ownTraffic: z.boolean().default(true),
  /** LB: how long a flow's backend is kept after its last packet. */
  flowTimeoutSeconds: z.number().int().min(1).max(86_400).default(900),
  /** LB: flows kept per service port; beyond, new flows still follow the table, unremembered. */
  maxFlows: z.number().int().min(1024).max(16_777_216).default(65_536),
  /** Backend: the TCP MSS its SYN-ACKs from the VIP announce, so the client's packets fit the tunnel. */
  mss: z.number().int().min(536).max(65_495).default(1410),
  /** LB: the other LBs' `dataPlane.listen` (HOST:PORT), asked for their seed and tables. */
  peers: z.array(listen).default([]),
  /** LB: how long the per-backend tunnel check waits for an answer. */
  checkTimeoutSeconds: z.number().int().min(1).max(30).default(1),
});

/**
 * The LB pod's own load balancing (issue 10): VIP:port -> the service's backends, in a table or a
 * keepalived config portlb owns. Every LB of a service must render the same rules from the same
 * backends, so that a flow picks the same backend whichever LB the router hashes it to.
 */
const dataPlaneSchema = z.strictObject({
  /** `nftables` (DNAT with a flow hash; runs wherever nftables does) or `ipvs` (keepalived, as in the paper). */
  kind: z.enum(['nftables', 'ipvs']).default('nftables'),
  /**
   * `nat`: the LB rewrites the destination to the backend and the source to itself. `tunnel`:
   * a Maglev table picks the backend, the LB keeps each flow's choice, and sends the packet on
   * encapsulated with the VIP still as destination; the backend answers the client directly.
   */
  forwarding: z.enum(['nat', 'tunnel']).default('nat'),
  /** Seed of the flow hash and of the Maglev table; every LB of a service must use the same one. */
  seed: z.number().int().min(0).max(0xffffffff).default(0),
  /** `tunnel`: entries of each service's Maglev table, a prime well above the number of backends. */
  tableSize: z
    .number()
    .int()
    .min(251)
    .max(1_000_003)
    .refine(isPrime, 'must be a prime (Maglev steps through the table with any skip only then)')
    .default(DEFAULT_TABLE_SIZE),
  /** `tunnel` forwarding: the encapsulation both sides use (`portlb backend-setup` reads the same block). */
  tunnel: tunnelSchema.prefault({}),
  /** How long a backend that left the ready set keeps its established flows before they are cut. */
  backendDrainSeconds: z.number().min(0).max(2_147_483).default(30),
  /** `portlb dataplane`'s own /healthz, /readyz and /metrics (the sidecar's are `server.listen`). */
  listen: listen.default('0.0.0.0:9404'),
  ipvs: z
    .strictObject({
      /** ipvs scheduler; `mh` is Maglev hashing. */
      scheduler: z
        .enum(['mh', 'sh', 'rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sed', 'nq', 'fo', 'ovf', 'twos'])
        .default('mh'),
      /** mh/sh: hash the client port too (`mh-port`), so one client's connections spread over backends. */
      hashPort: z.boolean().default(true),
      /** mh/sh: a flow whose backend is unavailable goes to the next one (`mh-fallback`). */
      fallback: z.boolean().default(true),
      /** How keepalived checks each real server. */
      check: z
        .strictObject({
          type: z.enum(['tcp', 'http']).default('tcp'),
          path: z
            .string()
            .startsWith('/')
            .regex(/^[!-~]+$/, 'must be printable ASCII without spaces')
            .default('/'),
          intervalSeconds: z.number().int().min(1).max(3600).default(1),
          timeoutSeconds: z.number().int().min(1).max(3600).default(1),
          retries: z.number().int().min(0).max(100).default(1),
        })
        .prefault({}),
      configFile: z.string().startsWith('/').default('/etc/keepalived/keepalived.conf'),
      pidFile: z.string().startsWith('/').default('/run/keepalived.pid'),
      /** The keepalived binary; its `--config-test` checks every config before keepalived reloads it. */
      command: z.string().min(1).default('keepalived'),
      testConfig: z.boolean().default(true),
    })
    .prefault({}),
});

/** The data plane as `portlb render` uses it when the config has no `dataPlane` section. */
export const DEFAULT_DATA_PLANE = dataPlaneSchema.parse({});

export const configSchema = z.strictObject({
  mode: z.enum(['auto', 'bgp', 'aws', 'gcp']),
  owner: name.default('portlb'),
  allowedVipPools: z.array(cidr).min(1, 'needs at least one pool'),
  /** Special-purpose ranges (special.ts) a VIP may use anyway, by category; none by default. */
  allowSpecialPurposeVips: z.array(z.enum(SPECIAL_PURPOSE_CATEGORIES)).default([]),
  clusterNetworks: z
    .strictObject({ nodes: z.array(cidr).default([]), pods: z.array(cidr).default([]) })
    .default({ nodes: [], pods: [] }),
  services: z.array(serviceSchema).min(1, 'needs at least one service'),
  targets: z.array(staticTargetSchema).default([]),
  bgp: bgpSchema.optional(),
  aws: awsSchema.optional(),
  gcp: gcpSchema.optional(),
  kubernetes: kubernetesSchema,
  dataPlane: dataPlaneSchema.optional(),
  nodeAgent: nodeAgentSchema.default({
    routeProtocol: DEFAULT_ROUTE_PROTOCOL,
    listen: '0.0.0.0:9403',
    blackholeSeconds: 10,
  }),
  health: healthSchema.default(healthSchema.parse({})),
  drain: z.strictObject({ seconds: z.number().min(0).max(3600).default(10) }).default({ seconds: 10 }),
  server: z.strictObject({ listen: listen.default('0.0.0.0:9402') }).default({ listen: '0.0.0.0:9402' }),
  reconcile: z
    .strictObject({
      resyncSeconds: seconds({ min: 1, max: DAY }).default(30),
      debounceMs: z.number().int().min(0).max(60_000, 'must be at most 60000 ms').default(200),
      /** external-dns's policies: `upsert-only` never deletes, `create-only` never replaces or deletes. */
      policy: z.enum(['sync', 'upsert-only', 'create-only']).default('sync'),
    })
    .superRefine((r, ctx) => {
      if (r.debounceMs >= r.resyncSeconds * 1000) {
        ctx.addIssue({
          code: 'custom',
          path: ['debounceMs'],
          message: `${r.debounceMs} ms is not below resyncSeconds (${r.resyncSeconds} s): events would wait longer than a full resync`,
        });
      }
    }, whenValid)
    .default({ resyncSeconds: 30, debounceMs: 200, policy: 'sync' }),
  log: z.strictObject({ level: logLevel.default('info') }).default({ level: 'info' }),
});

/** The Kubernetes Downward API, as the LB pod's manifest passes it in. */
export const identitySchema = z.object({
  POD_NAME: z.string().min(1).optional(),
  POD_NAMESPACE: z.string().min(1).optional(),
  POD_IP: address.optional(),
  NODE_NAME: z.string().min(1).optional(),
  HOST_IP: address.optional(),
});

export type ConfigInput = z.input<typeof configSchema>;
export type ParsedConfig = z.output<typeof configSchema>;
export type ServiceConfig = ParsedConfig['services'][number];
export type BgpConfig = NonNullable<ParsedConfig['bgp']>;
export type HealthConfig = ParsedConfig['health'];
export type KubernetesConfig = NonNullable<ParsedConfig['kubernetes']>;
export type DataPlaneConfig = z.output<typeof dataPlaneSchema>;
