/*
 * npm run bench:aws — portlb's AWS goals measured against moto on loopback:
 *   1. steady state, 200 VIPs x 3 route tables: EC2 calls per sidecar reconcile (goal: 1 Describe, 0 writes);
 *   2. failover of all 200 VIPs after an EC2 instance-termination event, handled by the bundled Lambda
 *      handler: calls made (goal: one ReplaceRoute per route per table, no other write) and the time
 *      from the event to every route moved.
 * Calls are counted by a loopback proxy in front of moto, so the bundle is measured as built.
 */
import { EC2Client, ModifyNetworkInterfaceAttributeCommand } from '@aws-sdk/client-ec2';
import { awsRoutePipeline } from '../src/modes/aws/routes.js';
import { createController } from '../src/runtime/controller.js';
import { silentLogger } from '../src/runtime/logger.js';
import { publishCandidacyTags } from '../test/fixtures/aws/candidacy.js';
import { startCountingProxy } from '../test/fixtures/aws/counting-proxy.js';
import { motoClientConfig, startMoto } from '../test/fixtures/aws/moto.js';
import { buildVpc, MANAGED_TAG, routeMap } from '../test/fixtures/aws/vpc.js';

const VIP_COUNT = 200;
const TABLES = 3;
const STEADY_RUNS = 5;

process.env.AWS_EC2_METADATA_DISABLED = 'true';
process.env.AWS_ACCESS_KEY_ID = 'moto';
process.env.AWS_SECRET_ACCESS_KEY = 'moto';

const vips = Array.from({ length: VIP_COUNT }, (_, i) => `100.64.${Math.floor(i / 250)}.${i % 250}/32`);
const writes = (counts: Record<string, number>) =>
  Object.entries(counts)
    .filter(([action]) => !action.startsWith('Describe'))
    .reduce((sum, [, n]) => sum + n, 0);
const show = (counts: Record<string, number>) =>
  Object.entries(counts)
    .sort()
    .map(([a, n]) => `${a}=${n}`)
    .join(' ');

const moto = await startMoto();
const proxy = await startCountingProxy(moto.endpoint);
try {
  const direct = new EC2Client({ ...motoClientConfig(moto.endpoint), maxAttempts: 1 });
  const counted = new EC2Client({ ...motoClientConfig(proxy.endpoint), maxAttempts: 5 });
  const vpc = await buildVpc(direct, { tables: TABLES, nodes: 3 });
  const nodes = [...vpc.nodes].sort((a, b) => (a.eni < b.eni ? -1 : 1));
  const now = Date.now;
  for (const n of nodes) {
    await direct.send(
      new ModifyNetworkInterfaceAttributeCommand({
        NetworkInterfaceId: n.eni,
        SourceDestCheck: { Value: false },
      }),
    );
    await publishCandidacyTags(direct, vpc.tables, n, now() - 10_000);
  }

  // The sidecar's reconcile, exactly as aws mode wires it.
  const logger = silentLogger();
  const { pipeline } = awsRoutePipeline({
    ec2: counted,
    tables: { tags: { [MANAGED_TAG.key]: MANAGED_TAG.value } },
    owner: 'portlb',
    services: vips.map((vip, i) => ({ name: `svc${i}`, vip })),
    staleSeconds: 180,
    now,
    logger,
  });
  const controller = createController(pipeline, { logger });

  proxy.reset();
  let started = performance.now();
  const initial = await controller.runOnce('bench');
  const initialMs = performance.now() - started;
  const initialCounts = proxy.counts();

  const steady: { counts: Record<string, number>; ms: number }[] = [];
  for (let i = 0; i < STEADY_RUNS; i++) {
    proxy.reset();
    started = performance.now();
    await controller.runOnce('bench');
    steady.push({ counts: proxy.counts(), ms: performance.now() - started });
  }

  // The Lambda handler, from the bundle, with its environment as the SAM template sets it.
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    PORTLB_EC2_ENDPOINT: proxy.endpoint,
    PORTLB_VIPS: vips.join(','),
    PORTLB_ROUTE_TABLE_TAGS: `${MANAGED_TAG.key}=${MANAGED_TAG.value}`,
    PORTLB_LOG_LEVEL: 'warn',
  });
  started = performance.now();
  const bundle = (await import(new URL('../functions/aws/instance-event.mjs', import.meta.url).href)) as {
    handler: (event: unknown) => Promise<{ status: string; applied?: unknown[] }>;
  };
  const coldMs = performance.now() - started;
  const victim = nodes[0]!;
  const event = {
    version: '0',
    id: crypto.randomUUID(),
    'detail-type': 'EC2 Instance State-change Notification',
    source: 'aws.ec2',
    account: '123456789012',
    time: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    region: 'us-east-1',
    resources: [`arn:aws:ec2:us-east-1:123456789012:instance/${victim.instanceId}`],
    detail: { 'instance-id': victim.instanceId, state: 'shutting-down' },
  };
  proxy.reset();
  started = performance.now();
  const result = await bundle.handler(event);
  const failoverMs = performance.now() - started;
  const failoverCounts = proxy.counts();

  let moved = 0;
  for (const table of vpc.tables) {
    const routes = await routeMap(direct, table);
    for (const vip of vips) if (routes.get(vip) === nodes[1]!.eni) moved += 1;
  }
  proxy.reset();
  const again = await bundle.handler({ ...event, id: crypto.randomUUID() });
  const duplicateCounts = proxy.counts();

  const routes = VIP_COUNT * TABLES;
  const mean = steady.reduce((s, r) => s + r.ms, 0) / steady.length;
  const lines = [
    `portlb AWS benchmark (moto ${moto.endpoint}, ${VIP_COUNT} VIPs x ${TABLES} route tables = ${routes} routes, node ${process.version})`,
    `initial programming: ${initial.applied.length} routes in ${initialMs.toFixed(0)} ms; calls: ${show(initialCounts)}`,
    `steady state, ${STEADY_RUNS} reconciles: calls per reconcile: ${steady.map((r) => show(r.counts) || 'none').join(' | ')}; writes: ${steady.map((r) => writes(r.counts)).join(',')}; mean ${mean.toFixed(0)} ms`,
    `failover (instance shutting-down, bundled handler): status ${result.status}, ${moved}/${routes} routes moved to ${nodes[1]!.eni} in ${failoverMs.toFixed(0)} ms (cold start before it: ${coldMs.toFixed(0)} ms)`,
    `failover calls: ${show(failoverCounts)}; writes other than ReplaceRoute: ${writes(failoverCounts) - (failoverCounts.ReplaceRoute ?? 0)}`,
    `duplicate delivery: status ${again.status}; calls: ${show(duplicateCounts)}; writes: ${writes(duplicateCounts)}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  const ok =
    steady.every((r) => r.counts.DescribeRouteTables === 1 && writes(r.counts) === 0) &&
    failoverCounts.ReplaceRoute === routes &&
    writes(failoverCounts) === routes &&
    moved === routes &&
    writes(duplicateCounts) === 0;
  process.stdout.write(`goals ${ok ? 'met' : 'NOT met'}\n`);
  process.exitCode = ok ? 0 : 1;
} finally {
  await proxy.close();
  await moto.stop();
}
