/**
 * `npm run bench:kube`: the sidecar's Kubernetes side against a real kube-apiserver + etcd
 * (scripts/build-kube.sh) holding 1,000 LB pods on 100 Nodes and 200 EndpointSlices.
 * Runs the shipped `portlb sidecar` (the bundle, with its V8 flags) on those objects and prints its
 * private (anonymous) memory (goal <= 60 MB; restated in issue 9: the node binary's file pages are
 * shared by every Node process of the image on a node), RSS (goal <= 120 MB) and idle CPU (goal ~0); a probe process built from the same source and
 * informers prints how long a pod readiness change takes to reach the desired state, p50/p99 over
 * 100 changes (goal p99 <= 200 ms).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { shippedCli } from '../src/system/shipped.js';
import { fixtures } from '../test/integration/kube/fixtures.js';
import { freePort, startKube } from '../test/integration/kube/harness.js';
import { cpuSeconds, type ProcMemory, procMemory } from './support/proc.js';

const PODS = Number(process.env.BENCH_PODS ?? 1000);
const NODES = Number(process.env.BENCH_NODES ?? 100);
const SLICES = Number(process.env.BENCH_SLICES ?? 200);
const CHANGES = Number(process.env.BENCH_CHANGES ?? 100);
const IDLE_MS = Number(process.env.BENCH_IDLE_MS ?? 30_000);
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

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

/** A Node process that has done nothing but create one TLS context, kept alive. */
const TLS_ONLY = "require('node:tls').createSecureContext({}); setInterval(() => {}, 60_000);";

const mem = (m: ProcMemory) =>
  `${m.rssMb.toFixed(1)} MB (anon ${m.anonMb.toFixed(1)}, file ${m.fileMb.toFixed(1)})`;

const ip = (i: number, base: number) => `10.${base}.${(i >> 8) & 255}.${i & 255}`;

const children: ChildProcess[] = [];

/** The sidecar's own view of its JS heap, from the prom-client defaults on its /metrics, in MB. */
async function heapOf(port: number): Promise<{ used: number; total: number; external: number }> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1]) / 2 ** 20;
  return {
    used: value('portlb_nodejs_heap_size_used_bytes'),
    total: value('portlb_nodejs_heap_size_total_bytes'),
    external: value('portlb_nodejs_external_memory_bytes'),
  };
}

/**
 * How the sidecar runs: the shipped bundle with its shebang's V8 flags. To see what each choice is
 * worth, BENCH_SIDECAR_FLAGS replaces the flags ('' for none) and BENCH_SIDECAR=tsc runs the tsc
 * build, its dependencies loaded from node_modules.
 */
function sidecarCommand(): { script: string; flags: string[] } {
  const shipped = shippedCli(import.meta.url);
  const script =
    process.env.BENCH_SIDECAR === 'tsc'
      ? fileURLToPath(new URL('../src/cli/main.js', import.meta.url))
      : shipped.script;
  const override = process.env.BENCH_SIDECAR_FLAGS;
  return { script, flags: override === undefined ? [...shipped.flags] : override.split(' ').filter(Boolean) };
}

/** RSS of a process after it has run `ms`, then it is stopped: the baselines the sidecar is read against. */
async function rssAfter(args: string[], ms: number): Promise<ProcMemory> {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, POD_NAME: 'lb-0', POD_NAMESPACE: NS, NODE_NAME: 'node-0', HOST_IP: '10.0.0.1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  await new Promise((r) => setTimeout(r, ms));
  if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited with ${child.exitCode}`);
  const memory = procMemory(child.pid ?? 0);
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
  return memory;
}

/** The `portlb sidecar` (mode aws, routes to a file, prom-client defaults on). */
async function startSidecar(kubeconfig: string): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const config = join(dir, 'sidecar.yaml');
  await writeFile(
    config,
    [
      'mode: aws',
      'allowedVipPools: [203.0.113.0/24]',
      'services:',
      '  - { name: web, vip: 203.0.113.0/28, ports: [{port: 80}], backends: { kubernetes: { service: web } } }',
      'aws: { routeTables: { ids: [rtb-0a0a0a0a] } }',
      `kubernetes: { kubeconfig: ${kubeconfig}, lbPodSelector: app=portlb-lb }`,
      `server: { listen: 127.0.0.1:${port} }`,
      'log: { level: warn }',
    ].join('\n'),
  );
  const { script, flags } = sidecarCommand();
  const child = spawn(
    process.execPath,
    [...flags, script, 'sidecar', '--config', config, '--state', join(dir, 'state.json')],
    {
      env: { ...process.env, POD_NAME: 'lb-0', POD_NAMESPACE: NS, NODE_NAME: 'node-0' },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  children.push(child);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const body = await fetch(`http://127.0.0.1:${port}/readyz`)
      .then((r) => r.json() as Promise<{ detail?: { kubernetes?: { lbPods?: number } } }>)
      .catch(() => undefined);
    if (body?.detail?.kubernetes?.lbPods === PODS) return { child, port };
    if (child.exitCode !== null) throw new Error(`portlb sidecar exited with ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error('portlb sidecar did not sync');
    await new Promise((r) => setTimeout(r, 200));
  }
}

const kube = await startKube();
const dir = await mkdtemp(join(tmpdir(), 'portlb-bench-kube-'));
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
  t = now();
  const sidecar = await startSidecar(kubeconfigFile);
  const sidecarPid = sidecar.child.pid ?? 0;
  console.log(`portlb sidecar synced ${PODS} LB pods in ${((now() - t) / 1000).toFixed(1)} s`);

  // The probe: the same Kubernetes source and backends, reporting each desired-state change.
  const probeScript = fileURLToPath(new URL('./kube-sidecar.js', import.meta.url));
  const probe = spawn(process.execPath, [probeScript], {
    env: { ...process.env, BENCH_KUBECONFIG: kubeconfigFile },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(probe);
  const lines: { at: number; healthy: number }[] = [];
  let waiter: (() => void) | undefined;
  let started: { syncMs: number; candidates: number; backends: number } | undefined;
  createInterface({ input: probe.stdout as NodeJS.ReadableStream }).on('line', (line) => {
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
  await until(() => started !== undefined, 60_000, 'probe sync');
  console.log(
    `probe synced in ${started?.syncMs} ms: ${started?.candidates} candidates, ${started?.backends} backends`,
  );

  // Idle: no changes, informers watching. Let start-up garbage settle first.
  await new Promise((r) => setTimeout(r, 2_000));
  const cpu0 = cpuSeconds(sidecarPid);
  const idle0 = now();
  await new Promise((r) => setTimeout(r, IDLE_MS));
  const idleCpu = ((cpuSeconds(sidecarPid) - cpu0) / ((now() - idle0) / 1000)) * 100;
  const idle = procMemory(sidecarPid);
  const heap = await heapOf(sidecar.port);

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
  const after = procMemory(sidecarPid);
  const { script, flags } = sidecarCommand();
  // Baselines, with the same node and flags: Node itself with one TLS context, and the sidecar
  // without a kubernetes section (the lab's config, routes to a file).
  const bare = await rssAfter([...flags, '-e', TLS_ONLY], 3_000);
  const labConfig = join(dir, 'bgp-lab.yaml');
  const labPort = await freePort();
  await writeFile(
    labConfig,
    (await readFile('examples/bgp-lab.yaml', 'utf8')).replace(/listen: \S+/, `listen: 127.0.0.1:${labPort}`),
  );
  const noKube = await rssAfter(
    [...flags, script, 'sidecar', '--config', labConfig, '--state', join(dir, 'lab-state.json')],
    5_000,
  );

  console.log('\nportlb bench:kube');
  console.log(
    `  objects              ${PODS} LB pods on ${NODES} nodes, ${SLICES} EndpointSlices x 5 endpoints`,
  );
  console.log(`  sidecar RSS idle     ${mem(idle)} (goal: anon <= 60 MB, RSS <= 120 MB)`);
  console.log(
    `  sidecar JS heap      ${heap.used.toFixed(1)} MB used of ${heap.total.toFixed(1)} MB, external ${heap.external.toFixed(1)} MB (its /metrics, idle)`,
  );
  console.log(
    `  sidecar RSS after    ${mem(after)} after ${CHANGES} changes; peak ${after.hwmMb.toFixed(1)} MB`,
  );
  console.log(
    `  sidecar idle CPU     ${idleCpu.toFixed(2)} % of one core over ${(IDLE_MS / 1000).toFixed(0)} s (goal ~0)`,
  );
  console.log(
    `  readiness -> desired p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, max ${percentile(latencies, 100).toFixed(1)} ms over ${CHANGES} changes (goal p99 <= 200 ms)`,
  );
  console.log(`  without kubernetes   ${mem(noKube)} (the lab's bgp config, --state)`);
  console.log(`  node alone           ${mem(bare)} (one TLS context, nothing else)`);
  console.log(
    `  sidecar              mode aws, --state, prom-client defaults on; node ${process.version} ${flags.join(' ')} ${relative(process.cwd(), script)}`,
  );
} finally {
  for (const c of children) {
    if (c.pid !== undefined && c.exitCode === null && c.signalCode === null) {
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await exited;
    }
  }
  await kube.stop();
  await rm(dir, { recursive: true, force: true });
}
