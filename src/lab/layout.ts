/**
 * The lab's names and addresses (paper Fig. 5 and 11), computed, never stored twice. Everything
 * lives in namespaces the lab creates, so these private ranges never touch the host's network:
 *
 *   10.97.0.0/24  client <-> router link          10.99.0.0/24  node network (router .1, RRs .2 .3, nodes .11+)
 *   10.98.0.0/24  backends, on the node network    10.244.N.0/24 pods on node N (bridge cbr0, like docker0)
 *   10.1.S.0/24   VIP range of service S
 */

export const LAB_AS = 65000;
export const NODE_NET = '10.99.0.0/24';
export const POD_NET = '10.244.0.0/16';
export const ROUTER_IP = '10.99.0.1';
export const ROUTER_CLIENT_IP = '10.97.0.1';
export const CLIENT_IP = '10.97.0.2';
export const SIDECAR_PORT = 9402;
export const BACKEND_PORT = 8080;
/** Single-hop BFD control packets (RFC 5881); multihop ones use 4784. */
export const BFD_SINGLE_HOP_PORT = 3784;
export const MAX_NODES = 40;
export const MAX_BACKENDS = 40;

export type RrFlavor = 'gobgp' | 'frr';

export interface RouteReflector {
  readonly name: string;
  readonly flavor: RrFlavor;
  readonly address: string;
}

/** Both flavors at once: the paper's gobgp, and FRR, each alone able to carry every path. */
export const ROUTE_REFLECTORS: readonly RouteReflector[] = [
  { name: 'rr-gobgp', flavor: 'gobgp', address: '10.99.0.2' },
  { name: 'rr-frr', flavor: 'frr', address: '10.99.0.3' },
];

export interface Names {
  readonly prefix: string;
  readonly switch: string;
  readonly router: string;
  readonly client: string;
  rr(rr: RouteReflector): string;
  node(index: number): string;
  backend(index: number): string;
  lb(id: string): string;
  /** An ordinary pod: no LB (the policy tests' speakers). */
  pod(name: string): string;
}

/** Namespace names; a prefix keeps ours apart (`plb-` by default, tests use their own). */
export function names(prefix: string): Names {
  return {
    prefix,
    switch: `${prefix}sw`,
    router: `${prefix}router`,
    client: `${prefix}client`,
    rr: (rr) => `${prefix}${rr.name}`,
    node: (i) => `${prefix}node${i}`,
    backend: (i) => `${prefix}web${i}`,
    lb: (id) => `${prefix}lb-${id}`,
    pod: (name) => `${prefix}pod-${name}`,
  };
}

export const nodeName = (i: number): string => `node${i}`;
export const nodeIp = (i: number): string => `10.99.0.${10 + i}`;
export const nodeBackendNetIp = (i: number): string => `10.98.0.${10 + i}`;
export const podCidr = (i: number): string => `10.244.${i}.0/24`;
export const podGateway = (i: number): string => `10.244.${i}.1`;
export const podIp = (node: number, slot: number): string => `10.244.${node}.${10 + slot}`;
export const backendName = (j: number): string => `web${j}`;
export const backendIp = (j: number): string => `10.98.0.${20 + j}`;
/** The VIP range of the n-th service (1-based), as in Fig. 12: 10.1.1.0/24, 10.1.2.0/24, ... */
export const serviceVip = (n: number): string => `10.1.${n}.0/24`;
export const lbId = (service: string, k: number): string => `${service}-${k}`;
/** Pod slots 1..49 are the LB pods'; ordinary pods (the policy tests' speakers) start here. */
export const ORDINARY_POD_SLOT = 50;

/** The node index back from a next hop on the node network, or undefined for another address. */
export function nodeIndexOf(address: string): number | undefined {
  const m = /^10\.99\.0\.(\d+)$/.exec(address);
  if (!m) return undefined;
  const i = Number(m[1]) - 10;
  return i >= 1 && i <= MAX_NODES ? i : undefined;
}
