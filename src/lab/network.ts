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

/** A backend pod on the node network, with a route to every node's pods (the LBs' source NAT). */
export async function addBackendNs(store: StateStore, n: Names, j: number): Promise<void> {
  const ns = n.backend(j);
  await addNamespace(store, ns);
  await plug(ns, n.switch, 'br0', `n-web${j}`, [`${backendIp(j)}/24`]);
  for (let i = 1; i <= store.state.nodes; i++) {
    await routeToPods(n, j, i);
    await forgetNeighbor(n.node(i), backendIp(j), 'eth0');
  }
}

/**
 * A pod that comes back with an earlier one's address has a new MAC: the node must not keep
 * sending to the old one until its neighbour entry goes stale (up to a minute), as it would here.
 */
function forgetNeighbor(ns: string, address: string, dev: string): Promise<void> {
  return ip(ns, 'neigh', 'del', address, 'dev', dev).then(
    () => undefined,
    () => undefined,
  );
}

/**
 * Deletes a backend pod's namespace, its switch port first: the kernel frees a deleted
 * namespace's links later, and a new backend of the same name would find the port still there.
 */
export async function deleteBackendNs(n: Names, j: number): Promise<void> {
  await ip(n.switch, 'link', 'del', `n-web${j}`).catch(() => undefined);
  await deleteNamespace(n.backend(j));
}

function routeToPods(n: Names, j: number, i: number): Promise<string> {
  return ip(n.backend(j), 'route', 'replace', podCidr(i), 'via', nodeBackendNetIp(i));
}

/**
 * A node: on the node network (and the backend subnet beside it), forwarding for its pods on
 * cbr0. The RRs and backends get a route to its pod range: the lab's stand-in for the overlay
 * network the paper's route reflector sits on, so every LB pod has its own BGP session.
 */
export async function addNodeNs(store: StateStore, n: Names, i: number): Promise<void> {
  const ns = n.node(i);
  await addNamespace(store, ns);
  await plug(ns, n.switch, 'br0', `n-node${i}`, [`${nodeIp(i)}/24`, `${nodeBackendNetIp(i)}/24`]);
  await ip(ns, 'route', 'add', 'default', 'via', ROUTER_IP);
  await sysctl(ns, 'net.ipv4.ip_forward', 1);
  await ip(ns, 'link', 'add', 'cbr0', 'type', 'bridge');
  await ip(ns, 'addr', 'add', `${podGateway(i)}/24`, 'dev', 'cbr0');
  await ip(ns, 'link', 'set', 'cbr0', 'up');
  for (const rr of ROUTE_REFLECTORS) await ip(n.rr(rr), 'route', 'add', podCidr(i), 'via', nodeIp(i));
  for (const j of store.state.backends) await routeToPods(n, j, i);
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
  await addPodNs(store, n, { ns, node: lb.node, port: lbPort(lb.slot), podIp: lb.podIp });
  await forgetNeighbor(n.node(lb.node), lb.podIp, 'cbr0');
  await ip(ns, 'route', 'add', 'local', lb.vip, 'dev', 'lo');
  // The data plane forwards what it DNATs to the backends (a pod's securityContext.sysctls).
  await sysctl(ns, 'net.ipv4.ip_forward', 1);
  await ip(n.node(lb.node), 'route', 'replace', lb.vip, 'via', lb.podIp, 'dev', 'cbr0');
}

export async function removeLbRoute(n: Names, lb: { node: number; podIp: string; vip: string }) {
  await ip(n.node(lb.node), 'route', 'del', lb.vip, 'via', lb.podIp).catch(() => undefined);
}

const lbPort = (slot: number) => `v${slot}`;

/** Deletes an LB pod's namespace, its port on the node's bridge first (see deleteBackendNs). */
export async function deleteLbNs(n: Names, lb: { id: string; node: number; slot: number }): Promise<void> {
  await ip(n.node(lb.node), 'link', 'del', lbPort(lb.slot)).catch(() => undefined);
  await deleteNamespace(n.lb(lb.id));
}

/** An LB pod's network, as its sandbox has it: down when the pod is gone at once (a crash of the pod). */
export function setLbLink(n: Names, lb: { node: number; slot: number }, up: boolean): Promise<string> {
  return ip(n.node(lb.node), 'link', 'set', lbPort(lb.slot), up ? 'up' : 'down');
}

/** Silent node death: its switch port goes down, nothing is closed, only hold timers notice. */
export function setNodeLink(n: Names, i: number, up: boolean): Promise<string> {
  return ip(n.switch, 'link', 'set', `n-node${i}`, up ? 'up' : 'down');
}

const QOS_TABLE = 'portlb-lab-qos';

/**
 * The paper's per-LB NIC (1 Gbps there), scaled to what 2 cores can fill: a rate limit (htb) on
 * each node's link towards the node network, which carries every response its LB pods send, with
 * 50 ms of queue. Packets
 * under 512 bytes (handshakes, ACKs, health probes, short answers) go first, the lab's stand-in
 * for the flow queueing a Linux NIC has by default (fq_codel), which this kernel lacks: without it
 * a link filled by long transfers queues a health probe behind them. `undefined` removes it.
 */
export async function shapeLink(ns: string, mbit: number | undefined): Promise<void> {
  const tc = (...args: string[]) => run(['tc', ...args], { ns });
  await tc('qdisc', 'del', 'dev', 'eth0', 'root').catch(() => undefined);
  await run(['nft', 'delete', 'table', 'inet', QOS_TABLE], { ns }).catch(() => undefined);
  if (mbit === undefined) return;
  const rate = (share: number) => `${Math.max(1, Math.round(mbit * share * 1000))}kbit`;
  // 10 ms of traffic at the full rate (at least 16 KiB): htb's own default is one packet.
  const burst = `${Math.max(16 * 1024, Math.round((mbit * 1e6) / 8 / 100))}`;
  const cls = (id: string, parent: string, share: number, prio?: number) =>
    tc(
      'class',
      'add',
      'dev',
      'eth0',
      'parent',
      parent,
      'classid',
      id,
      'htb',
      'rate',
      rate(share),
      'ceil',
      rate(1),
      'burst',
      burst,
      'cburst',
      burst,
      'quantum',
      '60000',
      ...(prio === undefined ? [] : ['prio', `${prio}`]),
    );
  await tc('qdisc', 'add', 'dev', 'eth0', 'root', 'handle', '1:', 'htb', 'default', '20');
  await cls('1:1', '1:', 1);
  await cls('1:10', '1:1', 0.2, 0);
  await cls('1:20', '1:1', 0.8, 1);
  // 50 ms of queue, as a switch port has, not a thousand packets (of up to 64 KiB after GRO):
  // a queue of seconds makes TCP retransmit what was only waiting, and the waste halves goodput.
  const queue = `${Math.max(64 * 1024, Math.round((mbit * 1e6) / 8 / 20))}`;
  for (const leaf of ['10', '20']) {
    await tc(
      'qdisc',
      'add',
      'dev',
      'eth0',
      'parent',
      `1:${leaf}`,
      'handle',
      `${leaf}:`,
      'bfifo',
      'limit',
      queue,
    );
  }
  await run(['nft', '-f', '-'], {
    ns,
    input: `table inet ${QOS_TABLE} {\n  chain postrouting {\n    type filter hook postrouting priority 0; policy accept;\n    meta length < 512 meta priority set 1:10\n  }\n}\n`,
  });
}
