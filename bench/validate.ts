/**
 * `npm run bench:validate`: `portlb validate` on configs of 10,000 and 50,000 services (one /32 or
 * /128 VIP each, every third IPv6, in shuffled order so the overlap sweep has to sort), run as
 * users run it: the shipped bundle, a YAML file, a fresh process. Also the in-process stages, to
 * show where the time goes. Goal: 50,000 services in <= 2 s.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { parseConfig } from '../src/config/load.js';
import { parseYaml } from '../src/config/yaml.js';
import { shippedCli } from '../src/system/shipped.js';

const SIZES = (process.env.BENCH_SIZES ?? '10000,50000').split(',').map(Number);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const run = promisify(execFile);

function vipOf(i: number): string {
  if (i % 3 === 2) return `2001:db8:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::/128`;
  return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32`;
}

/** A deterministic shuffle, so every run measures the same file. */
function shuffled(n: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  let state = 42;
  for (let i = n - 1; i > 0; i--) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    const j = state % (i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

function configText(services: number): string {
  const lines = [
    'mode: bgp',
    'allowedVipPools: [10.0.0.0/8, "2001:db8::/32"]',
    'clusterNetworks: { nodes: [192.168.0.0/24], pods: [172.16.0.0/12] }',
    'services:',
  ];
  for (const i of shuffled(services)) {
    lines.push(
      `  - { name: svc-${i}, vip: "${vipOf(i)}", ports: [{ port: 80 }, { port: 443 }], backends: { static: [{ address: 192.168.1.${1 + (i % 250)}, port: 8080 }] } }`,
    );
  }
  lines.push(
    'bgp: { localAs: 65000, peers: [{ address: 192.168.0.2, as: 65000 }, { address: 192.168.0.3, as: 65000 }] }',
  );
  return `${lines.join('\n')}\n`;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);

const dir = await mkdtemp(join(tmpdir(), 'portlb-bench-validate-'));
const cli = shippedCli(import.meta.url);
try {
  for (const size of SIZES) {
    const text = configText(size);
    const file = join(dir, `services-${size}.yaml`);
    await writeFile(file, text);
    const yaml: number[] = [];
    const schema: number[] = [];
    const total: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      let start = performance.now();
      const document = parseYaml(text, file);
      yaml.push(performance.now() - start);
      start = performance.now();
      parseConfig(document, {}, file);
      schema.push(performance.now() - start);
      start = performance.now();
      await run(process.execPath, [...cli.flags, cli.script, 'validate', file], { maxBuffer: 1 << 20 });
      total.push(performance.now() - start);
    }
    console.log(
      `validate ${size} services (${(text.length / 1e6).toFixed(1)} MB YAML): portlb validate median ${fmt(median(total))} ` +
        `(min ${fmt(Math.min(...total))}, max ${fmt(Math.max(...total))}); in process: YAML ${fmt(median(yaml))}, ` +
        `schema + rules ${fmt(median(schema))}; over ${RUNS} runs (goal: 50,000 services <= 2 s) on node ${process.version}`,
    );
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
