import { existsSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { ip, run } from '../system/exec.js';
import {
  BFD_SINGLE_HOP_PORT,
  backendIp,
  CLIENT_IP,
  type Names,
  nodeBackendNetIp,
  nodeIp,
  podCidr,
  podGateway,
  ROUTE_REFLECTORS,
  ROUTER_CLIENT_IP,
  ROUTER_IP,
} from './layout.js';
import type { StateStore } from './state.js';

/**
 * Records the namespace first, then creates it: `down` finds it even if we crash right here. One
 * that exists already is someone else's (another lab's): refused, never recorded, so never deleted.
 */
export async function addNamespace(store: StateStore, ns: string): Promise<void> {
  if (existsSync(`/run/netns/${ns}`)) {
    throw new ConfigError(`network namespace ${ns} exists already (another lab? use another --prefix)`);
  }
  await store.update((s) => {
    if (!s.namespaces.includes(ns)) s.namespaces.push(ns);
  });
  await ip(undefined, 'netns', 'add', ns);
  await ip(ns, 'link', 'set', 'lo', 'up');
}

export async function deleteNamespace(ns: string): Promise<void> {
  await ip(undefined, 'netns', 'del', ns).catch(() => undefined);
}

export function sysctl(ns: string, key: string, value: string | number): Promise<string> {
  return run(['sysctl', '-qw', `${key}=${value}`], { ns });
}

/** A veth pair with one end in each namespace. */
function veth(nsA: string, nameA: string, nsB: string, nameB: string): Promise<string> {
  return ip(
    undefined,
    'link',
    'add',
    nameA,
    'netns',
    nsA,
    'type',
    'veth',
    'peer',
    'name',
    nameB,
    'netns',
    nsB,
  );
}

/** A veth from `ns` (as eth0) into a bridge in `bridgeNs`, with addresses on the ns side. */
async function plug(ns: string, bridgeNs: string, bridge: string, port: string, addrs: string[]) {
  await veth(ns, 'eth0', bridgeNs, port);
  await ip(bridgeNs, 'link', 'set', port, 'master', bridge, 'up');
  for (const a of addrs) await ip(ns, 'addr', 'add', a, 'dev', 'eth0');
  await ip(ns, 'link', 'set', 'eth0', 'up');
}

/** The node network's switch (a bridge in its own namespace), the router, the client, the RRs. */
export async function buildCore(store: StateStore, n: Names): Promise<void> {
  await addNamespace(store, n.switch);
  await ip(n.switch, 'link', 'add', 'br0', 'type', 'bridge');
  await ip(n.switch, 'link', 'set', 'br0', 'up');

  await addNamespace(store, n.router);
  await plug(n.router, n.switch, 'br0', 'n-router', [`${ROUTER_IP}/24`]);
  await sysctl(n.router, 'net.ipv4.ip_forward', 1);
  // Hash on L4 ports too, so flows from one client spread over every LB (paper section 4.1).
  await sysctl(n.router, 'net.ipv4.fib_multipath_hash_policy', 1);

  await addNamespace(store, n.client);
  await veth(n.client, 'eth0', n.router, 'eth1');
  await ip(n.client, 'addr', 'add', `${CLIENT_IP}/24`, 'dev', 'eth0');
  await ip(n.client, 'link', 'set', 'eth0', 'up');
  await ip(n.client, 'route', 'add', 'default', 'via', ROUTER_CLIENT_IP);
  await ip(n.router, 'addr', 'add', `${ROUTER_CLIENT_IP}/24`, 'dev', 'eth1');
  await ip(n.router, 'link', 'set', 'eth1', 'up');

  for (const rr of ROUTE_REFLECTORS) {
    const ns = n.rr(rr);
    await addNamespace(store, ns);
    await plug(ns, n.switch, 'br0', `n-${rr.name}`, [`${rr.address}/24`]);
  }
}

export async function addBackendNs(store: StateStore, n: Names, j: number): Promise<void> {
  const ns = n.backend(j);
  await addNamespace(store, ns);
  await plug(ns, n.switch, 'br0', `n-web${j}`, [`${backendIp(j)}/24`]);
}

/**
 * A node: on the node network (and the backend subnet beside it), forwarding for its pods on
 * cbr0. The RRs and backends get a route to its pod range: the lab's stand-in for the overlay
 * network the paper's route reflector sits on, so every LB pod has its own BGP session.
 */
export async function addNodeNs(store: StateStore, n: Names, i: number, backends: number): Promise<void> {
  const ns = n.node(i);
  await addNamespace(store, ns);
  await plug(ns, n.switch, 'br0', `n-node${i}`, [`${nodeIp(i)}/24`, `${nodeBackendNetIp(i)}/24`]);
  await ip(ns, 'route', 'add', 'default', 'via', ROUTER_IP);
  await sysctl(ns, 'net.ipv4.ip_forward', 1);
  await ip(ns, 'link', 'add', 'cbr0', 'type', 'bridge');
  await ip(ns, 'addr', 'add', `${podGateway(i)}/24`, 'dev', 'cbr0');
  await ip(ns, 'link', 'set', 'cbr0', 'up');
  for (const rr of ROUTE_REFLECTORS) await ip(n.rr(rr), 'route', 'add', podCidr(i), 'via', nodeIp(i));
  for (let j = 1; j <= backends; j++) {
    await ip(n.backend(j), 'route', 'add', podCidr(i), 'via', nodeBackendNetIp(i));
  }
  if (store.state.bfd) await keepBfdTtl(ns);
}

/**
 * Single-hop BFD (RFC 5881, all GoBGP has) drops packets whose TTL is not 255, and the lab's pods
 * sit one routed hop behind their node. The node restores the TTL of single-hop BFD packets it
 * forwards: the lab's stand-in for LB speakers on the route reflector's own link (host-network LB
 * pods, or pods bridged onto the node network), where single-hop BFD is what runs.
 */
async function keepBfdTtl(ns: string): Promise<void> {
  const nft = (command: string) => run(['nft', ...command.split(' ')], { ns });
  await nft('add table ip portlb-lab');
  await nft('add chain ip portlb-lab forward { type filter hook forward priority mangle ; policy accept ; }');
  await nft(`add rule ip portlb-lab forward udp dport ${BFD_SINGLE_HOP_PORT} ip ttl set 255`);
}

/** A pod: a namespace on its node's cbr0 (port `port`), with the node as its default gateway. */
export async function addPodNs(
  store: StateStore,
  n: Names,
  pod: { ns: string; node: number; port: string; podIp: string },
): Promise<void> {
  await addNamespace(store, pod.ns);
  await plug(pod.ns, n.node(pod.node), 'cbr0', pod.port, [`${pod.podIp}/24`]);
  await ip(pod.ns, 'route', 'add', 'default', 'via', podGateway(pod.node));
}

/**
 * An LB pod. The VIP range is local inside the pod and routed to the pod on the node (paper
 * Fig. 7b), so traffic the router sends to the node IP reaches the LB.
 */
export async function addLbNs(
  store: StateStore,
  n: Names,
  lb: { id: string; node: number; slot: number; podIp: string; vip: string },
): Promise<void> {
  const ns = n.lb(lb.id);
  await addPodNs(store, n, { ns, node: lb.node, port: `v${lb.slot}`, podIp: lb.podIp });
  await ip(ns, 'route', 'add', 'local', lb.vip, 'dev', 'lo');
  await ip(n.node(lb.node), 'route', 'replace', lb.vip, 'via', lb.podIp, 'dev', 'cbr0');
}

export async function removeLbRoute(n: Names, lb: { node: number; podIp: string; vip: string }) {
  await ip(n.node(lb.node), 'route', 'del', lb.vip, 'via', lb.podIp).catch(() => undefined);
}

/** Silent node death: its switch port goes down, nothing is closed, only hold timers notice. */
export function setNodeLink(n: Names, i: number, up: boolean): Promise<string> {
  return ip(n.switch, 'link', 'set', `n-node${i}`, up ? 'up' : 'down');
}
