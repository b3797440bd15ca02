/*
 * npm run bench:gcp -- --out DIR — portlb's GCP goals, measured against the Compute stand-in on
 * loopback (Google ships no Compute emulator; the stand-in is driven through the real
 * @google-cloud/compute client):
 *   1. steady state, 200 VIPs x 4 LB nodes: Compute calls per sidecar reconcile, each of the four
 *      sidecars' gcp-mode parts as the sidecar builds them (goal: 1 routes.list, 0 writes);
 *   2. node loss: an instances.delete audit-log entry for one node, handled by the bundled
 *      instanceEvent function (dist/functions/gcp-source): deletes, other writes and the time from
 *      the event to every route to that node gone (goal: one delete per VIP on that node, nothing else).
 * Writes DIR/gcp.json and prints the figures.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseConfig } from '../src/config/load.js';
import { gcpMode } from '../src/modes/gcp/index.js';
import { createGcpMode } from '../src/modes/gcp/sidecar.js';
import { modePipeline } from '../src/modes/pipeline.js';
import { createController } from '../src/runtime/controller.js';
import { silentLogger } from '../src/runtime/logger.js';
import { createMetrics } from '../src/runtime/metrics.js';
import { auditEntry, pubsubCloudEvent } from '../test/fixtures/gcp/audit-log.js';
import { standinClients } from '../test/support/compute-standin/client.js';
import { startComputeStandin } from '../test/support/compute-standin/server.js';

const VIP_COUNT = 200;
const NODES = 4;
const STEADY_RUNS = 5;
const PROJECT = 'portlb-bench';
const ZONE = 'europe-west1-b';

const { values } = parseArgs({ options: { out: { type: 'string', default: 'bench-out/gcp' } } });
const out = values.out ?? 'bench-out/gcp';
const vips = Array.from({ length: VIP_COUNT }, (_, i) => `100.64.${Math.floor(i / 250)}.${i % 250}/32`);
const isWrite = (method: string) => method === 'routes.insert' || method === 'routes.delete';

const backend = createServer((socket) => socket.end());
// 800 health probes (200 services x 4 sidecars) start at once: a deep backlog, and a gate that
// needs three failures in a row, keep the bench about routes, not about a loopback accept queue.
await new Promise<void>((resolve) => backend.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, resolve));
const backendPort = (backend.address() as { port: number }).port;
const standin = await startComputeStandin();
standin.addProject(PROJECT, ['vpc']);
const nodes = Array.from({ length: NODES }, (_, i) =>
  standin.setInstance({
    project: PROJECT,
    zone: ZONE,
    name: `lb-${i + 1}`,
    status: 'RUNNING',
    canIpForward: true,
  }),
);
const clients = standinClients(standin, PROJECT);
const logger = silentLogger();
const config = (node: number) =>
  parseConfig(
    {
      mode: 'gcp',
      allowedVipPools: ['100.64.0.0/16'],
      services: vips.map((vip, i) => ({
        name: `svc-${i}`,
        vip,
        ports: [{ port: 80 }],
        backends: { static: [{ address: '127.0.0.1', port: backendPort }] },
      })),
      gcp: { project: PROJECT, network: 'vpc' },
      health: { intervalSeconds: 5, timeoutSeconds: 2, rise: 1, fall: 3 },
      drain: { seconds: 0 },
    },
    { NODE_NAME: `node-${node + 1}` },
  );

try {
  // The four sidecars' parts, as `portlb sidecar` builds them in gcp mode (own gates, own instance).
  const sidecars = await Promise.all(
    nodes.map(async (_instance, i) => {
      const parts = await createGcpMode(
        { config: config(i), logger, metrics: createMetrics({ defaults: false }), trigger: () => {} },
        { compute: clients.port, providerId: () => `gce://${PROJECT}/${ZONE}/lb-${i + 1}`, drainMs: 0 },
      );
      await parts.start?.();
      return { parts, controller: createController(modePipeline(gcpMode, parts), { logger }) };
    }),
  );
  const deadline = Date.now() + 30_000;
  while (sidecars.some((s) => (s.parts.notReady?.() ?? []).length > 0)) {
    if (Date.now() > deadline) throw new Error('health gates did not open');
    await new Promise((r) => setTimeout(r, 50));
  }

  let started = performance.now();
  for (const s of sidecars) await s.controller.runOnce('bench');
  const initialMs = performance.now() - started;
  const initialRoutes = standin.routes(PROJECT).length;

  const steady: { listCalls: number; writes: number; ms: number }[] = [];
  for (let run = 0; run < STEADY_RUNS; run++) {
    for (const s of sidecars) {
      standin.resetCalls();
      started = performance.now();
      await s.controller.runOnce('bench');
      const calls = [...standin.calls()];
      steady.push({
        listCalls: calls.filter((c) => c.method === 'routes.list').length,
        writes: calls.filter((c) => isWrite(c.method)).length,
        ms: performance.now() - started,
      });
    }
  }

  // The bundled instanceEvent function, with its environment as deploy/gcp/functions.tf sets it.
  Object.assign(process.env, {
    PORTLB_PROJECT: PROJECT,
    PORTLB_NETWORK: 'vpc',
    PORTLB_VIPS: vips.join(','),
    PORTLB_PRIORITY: '1000',
    PORTLB_LOG_LEVEL: 'warn',
    PORTLB_COMPUTE_ENDPOINT: standin.url,
    PORTLB_GCP_TEST_TOKEN: 'bench-token',
    METADATA_SERVER_DETECTION: 'none',
  });
  started = performance.now();
  const bundle = (await import(new URL('../functions/gcp-source/index.mjs', import.meta.url).href)) as {
    instanceEvent: (event: unknown) => Promise<{ status: string }>;
  };
  const coldMs = performance.now() - started;
  const victim = nodes[1] ?? '';
  const event = pubsubCloudEvent(
    auditEntry({ project: PROJECT, zone: ZONE, instance: 'lb-2', part: 'first' }),
  );
  standin.resetCalls();
  started = performance.now();
  const result = await bundle.instanceEvent(event);
  const lossSeconds = (performance.now() - started) / 1000;
  const lossCalls = [...standin.calls()];
  const left = standin.routes(PROJECT).filter((r) => r.nextHopInstance === victim).length;
  standin.resetCalls();
  const again = await bundle.instanceEvent(event);
  const duplicateWrites = standin.calls().filter((c) => isWrite(c.method)).length;

  const count = (method: string) => lossCalls.filter((c) => c.method === method).length;
  const report = {
    setup: {
      vips: VIP_COUNT,
      nodes: NODES,
      routes: initialRoutes,
      node: process.version,
      computeApi: 'stand-in',
    },
    initial: { routes: initialRoutes, ms: Math.round(initialMs) },
    steady: {
      reconciles: steady.length,
      listCalls: Math.max(...steady.map((s) => s.listCalls)),
      writes: Math.max(...steady.map((s) => s.writes)),
      meanMs: Math.round(steady.reduce((sum, s) => sum + s.ms, 0) / steady.length),
    },
    nodeLoss: {
      status: result.status,
      vips: VIP_COUNT,
      deletes: count('routes.delete'),
      otherWrites: lossCalls.filter((c) => isWrite(c.method)).length - count('routes.delete'),
      listCalls: count('routes.list'),
      routesLeftOnNode: left,
      seconds: Number(lossSeconds.toFixed(2)),
      coldStartMs: Math.round(coldMs),
    },
    duplicate: { status: again.status, writes: duplicateWrites },
  };
  await mkdir(out, { recursive: true });
  await writeFile(join(out, 'gcp.json'), `${JSON.stringify(report, null, 2)}\n`);
  const ok =
    report.steady.listCalls === 1 &&
    steady.every((s) => s.listCalls === 1 && s.writes === 0) &&
    report.nodeLoss.deletes === VIP_COUNT &&
    report.nodeLoss.otherWrites === 0 &&
    left === 0 &&
    duplicateWrites === 0;
  process.stdout.write(
    `${[
      `portlb GCP benchmark (Compute stand-in ${standin.url}, ${VIP_COUNT} VIPs x ${NODES} LB nodes = ${initialRoutes} routes, node ${process.version})`,
      `initial programming by the 4 sidecars: ${initialRoutes} routes in ${initialMs.toFixed(0)} ms`,
      `steady state, ${steady.length} sidecar reconciles: routes.list per reconcile ${report.steady.listCalls}, writes ${report.steady.writes}, mean ${report.steady.meanMs} ms`,
      `node loss (instances.delete of lb-2, bundled instanceEvent): status ${result.status}, ${report.nodeLoss.deletes} deletes for ${VIP_COUNT} VIPs, ${report.nodeLoss.otherWrites} other writes, ${left} routes left on the node, ${report.nodeLoss.seconds} s (cold start before it: ${report.nodeLoss.coldStartMs} ms)`,
      `duplicate delivery: status ${again.status}, writes ${duplicateWrites}`,
      `wrote ${join(out, 'gcp.json')}; goals ${ok ? 'met' : 'NOT met'}`,
    ].join('\n')}\n`,
  );
  process.exitCode = ok ? 0 : 1;
  for (const s of sidecars) await s.parts.close?.();
} finally {
  await clients.close();
  await standin.close();
  await new Promise((resolve) => backend.close(resolve));
}
