import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type GcpFunctionConfig, parseGcpFunctionEnv } from '../../../functions/gcp/env.js';
import { type GcpPassInput, runGcpPass } from '../../../functions/gcp/pass.js';
import type { ComputeClients } from '../../../src/providers/gcp/client.js';
import { LIFECYCLE_KIND } from '../../../src/providers/gcp/lifecycle.js';
import { createComputeRoutes } from '../../../src/providers/gcp/routes.js';
import { routeDescription, routeName } from '../../../src/registry/gcp/names.js';
import { silentLogger } from '../../../src/runtime/logger.js';
import { standinClients } from '../../support/compute-standin/client.js';
import { type ComputeStandin, startComputeStandin } from '../../support/compute-standin/server.js';

// The functions' pass (functions/gcp/pass.ts: the shared controller with the function's source
// and scope) over the real adapter and client, against the Compute stand-in.

const PROJECT = 'portlb-test';
const VIPS = ['192.0.2.0/28', '192.0.2.16/28', '198.51.100.0/24'];
const NOW = 1_796_112_000_000;
let standin: ComputeStandin;
let clients: ComputeClients;
const lb: string[] = [];

function config(overrides: Record<string, string> = {}): GcpFunctionConfig {
  const env = parseGcpFunctionEnv({
    PORTLB_PROJECT: PROJECT,
    PORTLB_NETWORK: 'vpc',
    PORTLB_VIPS: VIPS.join(','),
    ...overrides,
  });
  if (!env.ok) throw new Error(JSON.stringify(env.problems));
  return env.config;
}

function run(input: GcpPassInput, cfg = config()) {
  const routes = createComputeRoutes({
    compute: clients.port,
    project: cfg.project,
    network: cfg.network,
    retryDelayMs: 1,
  });
  return runGcpPass({ routes, config: cfg, logger: silentLogger(), now: () => NOW }, input);
}

const lifecycle = (instance: string, state: 'ready' | 'draining' | 'gone', at = NOW - 1000) =>
  ({
    kind: 'lifecycle',
    detail: {
      kind: LIFECYCLE_KIND,
      version: 1,
      owner: 'portlb',
      node: 'n',
      pod: 'lb/p',
      instance,
      state,
      at,
    },
  }) as const;

const routesTo = (target: string) =>
  standin.routes(PROJECT).filter((r) => r.nextHopInstance === target && r.name.startsWith('portlb-'));
const writes = () =>
  standin.calls().filter((c) => c.method === 'routes.insert' || c.method === 'routes.delete');

beforeEach(async () => {
  standin = await startComputeStandin();
  standin.addProject(PROJECT, ['vpc']);
  lb.length = 0;
  for (const name of ['lb-1', 'lb-2', 'lb-3']) {
    lb.push(
      standin.setInstance({
        project: PROJECT,
        zone: 'europe-west1-b',
        name,
        status: 'RUNNING',
        canIpForward: true,
      }),
    );
  }
  clients = standinClients(standin, PROJECT);
  // Every LB announced itself: every VIP routes to all three.
  for (const instance of lb) expect((await run(lifecycle(instance, 'ready'))).status).toBe('changed');
  standin.resetCalls();
});

afterEach(async () => {
  await clients.close();
  await standin.close();
});

describe('instance events', () => {
  it('delete exactly the routes to that instance, one per VIP, and write nothing else', async () => {
    const outcome = await run({ kind: 'instance-down', instance: lb[1] ?? '', why: 'deleted' });

    expect(outcome.status).toBe('changed');
    expect(outcome.applied.map((c) => [c.kind, c.vip, c.target])).toEqual(
      VIPS.map((vip) => ['delete', vip, lb[1]]),
    );
    expect(writes().map((c) => c.method)).toEqual(VIPS.map(() => 'routes.delete'));
    expect(routesTo(lb[1] ?? '')).toEqual([]);
    expect(routesTo(lb[0] ?? '')).toHaveLength(3);
  });

  it('a duplicate changes nothing', async () => {
    await run({ kind: 'instance-down', instance: lb[1] ?? '', why: 'deleted' });
    standin.resetCalls();

    const again = await run({ kind: 'instance-down', instance: lb[1] ?? '', why: 'deleted' });

    expect(again.status).toBe('noop');
    expect(writes()).toEqual([]);
    expect(standin.count('routes.list')).toBe(1);
  });

  it('an instance portlb never used is a logged no-op', async () => {
    const stranger = standin.setInstance({
      project: PROJECT,
      zone: 'europe-west1-b',
      name: 'db-1',
      status: 'RUNNING',
      canIpForward: false,
    });

    const outcome = await run({ kind: 'instance-down', instance: stranger, why: 'deleted' });

    expect(outcome).toMatchObject({ status: 'noop', reason: expect.stringContaining('no portlb route') });
    expect(writes()).toEqual([]);
  });

  it('leaves a route named like ours with another owner marker alone', async () => {
    const name = routeName('portlb', VIPS[0] ?? '', lb[0] ?? '');
    standin.state.seedRoute(PROJECT, {
      name: `${name.slice(0, 50)}-copy`,
      destRange: VIPS[0] ?? '',
      network: 'vpc',
      nextHopInstance: lb[0] ?? '',
      description: routeDescription('someone-else', VIPS[0] ?? '', lb[0] ?? ''),
    });

    await run({ kind: 'instance-down', instance: lb[0] ?? '', why: 'deleted' });

    expect(routesTo(lb[0] ?? '').map((r) => r.name)).toEqual([`${name.slice(0, 50)}-copy`]);
  });

  it('a missing permission fails with the permission named, and nothing else is written', async () => {
    standin.deny('compute.routes.delete');

    await expect(run({ kind: 'instance-down', instance: lb[0] ?? '', why: 'deleted' })).rejects.toThrow(
      /compute\.routes\.delete/,
    );
    expect(routesTo(lb[0] ?? '')).toHaveLength(3);
  });
});

describe('the sweep', () => {
  it('removes the routes whose next hop is gone or not running, and creates nothing', async () => {
    standin.removeInstance(PROJECT, 'europe-west1-b', 'lb-2');
    const three = standin.state.instances.get(lb[2] ?? '');
    if (three) three.status = 'TERMINATED';
    // Drift the sweep must not "repair" by creating: lb-1 withdrew one VIP (its own health gate).
    const dropped = routeName('portlb', VIPS[2] ?? '', lb[0] ?? '');
    standin.state.project(PROJECT)?.routes.delete(dropped);

    const outcome = await run({ kind: 'sweep' });

    expect(outcome.applied.every((c) => c.kind === 'delete')).toBe(true);
    expect(outcome.applied).toHaveLength(6);
    expect(routesTo(lb[1] ?? '')).toEqual([]);
    expect(routesTo(lb[2] ?? '')).toEqual([]);
    expect(routesTo(lb[0] ?? '')).toHaveLength(2);
  });

  it('removes the routes of a VIP no longer configured', async () => {
    const outcome = await run({ kind: 'sweep' }, config({ PORTLB_VIPS: VIPS.slice(0, 2).join(',') }));

    expect(outcome.applied.map((c) => c.vip)).toEqual([VIPS[2], VIPS[2], VIPS[2]]);
  });

  it('in steady state: one list, no write', async () => {
    const outcome = await run({ kind: 'sweep' });

    expect(outcome.status).toBe('unchanged');
    expect(standin.calls().map((c) => c.method)).toEqual(['routes.list']);
  });
});

describe('lifecycle messages', () => {
  it('draining deletes that LB routes; ready puts them back; a duplicate changes nothing', async () => {
    const draining = await run(lifecycle(lb[0] ?? '', 'draining'));
    expect(draining.applied.map((c) => c.kind)).toEqual(['delete', 'delete', 'delete']);
    expect(routesTo(lb[0] ?? '')).toEqual([]);

    const ready = await run(lifecycle(lb[0] ?? '', 'ready'));
    expect(ready.applied.map((c) => c.kind)).toEqual(['create', 'create', 'create']);
    standin.resetCalls();

    expect((await run(lifecycle(lb[0] ?? '', 'ready'))).status).toBe('unchanged');
    expect(writes()).toEqual([]);
  });

  it('touches no other LB', async () => {
    standin.removeInstance(PROJECT, 'europe-west1-b', 'lb-3');

    const outcome = await run(lifecycle(lb[0] ?? '', 'ready'));

    expect(outcome.status).toBe('unchanged');
    expect(routesTo(lb[2] ?? '')).toHaveLength(3);
  });

  it('refuses an instance without canIpForward, naming it, and writes nothing', async () => {
    const closed = standin.setInstance({
      project: PROJECT,
      zone: 'europe-west1-c',
      name: 'lb-4',
      status: 'RUNNING',
      canIpForward: false,
    });

    await expect(run(lifecycle(closed, 'ready'))).rejects.toThrow(/lb-4 .*canIpForward off/);
    expect(routesTo(closed)).toEqual([]);
  });

  it('ignores a stale message and one of another owner', async () => {
    const stale = await run(lifecycle(lb[0] ?? '', 'draining', NOW - 600_000));
    const foreign = await run({
      kind: 'lifecycle',
      detail: { ...lifecycle(lb[0] ?? '', 'draining').detail, owner: 'other' },
    });

    expect([stale.status, foreign.status]).toEqual(['noop', 'noop']);
    expect(stale.reason).toMatch(/600 s old/);
    expect(writes()).toEqual([]);
  });
});

describe('the environment', () => {
  it.each([
    [{ PORTLB_VIPS: '10.0.0.5/24' }, 'env.PORTLB_VIPS[0]'],
    [{ PORTLB_PRIORITY: '70000' }, 'env.PORTLB_PRIORITY'],
    [{ PORTLB_OWNER: 'Not_A_Label' }, 'env.PORTLB_OWNER'],
    [{ PORTLB_PROJECT: '' }, 'env.PORTLB_PROJECT'],
  ])('refuses %o naming %s', (overrides, path) => {
    const env = parseGcpFunctionEnv({
      PORTLB_PROJECT: PROJECT,
      PORTLB_NETWORK: 'vpc',
      PORTLB_VIPS: VIPS.join(','),
      ...overrides,
    });

    expect(env.ok ? [] : env.problems.map((p) => p.path)).toContain(path);
  });
});
