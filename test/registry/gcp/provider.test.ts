import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Change, DesiredRoute } from '../../../src/core/model.js';
import { plan } from '../../../src/core/plan.js';
import type { Registry } from '../../../src/core/ports.js';
import { reasonText } from '../../../src/core/reasons.js';
import { gcpMode } from '../../../src/modes/gcp/index.js';
import type { ComputeClients } from '../../../src/providers/gcp/client.js';
import { createComputeRoutes } from '../../../src/providers/gcp/routes.js';
import { routeDescription, routeName } from '../../../src/registry/gcp/names.js';
import { createGcpRouteRegistry } from '../../../src/registry/gcp/provider.js';
import { silentLogger } from '../../../src/runtime/logger.js';
import { standinClients } from '../../support/compute-standin/client.js';
import { type ComputeStandin, startComputeStandin } from '../../support/compute-standin/server.js';

// The registry decorator over the real adapter and client, against the Compute stand-in, driven
// by the pure planner as the controller will drive it (plan cardinality multi, tables = [network]).

const PROJECT = 'portlb-test';
const VIP = '192.0.2.0/24';
let standin: ComputeStandin;
let clients: ComputeClients;
let provider: Registry<undefined>;
const lb: string[] = [];

function desired(healthy: readonly string[], vip = VIP): DesiredRoute[] {
  return [
    { vip, service: 'web', candidates: lb.map((target) => ({ target, healthy: healthy.includes(target) })) },
  ];
}

async function reconcile(want: DesiredRoute[]) {
  const observation = await provider.observe();
  const { tables } = observation;
  const result = plan(want, observation.routes, {
    owner: 'portlb',
    tables,
    cardinality: gcpMode.cardinality,
  });
  const applied = await provider.apply(result.changes, { observation, next: [] });
  return { result, applied };
}

/** One change applied on its own, as a pass would after observing. */
async function applyOne(change: Change) {
  return provider.apply([change], { observation: await provider.observe(), next: [] });
}

const observe = async () => (await provider.observe()).routes;

const writes = () =>
  standin.calls().filter((c) => c.method === 'routes.insert' || c.method === 'routes.delete');

beforeEach(async () => {
  standin = await startComputeStandin();
  standin.addProject(PROJECT, ['vpc']);
  lb.length = 0;
  for (const [i, zone] of ['europe-west1-b', 'europe-west1-c', 'europe-west1-d'].entries()) {
    lb.push(
      standin.setInstance({
        project: PROJECT,
        zone,
        name: `lb-${i + 1}`,
        status: 'RUNNING',
        canIpForward: true,
      }),
    );
  }
  clients = standinClients(standin, PROJECT);
  const routes = createComputeRoutes({
    compute: clients.port,
    project: PROJECT,
    network: 'vpc',
    retryDelayMs: 1,
  });
  provider = createGcpRouteRegistry({ routes, owner: 'portlb', priority: 1000, logger: silentLogger() });
});

afterEach(async () => {
  await clients.close();
  await standin.close();
});

describe('gcp route registry', () => {
  it('writes one equal-priority route per healthy LB, then costs one list and no writes', async () => {
    const first = await reconcile(desired(lb));
    expect(first.applied.every((r) => r.error === undefined)).toBe(true);
    const routes = standin.routes(PROJECT);
    expect(routes.map((r) => r.nextHopInstance).sort()).toEqual([...lb].sort());
    expect(new Set(routes.map((r) => r.priority))).toEqual(new Set([1000]));
    expect(routes.every((r) => r.description?.startsWith('portlb owner=portlb '))).toBe(true);

    standin.resetCalls();
    const steady = await reconcile(desired(lb));
    expect(steady.result.changes).toEqual([]);
    expect(standin.count('routes.list')).toBe(1);
    expect(writes()).toEqual([]);
  });

  it('moves a VIP make-before-break: every insert before any delete', async () => {
    await reconcile(desired([lb[0]!]));
    standin.resetCalls();

    await reconcile(desired([lb[1]!]));

    expect(writes().map((c) => c.method)).toEqual(['routes.insert', 'routes.delete']);
    expect(standin.routes(PROJECT).map((r) => r.nextHopInstance)).toEqual([lb[1]]);
  });

  it('applies a replace as insert of the new route, then delete of the old', async () => {
    await reconcile(desired([lb[0]!]));
    const old = routeName('portlb', VIP, lb[0]!);
    standin.resetCalls();

    const [result] = await applyOne({
      kind: 'replace',
      table: 'vpc',
      vip: VIP,
      from: lb[0]!,
      target: lb[2]!,
      reason: { code: 'unhealthy' },
      id: old,
    });

    expect(result?.error).toBeUndefined();
    expect(writes().map((c) => c.method)).toEqual(['routes.insert', 'routes.delete']);
    expect(standin.routes(PROJECT).map((r) => r.nextHopInstance)).toEqual([lb[2]]);
  });

  it('keeps the old route of a replace when the new one cannot be inserted', async () => {
    await reconcile(desired([lb[0]!]));
    standin.state.instances.get(lb[2]!)!.canIpForward = false;

    const [result] = await applyOne({
      kind: 'replace',
      table: 'vpc',
      vip: VIP,
      from: lb[0]!,
      target: lb[2]!,
      reason: { code: 'unhealthy' },
    });

    expect(String(result?.error)).toMatch(/instance lb-3 .*canIpForward off/);
    expect(standin.routes(PROJECT).map((r) => r.nextHopInstance)).toEqual([lb[0]]);
  });

  it('refuses an instance without canIpForward for that change only', async () => {
    standin.state.instances.get(lb[1]!)!.canIpForward = false;

    const { applied } = await reconcile(desired(lb));

    const failed = applied.filter((r) => r.error !== undefined);
    expect(failed.map((r) => r.change.target)).toEqual([lb[1]]);
    expect(String(failed[0]?.error)).toMatch(
      /instance lb-2 \(zone europe-west1-c, project portlb-test\) has canIpForward off/,
    );
    expect(standin.routes(PROJECT)).toHaveLength(2);
  });

  it('never touches a route named like ours with another owner marker', async () => {
    const forged = routeName('portlb', VIP, lb[0]!);
    standin.state.seedRoute(PROJECT, {
      name: forged,
      destRange: VIP,
      network: 'vpc',
      nextHopInstance: lb[0],
      description: routeDescription('someone-else', VIP, lb[0]!),
    });
    const observed = await observe();
    expect(observed).toEqual([expect.objectContaining({ id: forged, owner: 'someone-else' })]);

    // Nothing desired: the plan deletes only owned routes, so the foreign one stays.
    const { result } = await reconcile([{ vip: VIP, service: 'web', candidates: [] }]);
    expect(result.changes).toEqual([]);
    expect(result.skipped.map((s) => reasonText(s.reason))).toContain(
      'route owned by someone-else left alone',
    );
    expect(standin.routes(PROJECT).map((r) => r.name)).toEqual([forged]);
  });

  it('refuses a delete whose route id is not the name it derives, even if asked to', async () => {
    standin.state.seedRoute(PROJECT, {
      name: 'portlb-handmade',
      destRange: VIP,
      network: 'vpc',
      nextHopInstance: lb[0],
    });

    const [result] = await applyOne({
      kind: 'delete',
      table: 'vpc',
      vip: VIP,
      target: lb[0]!,
      reason: { code: 'not_desired' },
      id: 'portlb-handmade',
    });

    expect(String(result?.error)).toMatch(/refusing to delete route portlb-handmade/);
    expect(standin.routes(PROJECT)).toHaveLength(1);
    expect(writes()).toEqual([]);
  });

  it('reports a route to a stopped instance as a blackhole', async () => {
    await reconcile(desired([lb[0]!]));
    standin.state.instances.get(lb[0]!)!.status = 'TERMINATED';

    expect(await observe()).toEqual([expect.objectContaining({ target: lb[0], state: 'blackhole' })]);
  });

  it('refuses changes for another table', async () => {
    const [result] = await applyOne({
      kind: 'create',
      table: 'rtb-1',
      vip: VIP,
      target: lb[0]!,
      reason: { code: 'healthy' },
    });
    expect(String(result?.error)).toMatch(/portlb manages network vpc only/);
    expect(writes()).toEqual([]);
  });
});
