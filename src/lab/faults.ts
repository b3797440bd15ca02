import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import { run } from '../system/exec.js';
import type { Lab } from './lab.js';
import { lbRunning, restartDataPlane } from './lb.js';
import type { StateStore } from './state.js';

/*
 * Faults of an LB's data plane, to watch what portlb does about them (docs/lab.md):
 *   nft-fails  its data plane runs with an nft that refuses every transaction: the old rules stay
 *              and serve, it reports the failure (/readyz degraded, logs, metrics), and the sidecar,
 *              whose probe goes through those rules, keeps announcing;
 *   flush      its table is deleted: nothing serves, the probe fails, the sidecar withdraws (and
 *              with nft-fails the data plane cannot put the table back);
 *   clear      no fault: its data plane starts again and writes its rules.
 */

export const FAULTS = ['nft-fails', 'flush', 'clear'] as const;
export type Fault = (typeof FAULTS)[number];

export const faultBin = (store: StateStore): string => join(store.dir, 'faults', 'bin');

const FAILING_NFT = `#!/bin/sh
# written by portlb lab (lab fault LB nft-fails): every transaction fails; reading still works
for a in "$@"; do
  if [ "$a" = "-f" ]; then echo "Error: injected by portlb lab fault nft-fails" >&2; exit 1; fi
done
exec /usr/sbin/nft "$@"
`;

export async function injectFault(lab: Lab, id: string, fault: Fault): Promise<string> {
  const { store, names: n } = lab;
  const lb = store.state.lbs.find((l) => l.id === id);
  if (lb === undefined) throw new ConfigError(`no LB ${id}; see portlb lab status`);
  if (fault === 'flush') {
    await run(['nft', 'delete', 'table', 'inet', 'portlb'], { ns: n.lb(lb.id) });
    return `${id}: its nftables table deleted (nothing serves until its data plane writes it again)`;
  }
  if (fault === 'nft-fails') {
    // The failing nft is put first on the data plane's PATH: an image has its own.
    if (store.state.images)
      throw new ConfigError('nft-fails needs the data plane outside an image: a lab up without --images');
    await mkdir(faultBin(store), { recursive: true, mode: 0o755 });
    const nft = join(faultBin(store), 'nft');
    await writeFile(nft, FAILING_NFT);
    await chmod(nft, 0o755);
  }
  await store.update((s) => {
    const others = (s.dataPlaneFaults ?? []).filter((x) => x !== id);
    s.dataPlaneFaults = fault === 'nft-fails' ? [...others, id] : others;
  });
  if (await lbRunning(store, lb)) await restartDataPlane(store, n, lb);
  return fault === 'clear'
    ? `${id}: data plane restarted without faults`
    : `${id}: data plane restarted with an nft that refuses every transaction`;
}
