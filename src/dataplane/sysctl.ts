import type { PlaneModel } from './model.js';
import type { DataPlaneSystem } from './system.js';

interface Requirement {
  readonly path: string;
  readonly why: string;
  /** The values that work (`1` when absent). */
  readonly ok?: readonly string[];
}

/** The settings forwarding needs in the LB's network namespace: a sysctl path and why. */
function required(model: PlaneModel): Requirement[] {
  if (model.forwarding === 'tunnel') {
    // netdev `fwd` (nftables) and ipvs TUN send before the IP layer forwards anything: no
    // ip_forward. The LB's own connections through the tunnel get their answers from the VIP,
    // which routes into the tunnel device: strict rp_filter would drop them.
    if (model.kind !== 'nftables' || !model.tunnel.ownTraffic) return [];
    return ['all', ...model.tunnel.interfaces].map((dev) => ({
      path: `/proc/sys/net/ipv4/conf/${dev}/rp_filter`,
      why: "accept the answers to the LB's own connections through the tunnel (they come from the VIP)",
      ok: ['0', '2'],
    }));
  }
  const families = new Set(model.services.map((s) => (s.vip.includes(':') ? 6 : 4)));
  return [
    ...(families.has(4)
      ? [{ path: '/proc/sys/net/ipv4/ip_forward', why: 'forward IPv4 to the backends' }]
      : []),
    ...(families.has(6)
      ? [{ path: '/proc/sys/net/ipv6/conf/all/forwarding', why: 'forward IPv6 to the backends' }]
      : []),
    ...(model.kind === 'ipvs'
      ? [{ path: '/proc/sys/net/ipv4/vs/conntrack', why: 'let nftables masquerade the flows ipvs forwards' }]
      : []),
  ];
}

/**
 * Why the kernel would not forward what the rules say, one reason per sysctl that is off. portlb
 * does not set them: /proc/sys is read-only in a container; the pod spec or its node does it.
 */
export async function sysctlProblems(
  system: Pick<DataPlaneSystem, 'readProc'>,
  model: PlaneModel,
): Promise<string[]> {
  const problems: string[] = [];
  for (const { path, why, ok = ['1'] } of required(model)) {
    const value = (await system.readProc(path))?.trim();
    if (value === undefined || !ok.includes(value)) {
      const name = path.replace('/proc/sys/', '').replaceAll('/', '.');
      problems.push(`${name} is ${value ?? 'missing'}, not ${ok.join(' or ')}: the kernel will not ${why}`);
    }
  }
  return problems;
}
