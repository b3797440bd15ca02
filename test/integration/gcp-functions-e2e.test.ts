import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIFECYCLE_KIND } from '../../src/providers/gcp/lifecycle.js';
import { routeDescription, routeName } from '../../src/registry/gcp/names.js';
import { auditEntry } from '../fixtures/gcp/audit-log.js';
import { type ComputeStandin, startComputeStandin } from '../support/compute-standin/server.js';
import {
  type Daemon,
  type PubsubEmulator,
  startFunctionsFramework,
  startPubsubEmulator,
} from './gcp-harness.js';

// portlb's three Cloud Functions end to end, on loopback: messages published to the real Pub/Sub
// emulator are pushed to the real Functions Framework serving OUR bundle (dist/functions/gcp-source,
// as the source archive holds it), whose passes write through the real Compute client to the
// Compute stand-in.

const root = resolve(import.meta.dirname, '../..');
const PROJECT = 'portlb-test';
const ZONE = 'europe-west1-b';
const VIPS = ['192.0.2.0/28', '198.51.100.0/24'];
const TOPICS = {
  instanceEvent: 'portlb-instance-events',
  sweep: 'portlb-sweep',
  lifecycle: 'portlb-lifecycle',
};

let standin: ComputeStandin;
let pubsub: PubsubEmulator;
const functions: Record<string, Daemon> = {};
const lb: string[] = [];

type Line = { event?: string; messageId?: string; reason?: string; status?: string; err?: string };
const parse = (line: string): Line => {
  try {
    return JSON.parse(line) as Line;
  } catch {
    return {};
  }
};

/** Publishes to a function's topic and waits for its last word on that message. */
async function deliver(target: keyof typeof TOPICS, payload: unknown): Promise<Line> {
  const data = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const id = await pubsub.publish(PROJECT, TOPICS[target], data);
  const final = new Set(['done', 'ignored', 'permanent_error', 'config_error']);
  const line = await functions[target]?.waitForLine((l) => {
    const p = parse(l);
    return p.messageId === id && final.has(p.event ?? '');
  }, 30_000);
  return parse(line ?? '');
}

const lifecycle = (instance: string, state: 'ready' | 'draining' | 'gone') => ({
  kind: LIFECYCLE_KIND,
  version: 1,
  owner: 'portlb',
  node: instance.split('/').pop(),
  pod: `lb/${instance.split('/').pop()}-pod`,
  instance,
  state,
  at: Date.now(),
});
const routesTo = (target: string) => standin.routes(PROJECT).filter((r) => r.nextHopInstance === target);
/** portlb's routes to an instance, without the look-alike of another owner one test plants. */
const ours = (target: string) => routesTo(target).filter((r) => !r.name.endsWith('-theirs'));
const writes = () =>
  standin.calls().filter((c) => c.method === 'routes.insert' || c.method === 'routes.delete');

beforeAll(async () => {
  execFileSync(process.execPath, ['scripts/build-functions.mjs'], { cwd: root, stdio: 'ignore' });
  standin = await startComputeStandin();
  standin.addProject(PROJECT, ['vpc']);
  for (const name of ['lb-1', 'lb-2', 'lb-3']) {
    lb.push(
      standin.setInstance({ project: PROJECT, zone: ZONE, name, status: 'RUNNING', canIpForward: true }),
    );
  }
  pubsub = await startPubsubEmulator();
  const env = {
    PORTLB_PROJECT: PROJECT,
    PORTLB_NETWORK: 'vpc',
    PORTLB_VIPS: VIPS.join(','),
    PORTLB_PRIORITY: '900',
    PORTLB_COMPUTE_ENDPOINT: standin.url,
    PORTLB_GCP_TEST_TOKEN: 'standin-token',
  };
  for (const [target, topic] of Object.entries(TOPICS)) {
    const daemon = await startFunctionsFramework(resolve(root, 'dist/functions/gcp-source'), target, env);
    functions[target] = daemon;
    await pubsub.createTopic(PROJECT, topic);
    await pubsub.createPushSubscription(
      PROJECT,
      `${topic}-push`,
      topic,
      `${daemon.url}/projects/${PROJECT}/topics/${topic}`,
    );
  }
}, 180_000);

afterAll(async () => {
  for (const daemon of Object.values(functions)) await daemon.stop();
  await pubsub?.stop();
  await standin?.close();
});

describe('Pub/Sub emulator -> Functions Framework -> portlb functions -> Compute stand-in', () => {
  it('lifecycle: each LB that reports ready gets one route per VIP, at the configured priority', async () => {
    for (const instance of lb) {
      expect(await deliver('lifecycle', lifecycle(instance, 'ready'))).toMatchObject({
        event: 'done',
        status: 'changed',
      });
    }

    for (const instance of lb) expect(routesTo(instance)).toHaveLength(VIPS.length);
    expect(new Set(standin.routes(PROJECT).map((r) => r.priority))).toEqual(new Set([900]));
  });

  it('an instances.delete operation: its first entry deletes the routes to it, its last is ignored', async () => {
    standin.resetCalls();

    const first = await deliver('instanceEvent', auditEntry({ instance: 'lb-2', part: 'first' }));
    const deletes = writes().map((c) => c.method);
    const last = await deliver('instanceEvent', auditEntry({ instance: 'lb-2', part: 'last' }));

    expect(first).toMatchObject({ event: 'done', status: 'changed' });
    expect(deletes).toEqual(VIPS.map(() => 'routes.delete'));
    expect(last).toMatchObject({
      event: 'ignored',
      reason: expect.stringMatching(/^last entry of operation/),
    });
    expect(writes()).toHaveLength(VIPS.length);
    expect(routesTo(lb[1] ?? '')).toEqual([]);
    expect(routesTo(lb[0] ?? '')).toHaveLength(VIPS.length);
  });

  it('a duplicate of the first entry changes nothing', async () => {
    standin.resetCalls();

    const again = await deliver('instanceEvent', auditEntry({ instance: 'lb-2', part: 'first' }));

    expect(again).toMatchObject({ event: 'done', status: 'noop' });
    expect(writes()).toEqual([]);
  });

  it('malformed input and an event for an instance portlb never used write nothing', async () => {
    standin.resetCalls();

    const garbage = await deliver('instanceEvent', 'this is not JSON {');
    const wrongKind = await deliver('instanceEvent', { kind: 'portlb.sweep', version: 1 });
    const stranger = await deliver('instanceEvent', auditEntry({ instance: 'db-7', part: 'both' }));

    expect(garbage).toMatchObject({ event: 'ignored', reason: expect.stringContaining('data is not JSON') });
    expect(wrongKind).toMatchObject({ event: 'ignored', reason: 'sweep messages go to another function' });
    expect(stranger).toMatchObject({ event: 'done', status: 'noop' });
    expect(writes()).toEqual([]);
  });

  it('a missing permission is logged with its name, acknowledged, and nothing changes', async () => {
    standin.deny('compute.routes.delete');
    try {
      const line = await deliver(
        'instanceEvent',
        auditEntry({ instance: 'lb-3', operationId: 'operation-403', part: 'first' }),
      );

      expect(line).toMatchObject({
        event: 'permanent_error',
        err: expect.stringContaining("'compute.routes.delete'"),
      });
      expect(routesTo(lb[2] ?? '')).toHaveLength(VIPS.length);
    } finally {
      standin.allow('compute.routes.delete');
    }
  });

  it('a route named like ours with another owner marker is left alone', async () => {
    const name = `${routeName('portlb', VIPS[0] ?? '', lb[0] ?? '').slice(0, 40)}-theirs`;
    standin.state.seedRoute(PROJECT, {
      name,
      destRange: VIPS[0] ?? '',
      network: 'vpc',
      nextHopInstance: lb[0] ?? '',
      description: routeDescription('other-cluster', VIPS[0] ?? '', lb[0] ?? ''),
    });

    const line = await deliver(
      'instanceEvent',
      auditEntry({ instance: 'lb-1', methodName: 'compute.instances.preempted', part: 'both' }),
    );

    expect(line).toMatchObject({ event: 'done', status: 'changed' });
    expect(routesTo(lb[0] ?? '').map((r) => r.name)).toEqual([name]);
    // Back in service for the next tests.
    await deliver('lifecycle', lifecycle(lb[0] ?? '', 'ready'));
  });

  it('the sweep removes routes whose next hop stopped; a transient failure is redelivered', async () => {
    const three = standin.state.instances.get(lb[2] ?? '');
    if (three) three.status = 'TERMINATED';
    standin.fault({ method: 'routes.list', status: 503, reason: 'backendError' });

    const line = await deliver('sweep', { kind: 'portlb.sweep', version: 1 });

    expect(functions.sweep?.lines.some((l) => parse(l).event === 'retry')).toBe(true);
    expect(line).toMatchObject({ event: 'done', status: 'changed' });
    expect(routesTo(lb[2] ?? '')).toEqual([]);
    expect(ours(lb[0] ?? '')).toHaveLength(VIPS.length);
  });

  it('lifecycle draining removes that LB routes and nothing else', async () => {
    const line = await deliver('lifecycle', lifecycle(lb[0] ?? '', 'draining'));

    expect(line).toMatchObject({ event: 'done', status: 'changed' });
    expect(
      routesTo(lb[0] ?? '').filter((r) => r.name.startsWith('portlb-') && !r.name.endsWith('-theirs')),
    ).toEqual([]);
  });
});
