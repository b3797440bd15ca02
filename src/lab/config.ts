import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
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

/** Every service announces to both RRs from its pod IP, with the node IP as next hop (paper Fig. 7). */
export function labConfigInput(
  state: LabState,
  services: readonly LabService[],
  listen?: string,
): ConfigInput {
  const backends = Array.from({ length: state.backends }, (_, j) => ({
    address: backendIp(j + 1),
    port: BACKEND_PORT,
  }));
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
    },
    health: { intervalSeconds: 0.5, timeoutSeconds: 0.5, rise: 1, fall: 2 },
    drain: { seconds: 1 },
    // React at once: the lab measures how fast a change reaches the router.
    reconcile: { resyncSeconds: 30, debounceMs: 10 },
    ...(listen !== undefined && { server: { listen } }),
  };
}

/** The config one LB pod's sidecar runs with: its own service, its health server on the pod IP. */
export function lbConfigInput(state: LabState, lb: LabLb): ConfigInput {
  const services = state.services.filter((s) => s.name === lb.service);
  return labConfigInput(state, services, `${lb.podIp}:${SIDECAR_PORT}`);
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
    state,
    state.services.length > 0 ? state.services : [{ name: 'web', vip: '10.1.1.0/24' }],
  );
  const file = join(dir, 'portlb-lab.yaml');
  await writeConfig(file, input);
  return parseConfig(input, {}, file);
}
