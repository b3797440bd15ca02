import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createOrphanSweep } from '../../src/modes/gcp/orphans.js';
import type { ComputeClients } from '../../src/providers/gcp/client.js';
import { createComputeRoutes } from '../../src/providers/gcp/routes.js';
import { createGcpRouteRegistry } from '../../src/registry/gcp/provider.js';
import { silentLogger } from '../../src/runtime/logger.js';
import { type StandinLbs, standinWithLbs } from '../support/compute-standin/client.js';
import type { ComputeStandin } from '../support/compute-standin/server.js';

// The orphan sweep (src/modes/gcp/orphans.ts) over the real registry, adapter and client, against
// the Compute stand-in: routes of this owner to instances with no LB pod go after the grace period.

const PROJECT = 'portlb-test';
const ZONE = 'europe-west1-b';
const VIPS = ['192.0.2.0/28', '198.51.100.0/24'];
const GRACE = 30_000;
let lbs: StandinLbs;
let standin: ComputeStandin;
let clients: ComputeClients;
const lb: string[] = [];

const registryFor = (owner: string) =>
  createGcpRouteRegistry({
    routes: createComputeRoutes({ compute: clients.port, project: PROJECT, network: 'vpc' }),
    owner,
    priority: 1000,
    logger: silentLogger(),
  });

async function insert(owner: string, vip: string, target: string) {
  const registry = registryFor(owner);
  const observation = await registry.observe();
  const [result] = await registry.apply(
    [{ kind: 'create', table: 'vpc', vip, target, reason: { code: 'healthy' } }],
    { observation, next: [] },
  );
  expect(result?.error).toBeUndefined();
}

function sweeper(hosts: () => ReadonlySet<string> | undefined) {
  const clock = { now: 1_000_000 };
  const sweep = createOrphanSweep({
    registry: registryFor('portlb'),
    vips: new Set(VIPS),
    lbInstances: async () => hosts(),
    graceMs: GRACE,
    now: () => clock.now,
    logger: silentLogger(),
  });
  return { clock, sweep };
}

const targets = () =>
  standin
    .routes(PROJECT)
    .map((r) => `${r.destRange} ${r.nextHopInstance?.split('/').at(-1)}`)
    .sort();

beforeEach(async () => {
  lbs = await standinWithLbs(PROJECT, ZONE, ['lb-1', 'lb-2', 'lb-3']);
  ({ standin, clients } = lbs);
  lb.splice(0, lb.length, ...lbs.instances);
  for (const vip of VIPS) for (const target of lb) await insert('portlb', vip, target);
  // Someone else's route to lb-2, and one of ours for a VIP this config does not serve.
  await insert('other', VIPS[0] ?? '', lb[1] ?? '');
  await insert('portlb', '203.0.113.0/24', lb[1] ?? '');
  standin.resetCalls();
});

afterEach(() => lbs.close());

describe('the gcp orphan sweep', () => {
  it('deletes our routes to an instance with no LB pod once it has had none for the grace period', async () => {
    const { clock, sweep } = sweeper(() => new Set([lb[0] ?? '', lb[2] ?? '']));
    const before = targets();

    await sweep.sweep();
    clock.now += GRACE - 1;
    await sweep.sweep();
    expect(targets()).toEqual(before);

    clock.now += 1;
    await sweep.sweep();
    expect(targets()).toEqual(
      [
        '192.0.2.0/28 lb-1',
        '192.0.2.0/28 lb-2', // someone else's
        '192.0.2.0/28 lb-3',
        '198.51.100.0/24 lb-1',
        '198.51.100.0/24 lb-3',
        '203.0.113.0/24 lb-2', // ours, but not a VIP of this config
      ].sort(),
    );
    expect(standin.calls().filter((c) => c.method === 'routes.delete')).toHaveLength(2);
  });

  it('starts the grace period again when an LB pod comes back to the instance', async () => {
    let hosts = new Set([lb[0] ?? '', lb[2] ?? '']);
    const { clock, sweep } = sweeper(() => hosts);
    const before = targets();

    await sweep.sweep();
    clock.now += GRACE / 2;
    hosts = new Set(lb);
    await sweep.sweep();
    hosts = new Set([lb[0] ?? '', lb[2] ?? '']);
    clock.now += GRACE / 2;
    await sweep.sweep();
    expect(targets()).toEqual(before);
  });

  it('does nothing, not even a list, while the LB pods are not known for certain', async () => {
    const { clock, sweep } = sweeper(() => undefined);
    const before = targets();
    await sweep.sweep();
    clock.now += GRACE * 10;
    await sweep.sweep();
    expect(targets()).toEqual(before);
    expect(standin.calls()).toEqual([]);
  });
});
