import { createServer, type Server } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { gcpMode } from '../../src/modes/gcp/index.js';
import { createGcpMode } from '../../src/modes/gcp/sidecar.js';
import { modePipeline } from '../../src/modes/pipeline.js';
import type { ModeParts } from '../../src/modes/types.js';
import type { ComputeClients } from '../../src/providers/gcp/client.js';
import { gcpLifecycleSchema } from '../../src/providers/gcp/lifecycle.js';
import { createComputeRoutes } from '../../src/providers/gcp/routes.js';
import type { TopicPublisher } from '../../src/publishers/gcp/pubsub.js';
import { createGcpRouteRegistry } from '../../src/registry/gcp/provider.js';
import { createController } from '../../src/runtime/controller.js';
import { silentLogger } from '../../src/runtime/logger.js';
import { createMetrics } from '../../src/runtime/metrics.js';
import { standinClients } from '../support/compute-standin/client.js';
import { type ComputeStandin, startComputeStandin } from '../support/compute-standin/server.js';

// The gcp mode's sidecar parts (src/modes/gcp/sidecar.ts) over the real adapter and client,
// against the Compute stand-in, run the way the sidecar runs them (one controller over the mode's
// pipeline). The health gate probes a real TCP listener on loopback.

const PROJECT = 'portlb-test';
const ZONE = 'europe-west1-b';
const VIPS = ['192.0.2.0/28', '198.51.100.0/24'];
let standin: ComputeStandin;
let clients: ComputeClients;
let backend: Server;
let backendPort: number;
const lb: string[] = [];
const running: ModeParts<undefined>[] = [];

const doc = (publish: 'routes' | 'pubsub') => ({
  mode: 'gcp',
  allowedVipPools: ['192.0.2.0/24', '198.51.100.0/24'],
  services: VIPS.map((vip, i) => ({
    name: `svc-${i}`,
    vip,
    ports: [{ port: 80 }],
    backends: { static: [{ address: '127.0.0.1', port: backendPort }] },
  })),
  gcp: { project: PROJECT, network: 'vpc', publish },
  // Fast, but three misses in a row before a gate falls: one stall of a loaded CI machine's event
  // loop must not withdraw a route in the middle of a "no write" assertion.
  health: { intervalSeconds: 0.25, timeoutSeconds: 0.25, rise: 1, fall: 3 },
  drain: { seconds: 0 },
});

async function sidecar(
  options: { providerId?: string; publish?: 'routes' | 'pubsub'; topic?: TopicPublisher } = {},
) {
  const config = parseConfig(doc(options.publish ?? 'routes'), { NODE_NAME: 'n1' });
  const parts = await createGcpMode(
    { config, logger: silentLogger(), metrics: createMetrics({ defaults: false }), trigger: () => {} },
    {
      compute: clients.port,
      topic: options.topic,
      providerId: () => options.providerId,
      checkMs: 20,
      drainMs: 0,
    },
  );
  running.push(parts);
  const controller = createController(modePipeline(gcpMode, parts), { logger: silentLogger() });
  return { parts, pass: () => controller.runOnce('test') };
}

const routesTo = (target: string) => standin.routes(PROJECT).filter((r) => r.nextHopInstance === target);
const writes = () =>
  standin.calls().filter((c) => c.method === 'routes.insert' || c.method === 'routes.delete');
const until = async (what: string, check: () => boolean, ms = 5000) => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};
const healthy = (parts: ModeParts<undefined>) =>
  until('the health gates', () => (parts.notReady?.() ?? []).length === 0);

beforeEach(async () => {
  backend = createServer((socket) => socket.end());
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
  backendPort = (backend.address() as { port: number }).port;
  standin = await startComputeStandin();
  standin.addProject(PROJECT, ['vpc']);
  lb.length = 0;
  for (const name of ['lb-1', 'lb-2', 'lb-3']) {
    lb.push(
      standin.setInstance({ project: PROJECT, zone: ZONE, name, status: 'RUNNING', canIpForward: true }),
    );
  }
  clients = standinClients(standin, PROJECT);
  // The other two LBs' routes, as their own sidecars wrote them.
  const registry = createGcpRouteRegistry({
    routes: createComputeRoutes({ compute: clients.port, project: PROJECT, network: 'vpc' }),
    owner: 'portlb',
    priority: 1000,
    logger: silentLogger(),
  });
  const observation = await registry.observe();
  await registry.apply(
    VIPS.flatMap((vip) =>
      lb.slice(1).map((target) => ({
        kind: 'create' as const,
        table: 'vpc',
        vip,
        target,
        reason: { code: 'healthy' as const },
      })),
    ),
    { observation, next: [] },
  );
  standin.resetCalls();
});

afterEach(async () => {
  for (const parts of running.splice(0)) await parts.close?.();
  await clients.close();
  await standin.close();
  await new Promise((resolve) => backend.close(resolve));
});

describe('gcp mode, publish: routes', () => {
  it('writes only the routes to its own instance; then one list and no write per pass', async () => {
    const { parts, pass } = await sidecar({ providerId: `gce://${PROJECT}/${ZONE}/lb-1` });
    await parts.start?.();
    await healthy(parts);

    const first = await pass();
    standin.resetCalls();
    const steady = await pass();

    expect(first.applied.map((c) => [c.kind, c.vip, c.target])).toEqual(
      VIPS.map((vip) => ['create', vip, lb[0]]),
    );
    expect(routesTo(lb[0] ?? '')).toHaveLength(2);
    expect(routesTo(lb[1] ?? '')).toHaveLength(2);
    expect(routesTo(lb[2] ?? '')).toHaveLength(2);
    expect(steady.plan.changes).toEqual([]);
    expect(standin.calls().map((c) => c.method)).toEqual(['routes.list']);
    // Only its own routes are listed: one page however many LBs the network has.
    expect(standin.calls()[0]?.query.filter).toContain(
      `(nextHopInstance eq ".*/zones/${ZONE}/instances/lb-1")`,
    );
  });

  it('withdraws its own routes when its health gate fails, and touches no other LB', async () => {
    const { parts, pass } = await sidecar({ providerId: `gce://${PROJECT}/${ZONE}/lb-1` });
    await parts.start?.();
    await healthy(parts);
    await pass();

    await new Promise((resolve) => backend.close(resolve));
    await until('the gates to fail', () => (parts.notReady?.() ?? []).length === VIPS.length);
    const outcome = await pass();
    backend = createServer();

    expect(outcome.applied.map((c) => [c.kind, c.target])).toEqual(VIPS.map(() => ['delete', lb[0]]));
    expect(routesTo(lb[0] ?? '')).toEqual([]);
    expect(routesTo(lb[1] ?? '')).toHaveLength(2);
  });

  it('on shutdown deletes its own routes, then drains', async () => {
    const { parts, pass } = await sidecar({ providerId: `gce://${PROJECT}/${ZONE}/lb-1` });
    await parts.start?.();
    await healthy(parts);
    await pass();
    standin.resetCalls();

    await parts.shutdown?.();

    expect(writes().map((c) => c.method)).toEqual(VIPS.map(() => 'routes.delete'));
    expect(routesTo(lb[0] ?? '')).toEqual([]);
    expect(routesTo(lb[2] ?? '')).toHaveLength(2);
  });

  it('refuses an instance without canIpForward with an error naming it', async () => {
    standin.setInstance({
      project: PROJECT,
      zone: ZONE,
      name: 'lb-9',
      status: 'RUNNING',
      canIpForward: false,
    });
    const { parts, pass } = await sidecar({ providerId: `gce://${PROJECT}/${ZONE}/lb-9` });
    await parts.start?.();
    await healthy(parts);

    const outcome = await pass();

    expect(outcome.error?.message).toMatch(/instance lb-9 .*canIpForward off/);
    expect(writes()).toEqual([]);
  });

  it.each([
    [undefined, 'the Node has no providerID yet'],
    ['aws:///eu-west-1a/i-0abc', 'is not a GCE instance'],
  ])('with providerID %s: not ready, writes nothing', async (providerId, why) => {
    const { parts, pass } = await sidecar(providerId === undefined ? {} : { providerId });

    expect(parts.canWrite?.()).toBe(false);
    expect(parts.notReady?.().join('\n')).toContain(why);
    expect((await pass()).plan.changes).toEqual([]);
  });
});

describe('gcp mode, publish: pubsub', () => {
  it('publishes ready once healthy, then draining and gone on shutdown, and calls no Compute API', async () => {
    const published: unknown[] = [];
    const topic: TopicPublisher = {
      topic: 'projects/portlb-test/topics/portlb-lifecycle',
      publish: async (message) => {
        published.push(message);
        return String(published.length);
      },
    };
    const { parts, pass } = await sidecar({
      providerId: `gce://${PROJECT}/${ZONE}/lb-1`,
      publish: 'pubsub',
      topic,
    });
    await parts.start?.();
    const states = () => published.map((m) => gcpLifecycleSchema.parse(m).state);
    await until('a ready message', () => states().includes('ready'));
    expect(parts.canWrite?.()).toBe(false);
    expect((await pass()).plan.changes).toEqual([]);

    await parts.shutdown?.();

    // Before its gates rose it said `draining` (a route left by an earlier pod goes); then `ready`.
    expect(states().slice(-3)).toEqual(['ready', 'draining', 'gone']);
    expect(gcpLifecycleSchema.parse(published[0]).instance).toBe(lb[0]);
    expect(standin.calls()).toEqual([]);
  });

  it('stays ready while a publish fails, showing the failure in its status', async () => {
    let failing = true;
    const published: unknown[] = [];
    const topic: TopicPublisher = {
      topic: 'projects/portlb-test/topics/portlb-lifecycle',
      publish: async (message) => {
        if (failing) throw new Error('14 UNAVAILABLE: the emulator is down');
        published.push(message);
        return String(published.length);
      },
    };
    const { parts } = await sidecar({
      providerId: `gce://${PROJECT}/${ZONE}/lb-1`,
      publish: 'pubsub',
      topic,
    });
    await parts.start?.();
    const publishError = () =>
      (parts.status?.() as { gcp?: { publishError?: string } } | undefined)?.gcp?.publishError;
    await healthy(parts);
    await until('a failed publish', () => publishError() !== undefined);
    expect(publishError()).toMatch(
      /publishing lifecycle \w+ to projects\/portlb-test\/topics\/portlb-lifecycle failed: 14 UNAVAILABLE/,
    );
    expect(parts.notReady?.()).toEqual([]);

    failing = false;
    // The publisher's backoff after a few failures: 2, 4, 8 s.
    await until('the retry to go out', () => published.length > 0, 20_000);
    expect(publishError()).toBeUndefined();
  }, 30_000);
});

describe('the gcp descriptor', () => {
  const short = `projects/${PROJECT}/zones/${ZONE}/instances/lb-1`;
  const full = `https://www.googleapis.com/compute/v1/${short}`;

  it('compares instance URLs in their full form, as Compute reports them', () => {
    expect(gcpMode.canonicalTarget?.(short)).toBe(full);
    expect(gcpMode.canonicalTarget?.(full)).toBe(full);
    expect(
      gcpMode.staticCandidate({ node: 'n1', address: '10.0.0.1', cloudTarget: short, healthy: true }).target,
    ).toBe(full);
  });
});
