import type { PlaneModel } from './model.js';
import type { DataPlaneSystem } from './system.js';

/** The settings NAT forwarding needs in the LB's network namespace: a sysctl path and why. */
function required(model: PlaneModel): { readonly path: string; readonly why: string }[] {
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
  for (const { path, why } of required(model)) {
    const value = (await system.readProc(path))?.trim();
    if (value !== '1') {
      const name = path.replace('/proc/sys/', '').replaceAll('/', '.');
      problems.push(`${name} is ${value ?? 'missing'}, not 1: the kernel will not ${why}`);
    }
  }
  return problems;
}
