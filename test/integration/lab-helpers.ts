import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gobgpBinary } from '../../src/lab/gobgp.js';
import { labDown } from '../../src/lab/lab.js';

/** The lab needs root and the Debian peers; say which is missing instead of failing obscurely. */
export function labUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  for (const bin of [
    'exabgp',
    gobgpBinary('gobgpd'),
    gobgpBinary('gobgp'),
    'vtysh',
    '/usr/lib/frr/zebra',
    '/usr/lib/frr/bgpd',
    '/usr/lib/frr/bfdd',
    'nft',
    'curl',
    '/usr/sbin/nginx',
  ]) {
    try {
      execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    } catch {
      return `${bin} is not installed (scripts/setup.sh; GoBGP v4: scripts/build-gobgp.sh)`;
    }
  }
  return undefined;
}

/** A run directory FRR and exabgp (their own users) can enter; `remove` takes the lab down first. */
export async function labRunDir(name: string): Promise<{ dir: string; remove: () => Promise<void> }> {
  const parent = await mkdtemp(join(tmpdir(), `portlb-lab-${name}-`));
  await chmod(parent, 0o755);
  const dir = join(parent, 'run');
  return {
    dir,
    remove: async () => {
      await labDown(dir, () => {});
      await rm(parent, { recursive: true, force: true });
    },
  };
}
