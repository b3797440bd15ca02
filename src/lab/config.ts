import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { type Config, parseConfig } from '../config/load.js';
import type { ConfigInput } from '../config/schema.js';
import { PermanentError } from '../errors.js';
import { renderers } from '../render/index.js';
import {
  BACKEND_PORT,
  backendIp,
  LAB_AS,
  NODE_NET,
  nodeIp,
  nodeName,
  POD_NET,
  ROUTE_REFLECTORS,
  ROUTER_IP,
  SIDECAR_PORT,
} from './layout.js';
import type { LabLb, LabService, LabState } from './state.js';

/** Every LB of a service must hash flows alike (docs/dataplane.md): one seed for the lab. */
export const LAB_FLOW_SEED = 0x5eed;
export const DATAPLANE_PORT = 9404;
/** The LBs' withdraw confirmation: the router's FIB, asked by a script the lab writes (lab up). */
export const CONFIRM_SCRIPT = 'confirm-withdrawn.sh';

/**
 * Every service announces to both RRs from its pod IP, with the node IP as next hop (paper Fig. 7),
 * and forwards to the backends through its own data plane (nftables, source NAT), which the
 * health probe goes through: an LB whose rules cannot serve withdraws.
 */
export function labConfigInput(
  dir: string,
  state: LabState,
  services: readonly LabService[],
  lb?: Pick<LabLb, 'podIp'>,
): ConfigInput {
  const backends = state.backends.map((j) => ({ address: backendIp(j), port: BACKEND_PORT }));
  return {
    mode: 'bgp',
    owner: 'lab',
    allowedVipPools: ['10.1.0.0/16'],
    // LB next hops are node IPs; LB sessions come from pod IPs.
    clusterNetworks: { nodes: [NODE_NET], pods: [POD_NET] },
    services: services.map((s) => ({
      name: s.name,
      vip: s.vip,
      ports: [{ port: 80 }],
      backends: { static: backends },
    })),
    targets: Array.from({ length: state.nodes }, (_, i) => ({
      node: nodeName(i + 1),
      address: nodeIp(i + 1),
    })),
    bgp: {
      localAs: LAB_AS,
      // Two LB pods on one node must not share a router id.
      routerId: 'pod-ip',
      nextHop: 'node',
      holdTime: state.holdTime,
      peers: ROUTE_REFLECTORS.map((rr) => ({
        address: rr.address,
        as: LAB_AS,
        ...(state.md5KeyFile !== undefined && { passwordFile: state.md5KeyFile }),
      })),
      topology: { router: { address: ROUTER_IP } },
      // Each LB pod has its own session, from its pod IP; the node range would also hold the router.
      policy: { listenRanges: [POD_NET] },
      // GoBGP's BFD is single-hop; FRR's bgpd runs multihop BFD towards iBGP speakers off its subnet.
      ...(state.bfd !== undefined && {
        bfd: {
          ...(state.bfd.intervalMs !== undefined && { intervalMs: state.bfd.intervalMs }),
          singleHop: ROUTE_REFLECTORS.filter((rr) => rr.flavor === 'gobgp').map((rr) => rr.address),
        },
      }),
      // SIGTERM: withdraw, then wait until the router's FIB no longer uses this node (docs/bgp.md).
      shutdown: {
        nextHopWaitSeconds: 10,
        ...(state.confirmWithdraw !== false && {
          confirm: { command: ['/bin/sh', resolve(dir, CONFIRM_SCRIPT)], intervalMs: 50 },
        }),
      },
    },
    dataPlane: {
      kind: 'nftables',
      forwarding: 'nat',
      seed: LAB_FLOW_SEED,
      backendDrainSeconds: 10,
      ...(lb !== undefined && { listen: `${lb.podIp}:${DATAPLANE_PORT}` }),
    },
    health: {
      probe: { type: 'http', through: 'vip', path: '/' },
      // The probe shares the LB's link with the traffic (its small packets go first there, see
      // shapeLink): one probe lost on a full link is no reason to withdraw; three in a row are.
      // The timeout is at most the interval (a probe ends before the next is due).
      intervalSeconds: 0.5,
      timeoutSeconds: 0.5,
      rise: 1,
      fall: 3,
    },
    drain: { seconds: state.drainSeconds ?? 2 },
    // React at once: the lab measures how fast a change reaches the router.
    reconcile: { resyncSeconds: 30, debounceMs: 10 },
    ...(lb !== undefined && { server: { listen: `${lb.podIp}:${SIDECAR_PORT}` } }),
  };
}

/** The config one LB pod's sidecar and data plane run with: its own service, its servers on the pod IP. */
export function lbConfigInput(dir: string, state: LabState, lb: LabLb): ConfigInput {
  const services = state.services.filter((s) => s.name === lb.service);
  return labConfigInput(dir, state, services, lb);
}

/**
 * The router's kernel FIB as the withdraw confirmation: exit 0 once the router routes
 * $PORTLB_VIP via no $PORTLB_NEXT_HOP, 1 while it still does, 2 when it cannot tell. A real
 * network asks its router's API or the route reflectors' adj-out instead (docs/bgp.md).
 */
export function confirmScript(routerNs: string): string {
  return `#!/bin/sh
# written by portlb lab: bgp.shutdown.confirm for every LB (docs/bgp.md)
routes=$(ip -n ${routerNs} -o route show exact "$PORTLB_VIP") || exit 2
case "$routes " in *"via $PORTLB_NEXT_HOP "*) exit 1 ;; esac
exit 0
`;
}

export function lbEnv(lb: LabLb): Record<string, string> {
  return { NODE_NAME: nodeName(lb.node), HOST_IP: nodeIp(lb.node), POD_IP: lb.podIp };
}

export async function writeConfig(file: string, input: ConfigInput): Promise<void> {
  await writeFile(file, `# written by portlb lab\n${stringify(input)}`);
}

/** `portlb render PEER` in-process, on the config written beside the result. */
export function render(
  peer: string,
  config: Config,
  options: Record<string, string | undefined> = {},
): string {
  const renderer = renderers[peer];
  if (renderer === undefined)
    throw new PermanentError(`portlb render ${peer} is not available in this build`);
  return renderer(config, options);
}

/** Writes the lab-wide config (what the RRs and router are rendered from) and parses it back. */
export async function writeLabConfig(dir: string, state: LabState): Promise<Config> {
  const input = labConfigInput(
    dir,
    state,
    state.services.length > 0 ? state.services : [{ name: 'web', vip: '10.1.1.0/24' }],
  );
  const file = join(dir, 'portlb-lab.yaml');
  await writeConfig(file, input);
  return parseConfig(input, {}, file);
}
