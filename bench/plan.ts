/**
 * `npm run bench:plan`: the planner on 10,000 VIPs x 8 targets, observed vs desired with 1% of the
 * targets changed. Prints the median and spread over repeated runs; the goal is <= 50 ms median.
 */
import { performance } from 'node:perf_hooks';
import type { Cardinality, DesiredRoute, ObservedRoute } from '../src/core/model.js';
import { plan } from '../src/core/plan.js';

const VIPS = 10_000;
const TARGETS = 8;
const RUNS = Number(process.env.BENCH_RUNS ?? 51);

/** A deterministic pseudo-random sequence, so every run benchmarks the same input. */
function lcg(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

function vipOf(i: number): string {
  return `10.${100 + (i >> 8)}.${i & 255}.0/24`;
}

function scenario(cardinality: Cardinality): {
  desired: DesiredRoute[];
  observed: ObservedRoute[];
  changedTargets: number;
} {
  const random = lcg(42);
  const targets = Array.from({ length: TARGETS }, (_, t) => `10.99.0.${t + 11}`);
  const desired: DesiredRoute[] = [];
  const observed: ObservedRoute[] = [];
  let changedTargets = 0;
  for (let i = 0; i < VIPS; i++) {
    const vip = vipOf(i);
    const candidates = targets.map((target) => {
      const changed = random() < 0.01;
      if (changed) changedTargets += 1;
      return { target, healthy: !changed };
    });
    desired.push({ vip, service: `svc-${i}`, candidates });
    // Observed: what a previous run programmed when every target was healthy.
    const programmed = cardinality === 'multi' ? targets : targets.slice(0, 1);
    for (const target of programmed)
      observed.push({ table: 'bgp', vip, target, owner: 'bench', state: 'active' });
  }
  return { desired, observed, changedTargets };
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

for (const cardinality of ['multi', 'single'] as const) {
  const { desired, observed, changedTargets } = scenario(cardinality);
  const options = { owner: 'bench', tables: ['bgp'], cardinality };
  for (let i = 0; i < 3; i++) plan(desired, observed, options); // warm-up (JIT)
  const times: number[] = [];
  let changes = 0;
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    changes = plan(desired, observed, options).changes.length;
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const fmt = (ms: number) => `${ms.toFixed(1)} ms`;
  console.log(
    `plan ${cardinality.padEnd(6)} ${VIPS} VIPs x ${TARGETS} targets, ${changedTargets} targets changed (${((changedTargets / (VIPS * TARGETS)) * 100).toFixed(2)}%), ${changes} changes: ` +
      `median ${fmt(quantile(times, 0.5))}, p90 ${fmt(quantile(times, 0.9))}, min ${fmt(times[0] ?? 0)}, max ${fmt(times.at(-1) ?? 0)} over ${RUNS} runs ` +
      `(goal: median <= 50 ms) on node ${process.version}`,
  );
}
