import { execFileSync } from 'node:child_process';

/** The lab needs root and the Debian peers; say which is missing instead of failing obscurely. */
export function labUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  for (const bin of [
    'exabgp',
    'gobgpd',
    'gobgp',
    'vtysh',
    '/usr/lib/frr/zebra',
    '/usr/lib/frr/bgpd',
    'curl',
  ]) {
    try {
      execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    } catch {
      return `${bin} is not installed (scripts/setup.sh)`;
    }
  }
  return undefined;
}
