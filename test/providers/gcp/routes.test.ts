import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isTransient, PermanentError } from '../../../src/errors.js';
import type { ComputeClients } from '../../../src/providers/gcp/client.js';
import { ComputePermanentError, ComputeTransientError } from '../../../src/providers/gcp/errors.js';
import {
  type ComputeRoutes,
  createComputeRoutes,
  type RouteSpec,
} from '../../../src/providers/gcp/routes.js';
import { standinClients } from '../../support/compute-standin/client.js';
import { type ComputeStandin, startComputeStandin } from '../../support/compute-standin/server.js';

// The Compute adapter driven through the real @google-cloud/compute client (REST) against the
// local stand-in (test/support/compute-standin: Google ships no Compute emulator).

const PROJECT = 'portlb-test';
let standin: ComputeStandin;
let clients: ComputeClients;
let routes: ComputeRoutes;
let lb1: string;
let lb2: string;

function spec(name: string, target = lb1, destRange = '192.0.2.0/24'): RouteSpec {
  return { name, destRange, nextHopInstance: target, priority: 1000, description: 'portlb owner=t' };
}

function adapter(options: Partial<Parameters<typeof createComputeRoutes>[0]> = {}): ComputeRoutes {
  return createComputeRoutes({
    compute: clients.port,
    project: PROJECT,
    network: 'vpc',
    retryDelayMs: 1,
    ...options,
  });
}

beforeEach(async () => {
  standin = await startComputeStandin();
  standin.addProject(PROJECT, ['vpc', 'other-vpc']);
  lb1 = standin.setInstance({
    project: PROJECT,
    zone: 'europe-west1-b',
    name: 'lb-1',
    status: 'RUNNING',
    canIpForward: true,
  });
  lb2 = standin.setInstance({
    project: PROJECT,
    zone: 'europe-west1-c',
    name: 'lb-2',
    status: 'RUNNING',
    canIpForward: true,
  });
  clients = standinClients(standin, PROJECT);
  routes = adapter();
});

afterEach(async () => {
  await clients.close();
  await standin.close();
});

describe('list', () => {
  it('reads a network with one filtered list, following every page', async () => {
    for (let i = 0; i < 1_100; i++) {
      standin.state.seedRoute(PROJECT, {
        name: `portlb-r${i}`,
        destRange: '192.0.2.0/24',
        network: 'vpc',
        nextHopInstance: lb1,
      });
    }
    standin.state.seedRoute(PROJECT, {
      name: 'portlb-elsewhere',
      destRange: '192.0.2.0/24',
      network: 'other-vpc',
      nextHopInstance: lb1,
    });
    standin.state.seedRoute(PROJECT, {
      name: 'default-route-1',
      destRange: '0.0.0.0/0',
      network: 'vpc',
      nextHopGateway: 'x',
    });

    const read = await routes.list('portlb-');

    expect(read).toHaveLength(1_100);
    expect(read.every((r) => r.network === 'vpc' && r.name.startsWith('portlb-'))).toBe(true);
    expect(standin.count('routes.list')).toBe(3); // 500 + 500 + 100
    expect(standin.calls()[0]?.query.filter).toBe(
      '(network eq ".*/global/networks/vpc") (name eq "portlb-.*")',
    );
  });

  it('reports next-hop warnings and canonical instance URLs', async () => {
    await routes.insert(spec('portlb-a'));
    standin.state.instances.get(lb1)!.status = 'TERMINATED';

    const [route] = await routes.list('portlb-');

    expect(route).toMatchObject({
      nextHopInstance: lb1,
      warnings: ['NEXT_HOP_NOT_RUNNING'],
      otherNextHop: false,
    });
  });
});

describe('insert', () => {
  it('sends a UUID requestId and waits until the operation is DONE', async () => {
    standin.state.waitsBeforeDone = 3;

    const outcome = await routes.insert(spec('portlb-a'));

    expect(outcome).toEqual({ kind: 'done', warnings: [] });
    expect(standin.count('globalOperations.wait')).toBe(3);
    const insert = standin.calls().find((c) => c.method === 'routes.insert');
    expect(insert?.query.requestId).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(standin.routes(PROJECT).map((r) => r.name)).toEqual(['portlb-a']);
  });

  it('gives up waiting after maxWaits with a transient error, and the retry reuses the requestId', async () => {
    standin.state.waitsBeforeDone = 3;
    const bounded = adapter({ maxWaits: 2, attempts: 1 });

    const error = await bounded.insert(spec('portlb-a')).catch((e: unknown) => e);
    expect(isTransient(error)).toBe(true);
    expect(String(error)).toMatch(/still RUNNING after 2 waits/);

    // Next reconcile: the same requestId finds the same (still running) operation; one more wait ends it.
    await expect(bounded.insert(spec('portlb-a'))).resolves.toMatchObject({ kind: 'done' });
    const ids = standin
      .calls()
      .filter((c) => c.method === 'routes.insert')
      .map((c) => c.query.requestId);
    expect(ids).toHaveLength(2);
    expect(new Set(ids).size).toBe(1);
    expect(standin.count('globalOperations.wait')).toBe(3);
    expect(standin.routes(PROJECT)).toHaveLength(1);
  });

  it('retries a lost answer with the same requestId: the route is inserted once', async () => {
    standin.fault({ method: 'routes.insert', status: 503, reason: 'backendError', afterEffect: true });

    await expect(routes.insert(spec('portlb-a'))).resolves.toMatchObject({ kind: 'done' });

    const inserts = standin.calls().filter((c) => c.method === 'routes.insert');
    expect(inserts.map((c) => c.status)).toEqual([503, 200]);
    expect(inserts[0]?.query.requestId).toBe(inserts[1]?.query.requestId);
    expect(standin.routes(PROJECT)).toHaveLength(1);
  });

  it('answers a 409 by reading the route: the same route is fine', async () => {
    standin.state.seedRoute(PROJECT, {
      name: 'portlb-a',
      destRange: '192.0.2.0/24',
      network: 'vpc',
      nextHopInstance: lb1,
      priority: 1000,
      description: 'portlb owner=t',
    });

    await expect(routes.insert(spec('portlb-a'))).resolves.toEqual({ kind: 'exists', warnings: [] });
    expect(standin.count('routes.get')).toBe(1);
  });

  it('answers a 409 by reading the route: a different one is a permanent error saying what differs', async () => {
    standin.state.seedRoute(PROJECT, {
      name: 'portlb-a',
      destRange: '192.0.2.0/24',
      network: 'vpc',
      nextHopInstance: lb2,
    });

    const error = await routes.insert(spec('portlb-a')).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(PermanentError);
    expect(String(error)).toMatch(/portlb-a already exists and differs.*nextHopInstance .*lb-2/);
    expect(standin.routes(PROJECT)[0]?.nextHopInstance).toBe(lb2);
  });

  it('surfaces the NEXT_HOP_NOT_RUNNING warning of the operation', async () => {
    standin.state.instances.get(lb2)!.status = 'STOPPING';

    const outcome = await routes.insert(spec('portlb-b', lb2));

    expect(outcome.warnings.map((w) => w.code)).toEqual(['NEXT_HOP_NOT_RUNNING']);
  });
});

describe('delete', () => {
  it('deletes with a requestId and waits; a route already gone is done', async () => {
    await routes.insert(spec('portlb-a'));

    await expect(routes.delete('portlb-a')).resolves.toMatchObject({ kind: 'done' });
    await expect(routes.delete('portlb-a')).resolves.toMatchObject({ kind: 'absent' });
    expect(standin.routes(PROJECT)).toEqual([]);
    const deletes = standin.calls().filter((c) => c.method === 'routes.delete');
    expect(deletes.every((c) => c.query.requestId !== undefined)).toBe(true);
  });
});

describe('canIpForward', () => {
  it('refuses an instance without canIpForward, naming it', async () => {
    standin.setInstance({
      project: PROJECT,
      zone: 'europe-west1-d',
      name: 'plain-vm',
      status: 'RUNNING',
      canIpForward: false,
    });
    const url = `https://www.googleapis.com/compute/v1/projects/${PROJECT}/zones/europe-west1-d/instances/plain-vm`;

    await expect(routes.assertCanForward(url)).rejects.toThrow(
      /instance plain-vm \(zone europe-west1-d.*canIpForward off/,
    );
  });

  it('reads an instance once it passed', async () => {
    await routes.assertCanForward(lb1);
    await routes.assertCanForward(lb1);
    expect(standin.count('instances.get')).toBe(1);
  });

  it('names an instance that does not exist', async () => {
    const url = `https://www.googleapis.com/compute/v1/projects/${PROJECT}/zones/europe-west1-b/instances/gone`;
    await expect(routes.assertCanForward(url)).rejects.toThrow(
      /instance gone \(zone europe-west1-b\) does not exist/,
    );
  });
});

describe('errors', () => {
  it.each([
    { status: 403, reason: 'rateLimitExceeded' },
    { status: 429, reason: 'rateLimitExceeded' },
    { status: 503, reason: 'backendError' },
    { status: 500, reason: 'internalError' },
  ])('$status $reason is transient', async (fault) => {
    standin.fault({ method: 'routes.list', ...fault });
    const error = await routes.list('portlb-').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ComputeTransientError);
    expect((error as Error).cause).toBeDefined();
  });

  it.each([
    ['compute.routes.create', 'routes.insert'],
    ['compute.networks.updatePolicy', 'routes.insert'],
  ])('a missing %s is permanent and named', async (permission) => {
    standin.deny(permission);
    const error = await routes.insert(spec('portlb-a')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ComputePermanentError);
    expect((error as ComputePermanentError).permission).toBe(permission);
    expect(String(error)).toContain(`grant ${permission}`);
  });

  it('a missing compute.routes.list is named on the read', async () => {
    standin.deny('compute.routes.list');
    await expect(routes.list('portlb-')).rejects.toThrow(
      /not permitted in project portlb-test: grant compute.routes.list/,
    );
  });

  it('names a network that does not exist', async () => {
    const wrong = adapter({ network: 'no-such-vpc' });
    await expect(wrong.insert(spec('portlb-a'))).rejects.toThrow(
      /network no-such-vpc does not exist in project portlb-test/,
    );
  });

  it('names a project that does not exist, also on delete (never taken for "already gone")', async () => {
    const wrong = adapter({ project: 'no-such-project' });
    await expect(wrong.list('portlb-')).rejects.toThrow(/project no-such-project does not exist/);
    await expect(wrong.delete('portlb-a')).rejects.toThrow(/project no-such-project does not exist/);
  });

  it('a refused connection is transient', async () => {
    await standin.close();
    const error = await adapter({ attempts: 1 })
      .list('portlb-')
      .catch((e: unknown) => e);
    standin = await startComputeStandin(); // for afterEach
    expect(isTransient(error)).toBe(true);
  });
});
