/**
 * `npm run bench:dataplane` (root; run it under the shared lock): how long the nftables data plane
 * takes to put a backend change into the kernel (render, read the table, `nft -f` the whole table,
 * read it back) and what a sync costs when nothing changed, for 2 to 8,192 backends, in a network
 * namespace of its own with the real nft. Prints median and p90 over the rounds.
 */
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { Registry } from 'prom-client';
import { parseConfig } from '../src/config/load.js';
import type { SyncOutcome } from '../src/dataplane/controller.js';
import { createDataPlane } from '../src/dataplane/create.js';
import { silentLogger } from '../src/runtime/logger.js';
import type { Backend, BackendSource } from '../src/sources/backends.js';

const SIZES = [2, 64, 1024, 8192];
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 21);
const ns = `plbdp-bench-${process.pid}`;

const backendAt = (i: number): Backend => ({ address: `10.98.${i >> 8}.${i & 255}`, port: 8080 });

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

/** A bench that measured a refused list or a sync that wrote nothing would measure the wrong thing. */
async function expectOutcome(sync: Promise<SyncOutcome>, action: string, backends: number): Promise<void> {
  const outcome = await sync;
  const got = outcome.writers[0]?.outcome.action;
  const written = outcome.model?.services[0]?.backends.length;
  if (got !== action || written !== backends) {
    throw new Error(`expected ${action} with ${backends} backends, got ${got} with ${written}`);
  }
}

async function measure(size: number): Promise<{ change: number[]; unchanged: number[] }> {
  const config = parseConfig(
    {
      mode: 'bgp',
      owner: 'bench',
      allowedVipPools: ['10.1.0.0/16'],
      services: [
        { name: 'web', vip: '10.1.1.0/24', ports: [{ port: 80 }], backends: { static: [backendAt(0)] } },
      ],
      bgp: { localAs: 65000, peers: [{ address: '10.99.0.2', as: 65000 }] },
      dataPlane: {},
    },
    {},
  );
  let list = Array.from({ length: size }, (_, i) => backendAt(i));
  const backends: BackendSource = { backends: () => list, onChange: () => () => {} };
  const controller = createDataPlane({
    config,
    backends,
    logger: silentLogger(),
    registry: new Registry(),
    netns: ns,
  });
  await controller.sync('warm-up');
  const change: number[] = [];
  const unchanged: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    // One backend leaves (or comes back): a different rule set each round.
    list = round % 2 === 0 ? list.slice(1) : [backendAt(0), ...list];
    change.push(await timed(() => expectOutcome(controller.sync('change'), 'applied', list.length)));
    unchanged.push(await timed(() => expectOutcome(controller.sync('resync'), 'unchanged', list.length)));
  }
  return { change, unchanged };
}

execFileSync('ip', ['netns', 'add', ns]);
try {
  console.log(`nftables data plane, ${ROUNDS} rounds per size (median / p90, ms)`);
  console.log('backends  backend change -> rules in place   sync with nothing to change');
  for (const size of SIZES) {
    const { change, unchanged } = await measure(size);
    const show = (v: number[]) => `${quantile(v, 0.5).toFixed(1)} / ${quantile(v, 0.9).toFixed(1)}`;
    console.log(
      `${String(size).padStart(8)}  ${show(change).padStart(32)}   ${show(unchanged).padStart(27)}`,
    );
  }
} finally {
  execFileSync('ip', ['netns', 'del', ns]);
}
