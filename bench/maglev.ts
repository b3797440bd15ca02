/**
^ * `npm run bench:maglev` (root for the nft part; run it under the shared
 * lock): what the Maglev table size M costs and buys.
 *
 * 1. The table alone (pure): share of buckets that move when one backend is added at a random
 *    place in the canonical list or one is removed (mean and worst over seeds), the spread of
 *    entries per backend, build time; for M in SIZES and N backends.
 * 2. In the kernel (a network namespace of its own, the real nft, the tunnel writers): the size of
 *    the script, the time to create the table, to apply a backend change (one transaction that
 *    keeps the flow maps), and to read it back (the terse table plus the Maglev map).
 * 3. `backendChange` for one backend add from 2 to 3 and 4 to 5 backends (the integration test's
 *    and the lab's shapes) with the default size: the figure `bench:traffic --survival` reports.
 */
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { Registry } from 'prom-client';
import { parseConfig } from '../src/config/load.js';
import {
  buildMaglevTable,
  DEFAULT_TABLE_SIZE,
  entriesPerBackend,
  movedFraction,
} from '../src/core/maglev.js';
import { createDataPlaneController } from '../src/dataplane/controller.js';
import type { PlaneBackend } from '../src/dataplane/model.js';
import { readLiveTable } from '../src/dataplane/nftables-writer.js';
import { renderNftables } from '../src/dataplane/render-nftables.js';
import { createSystem } from '../src/dataplane/system.js';
import { backendChange } from '../src/dataplane/tunnel.js';
import { createWriters } from '../src/dataplane/writers.js';
import { silentLogger } from '../src/runtime/logger.js';
import type { Backend, BackendSource } from '../src/sources/backends.js';

const SIZES = [1021, 4093, 16_381, 65_537];
const COUNTS = [2, 4, 10, 32, 100, 320, 1000];
const SEEDS = Number(process.env.BENCH_SEEDS ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const KERNEL_BACKENDS = 100;
const ns = `plbmg-bench-${process.pid}`;

const name = (i: number) => `10.98.${i >> 8}.${i & 255}:8080`;
const backendAt = (i: number): Backend => ({ address: `10.98.${i >> 8}.${(i & 255) + 0}`, port: 8080 });
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] ?? Number.NaN;

let state = 0x2545f491;
const random = () => {
  state = (Math.imul(state, 1103515245) + 12345) >>> 0;
  return state / 2 ** 32;
};

function tableAlone(): void {
  console.log(
    `\n1. the table alone (${SEEDS} seeds; moved share of buckets: mean / worst; ideal 1/(N+1) add, 1/N remove)`,
  );
  console.log(
    '      M      N   add mean / worst   remove mean / worst   entries per backend   build ms   worst <= 1/N + 5%',
  );
  for (const size of SIZES) {
    for (const n of COUNTS.filter((c) => c + 1 < size)) {
      const add: number[] = [];
      const remove: number[] = [];
      const build: number[] = [];
      let spread = '';
      for (let s = 0; s < SEEDS; s++) {
        const seed = Math.floor(random() * 2 ** 32);
        const all = Array.from({ length: n + 1 }, (_, i) => name(i + 1 + s * 1500)).sort();
        const extra = Math.floor(random() * all.length);
        const list = all.filter((_, i) => i !== extra);
        const start = performance.now();
        const before = buildMaglevTable(list, size, seed);
        build.push(performance.now() - start);
        add.push(movedFraction(before, buildMaglevTable(all, size, seed)));
        const gone = Math.floor(random() * list.length);
        remove.push(
          movedFraction(
            before,
            buildMaglevTable(
              list.filter((_, i) => i !== gone),
              size,
              seed,
            ),
          ),
        );
        const counts = entriesPerBackend(before);
        spread = `${Math.min(...counts)}-${Math.max(...counts)}`;
      }
      const mean = (v: number[]) => (v.reduce((a, b) => a + b, 0) / v.length).toFixed(4);
      const worst = (v: number[]) => Math.max(...v).toFixed(4);
      // The goal of issue 14: one add (to N) or removal (from N) moves at most 1/N + 5%.
      const within = Math.max(...add) <= 1 / n + 0.05 && Math.max(...remove) <= 1 / n + 0.05;
      console.log(
        `${String(size).padStart(7)} ${String(n).padStart(6)}   ${mean(add)} / ${worst(add)}    ${mean(remove)} / ${worst(remove)}      ${spread.padStart(15)}   ${median(build).toFixed(1).padStart(8)}   ${within ? 'yes' : 'NO'}`,
      );
    }
  }
}

function configFor(size: number) {
  return parseConfig(
    {
      mode: 'bgp',
      owner: 'bench',
      allowedVipPools: ['10.1.0.0/16'],
      services: [
        { name: 'web', vip: '10.1.1.0/24', ports: [{ port: 80 }], backends: { static: [backendAt(1)] } },
      ],
      bgp: { localAs: 65000, peers: [{ address: '10.99.0.2', as: 65000 }] },
      dataPlane: { forwarding: 'tunnel', tableSize: size, seed: 0x5eed },
    },
    {},
  );
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

async function inKernel(): Promise<void> {
  console.log(
    `\n2. in the kernel: ${KERNEL_BACKENDS} backends, one service port, ${ROUNDS} rounds (median ms)`,
  );
  console.log('      M   script bytes   create   backend change   read back   nothing to change');
  for (const size of SIZES) {
    execFileSync('ip', ['netns', 'add', ns]);
    try {
      execFileSync('ip', ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0p']);
      const config = configFor(size);
      const dataPlane = config.dataPlane!;
      let list = Array.from({ length: KERNEL_BACKENDS }, (_, i) => backendAt(i + 1));
      const backends: BackendSource = { backends: () => list, onChange: () => () => {} };
      const system = createSystem({ netns: ns });
      const controller = createDataPlaneController({
        config,
        dataPlane,
        backends,
        writers: createWriters(dataPlane, system),
        system,
        logger: silentLogger(),
        registry: new Registry(),
      });
      const create = await timed(() => controller.sync('create'));
      const rendered = renderNftables((await controller.sync('same')).model!);
      const change: number[] = [];
      const read: number[] = [];
      const same: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        list = round % 2 === 0 ? list.slice(1) : [backendAt(1), ...list];
        change.push(await timed(() => controller.sync('change')));
        read.push(await timed(() => readLiveTable(system.run, 'netdev', rendered.ruleMaps)));
        same.push(await timed(() => controller.sync('resync')));
      }
      console.log(
        `${String(size).padStart(7)} ${String(rendered.script.length).padStart(14)} ${create.toFixed(0).padStart(8)} ${median(change).toFixed(0).padStart(16)} ${median(read).toFixed(0).padStart(11)} ${median(same).toFixed(0).padStart(19)}`,
      );
    } finally {
      execFileSync('ip', ['netns', 'del', ns]);
    }
  }
}

function changes(): void {
  console.log(`\n3. backendChange, one backend added, M = ${DEFAULT_TABLE_SIZE}, seed 0x5eed`);
  const v4 = (i: number): PlaneBackend => ({ address: `10.98.0.${20 + i}`, port: 8080, family: 4 });
  for (const n of [2, 4]) {
    const before = Array.from({ length: n }, (_, i) => v4(i + 1));
    const after = [...before, v4(n + 1)];
    console.log(
      JSON.stringify({
        backendChange: backendChange(before, after, { seed: 0x5eed, tableSize: DEFAULT_TABLE_SIZE }),
      }),
    );
  }
}

tableAlone();
changes();
if (process.getuid?.() === 0) await inKernel();
else console.log('\n2. skipped: the kernel part needs root (network namespaces)');
