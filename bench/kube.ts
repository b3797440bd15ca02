/**
 * `npm run bench:kube`: the sidecar's Kubernetes side against a real kube-apiserver + etcd
 * (scripts/build-kube.sh) holding 1,000 LB pods on 100 Nodes and 200 EndpointSlices.
 * Prints the sidecar process's RSS (goal <= 80 MB), its idle CPU (goal ~0), and how long a pod
 * readiness change takes to reach the desired state, p50/p99 over 100 changes (goal p99 <= 200 ms).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { fixtures } from '../test/integration/kube/fixtures.js';
import { freePort, startKube } from '../test/integration/kube/harness.js';

const PODS = Number(process.env.BENCH_PODS ?? 1000);
const NODES = Number(process.env.BENCH_NODES ?? 100);
const SLICES = Number(process.env.BENCH_SLICES ?? 200);
const CHANGES = Number(process.env.BENCH_CHANGES ?? 100);
const IDLE_MS = Number(process.env.BENCH_IDLE_MS ?? 10_000);
const NS = 'bench';

const now = () => performance.timeOrigin + performance.now();

/** Runs `work` over `items` with at most `limit` in flight: enough to fill the API server, not flood it. */
async function pool<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const item = items[next++] as T;
        await work(item);
      }
    }),
  );
}

function procStatus(pid: number): { rssMb: number; hwmMb: number } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0);
  return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
}

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

const ip = (i: number, base: number) => `10.${base}.${(i >> 8) & 255}.${i & 255}`;

let realChild: ChildProcess | undefined;

/** The real `portlb sidecar` (mode aws, routes to a file) on the same objects: RSS and idle CPU. */
async function measureRealSidecar(kubeconfig: string): Promise<{ rssMb: number; cpu: number }> {
  const port = await freePort();
  const config = join(dir, 'sidecar.yaml');
  await writeFile(
    config,
    [
      'mode: aws',
      'allowedVipPools: [203.0.113.0/24]',
      'services:',
      '  - { name: web, vip: 203.0.113.0/28, ports: [{port: 80}], backends: { kubernetes: { service: web } } }',
      'aws: { routeTables: { ids: [rtb-0a] } }',
      `kubernetes: { kubeconfig: ${kubeconfig}, lbPodSelector: app=portlb-lb }`,
      `server: { listen: 127.0.0.1:${port} }`,
      'log: { level: warn }',
    ].join('\n'),
  );
  const main = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
  realChild = spawn(
    process.execPath,
    [main, 'sidecar', '--config', config, '--state', join(dir, 'state.json')],
    {
      env: { ...process.env, POD_NAME: 'lb-0', POD_NAMESPACE: NS, NODE_NAME: 'node-0' },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  const pid = realChild.pid ?? 0;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const body = await fetch(`http://127.0.0.1:${port}/readyz`)
      .then((r) => r.json() as Promise<{ detail?: { kubernetes?: { lbPods?: number } } }>)
      .catch(() => undefined);
    if (body?.detail?.kubernetes?.lbPods === PODS) break;
    if (Date.now() > deadline) throw new Error('portlb sidecar did not sync');
    await new Promise((r) => setTimeout(r, 200));
  }
  await new Promise((r) => setTimeout(r, 2_000));
  const cpu0 = cpuSeconds(pid);
  const t0 = now();
  await new Promise((r) => setTimeout(r, IDLE_MS));
  const cpu = ((cpuSeconds(pid) - cpu0) / ((now() - t0) / 1000)) * 100;
  const { rssMb } = procStatus(pid);
  const exited = new Promise((r) => realChild?.once('exit', r));
  realChild.kill('SIGTERM');
  await exited;
  return { rssMb, cpu };
}

const kube = await startKube();
const dir = await mkdtemp(join(tmpdir(), 'portlb-bench-kube-'));
let child: ChildProcess | undefined;
try {
  console.log(`kube-apiserver + etcd up in ${kube.startMs} ms`);
  const fx = fixtures(kube.admin);
  await kube.createNamespace(NS);
  let t = now();
  await pool(
    Array.from({ length: NODES }, (_, i) => i),
    16,
    (i) => fx.node(`node-${i}`, { address: ip(i, 0) }),
  );
  await pool(
    Array.from({ length: PODS }, (_, i) => i),
    16,
    async (i) => {
      const name = `lb-${i}`;
      await fx.lbPod(NS, name, { node: `node-${i % NODES}`, hostIP: ip(i % NODES, 0), ready: true });
      await fx.core.patchNamespacedPodStatus(
        { name, namespace: NS, body: { status: { podIP: ip(i, 244), podIPs: [{ ip: ip(i, 244) }] } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    },
  );
  await fx.service(NS, 'web', [{ name: 'http', port: 80, targetPort: 8080 }]);
  await pool(
    Array.from({ length: SLICES }, (_, i) => i),
    16,
    (i) =>
      fx.slice(NS, `web-${i}`, 'web', {
        ports: [{ name: 'http', port: 8080 }],
        endpoints: Array.from({ length: 5 }, (_, e) => ({
          addresses: [ip(i * 5 + e, 245)],
          conditions: { ready: true },
        })),
      }),
  );
  console.log(
    `created ${NODES} nodes, ${PODS} LB pods, ${SLICES} EndpointSlices in ${((now() - t) / 1000).toFixed(1)} s`,
  );

  const kubeconfigFile = join(dir, 'kubeconfig');
  await writeFile(kubeconfigFile, kube.admin.exportConfig());
  const script = fileURLToPath(new URL('./kube-sidecar.js', import.meta.url));
  t = now();
  // e.g. BENCH_SIDECAR_FLAGS=--max-semi-space-size=1 to see what V8's young generation costs.
  const flags = (process.env.BENCH_SIDECAR_FLAGS ?? '').split(' ').filter(Boolean);
  child = spawn(process.execPath, [...flags, script], {
    env: { ...process.env, BENCH_KUBECONFIG: kubeconfigFile },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const pid = child.pid ?? 0;
  const lines: { at: number; healthy: number; heapMb?: number }[] = [];
  let waiter: (() => void) | undefined;
  let started:
    | { syncMs: number; candidates: number; backends: number; heapUsedMb: number; externalMb: number }
    | undefined;
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    const msg = JSON.parse(line);
    if (msg.ready) started = msg;
    else lines.push(msg);
    waiter?.();
  });
  const until = async (ok: () => boolean, timeoutMs: number, what: string) => {
    const deadline = Date.now() + timeoutMs;
    while (!ok()) {
      if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
      await new Promise<void>((resolve) => {
        waiter = resolve;
        setTimeout(resolve, 50);
      });
    }
  };
  await until(() => started !== undefined, 60_000, 'sidecar sync');
  console.log(
    `sidecar synced in ${started?.syncMs} ms: ${started?.candidates} candidates, ${started?.backends} backends`,
  );

  // Idle: no changes, informers watching. Let start-up garbage settle first.
  await new Promise((r) => setTimeout(r, 2_000));
  const cpu0 = cpuSeconds(pid);
  const idle0 = now();
  await new Promise((r) => setTimeout(r, IDLE_MS));
  const idleCpu = ((cpuSeconds(pid) - cpu0) / ((now() - idle0) / 1000)) * 100;
  const mem = procStatus(pid);

  const latencies: number[] = [];
  let expected = started?.candidates ?? PODS;
  for (let i = 0; i < CHANGES; i++) {
    expected -= 1;
    const t0 = now();
    await fx.podReady(NS, `lb-${i}`, false);
    const seen = () => lines.find((l) => l.at >= t0 && l.healthy === expected);
    await until(() => seen() !== undefined, 10_000, `change ${i}`);
    latencies.push((seen()?.at ?? Number.NaN) - t0);
  }
  latencies.sort((a, b) => a - b);
  const after = procStatus(pid);
  const childExited = new Promise((r) => child?.once('exit', r));
  child.kill('SIGTERM');
  await childExited;

  const real = await measureRealSidecar(kubeconfigFile);

  console.log('\nportlb bench:kube');
  console.log(
    `  objects              ${PODS} LB pods on ${NODES} nodes, ${SLICES} EndpointSlices x 5 endpoints`,
  );
  console.log(
    `  sidecar RSS          ${mem.rssMb.toFixed(1)} MB idle, ${after.rssMb.toFixed(1)} MB after changes, peak ${after.hwmMb.toFixed(1)} MB (goal <= 80 MB)`,
  );
  console.log(
    `  sidecar idle CPU     ${idleCpu.toFixed(2)} % of one core over ${(IDLE_MS / 1000).toFixed(0)} s (goal ~0)`,
  );
  console.log(
    `  readiness -> desired p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, max ${percentile(latencies, 100).toFixed(1)} ms over ${CHANGES} changes (goal p99 <= 200 ms)`,
  );
  console.log(
    `  portlb sidecar       ${real.rssMb.toFixed(1)} MB RSS, ${real.cpu.toFixed(2)} % idle CPU (the whole process: mode aws + --state, prom-client defaults on)`,
  );
  console.log(
    `  sidecar JS heap      ${started?.heapUsedMb} MB used after sync (external ${started?.externalMb} MB)`,
  );
  const heaps = lines.map((l) => l.heapMb).filter((h) => h !== undefined);
  if (heaps.length > 0)
    console.log(`  sidecar heap after GC over the changes: first ${heaps[0]} MB, last ${heaps.at(-1)} MB`);
  console.log(
    `  sidecar initial sync ${started?.syncMs} ms${flags.length ? `, node flags ${flags.join(' ')}` : ''}`,
  );
} finally {
  for (const c of [child, realChild]) {
    if (c?.pid !== undefined && c.exitCode === null && c.signalCode === null) {
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await exited;
    }
  }
  await kube.stop();
  await rm(dir, { recursive: true, force: true });
}
