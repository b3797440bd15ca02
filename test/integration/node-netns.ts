/**
 * A stand-in for a node's network namespace, for the node agent's tests: a namespace `plbn-...`
 * with a veth `cni0` carrying the pod subnets 10.244.1.0/24 and fd00:244::/64, as a bridge CNI
 * would on a real node. Deleted by the test's afterAll, and by an exit hook if the run dies first.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { ip } from '../../src/system/exec.js';

export const POD_GATEWAY_V4 = '10.244.1.1';
export const POD_GATEWAY_V6 = 'fd00:244::1';

export interface NodeNetns {
  readonly name: string;
  ip(...args: string[]): Promise<string>;
  /** `ip -json route show exact VIP` (both families), protocols as numbers. */
  route(vip: string): Promise<{ protocol?: string; gateway?: string; nexthops?: { gateway: string }[] }[]>;
  /** Next hops of the route to a VIP, sorted; none when there is no route. */
  nexthops(vip: string): Promise<string[]>;
  remove(): Promise<void>;
}

const created = new Set<string>();
process.once('exit', () => {
  for (const name of created) {
    try {
      execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
});

export async function createNodeNetns(): Promise<NodeNetns> {
  const name = `plbn-${randomBytes(4).toString('hex')}`;
  created.add(name);
  await ip(undefined, 'netns', 'add', name);
  const inNs = (...args: string[]) => ip(name, ...args);
  await inNs('link', 'set', 'lo', 'up');
  await inNs('link', 'add', 'cni0', 'type', 'veth', 'peer', 'name', 'cni0p');
  await inNs('link', 'set', 'cni0', 'up');
  await inNs('link', 'set', 'cni0p', 'up');
  await inNs('addr', 'add', `${POD_GATEWAY_V4}/24`, 'dev', 'cni0');
  await inNs('-6', 'addr', 'add', `${POD_GATEWAY_V6}/64`, 'dev', 'cni0', 'nodad');
  const route = async (vip: string) =>
    JSON.parse(await inNs(vip.includes(':') ? '-6' : '-4', '-N', '-json', 'route', 'show', 'exact', vip));
  return {
    name,
    ip: inNs,
    route,
    async nexthops(vip) {
      const [first] = await route(vip);
      if (first === undefined) return [];
      const hops: string[] = first.nexthops?.map((h: { gateway: string }) => h.gateway) ?? [first.gateway];
      return hops.sort();
    },
    async remove() {
      await ip(undefined, 'netns', 'del', name);
      created.delete(name);
    },
  };
}

/** Names of the network namespaces that exist now. */
export async function netnsList(): Promise<string[]> {
  return (await ip(undefined, 'netns', 'list'))
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter(Boolean);
}
