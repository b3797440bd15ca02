import {
  CreateRouteCommand,
  CreateTagsCommand,
  DeleteRouteCommand,
  DeleteTagsCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeRouteTablesCommand,
  EC2Client,
  type Instance,
  type InstanceStateName,
  ModifyNetworkInterfaceAttributeCommand,
  ReplaceRouteCommand,
  type Route,
  type RouteTable,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { FunctionConfig } from '../../../functions/aws/env.js';
import { type PassDeps, type PassInput, runPass, type StuckDetail } from '../../../functions/aws/pass.js';
import type { Change } from '../../../src/core/model.js';
import { PermanentError, TransientError } from '../../../src/errors.js';
import type { LifecycleDetail } from '../../../src/publishers/aws/lifecycle-event.js';
import { silentLogger } from '../../../src/runtime/logger.js';
import { type Candidacy, candidateTagKey, podId } from '../../../src/sources/aws/candidacy.js';
import { candidacyOf } from '../../fixtures/aws/candidacy.js';
import {
  candidacyTags,
  describeAnswer,
  ec2Failure,
  instance,
  instancesAnswer,
  nodeA,
  nodeB,
  nodeC,
  recordTags,
  route,
  routeTable,
  sent,
  V1,
  V2,
} from '../../fixtures/aws/ec2.js';
import { capturedLogs } from '../../fixtures/logs.js';

const ec2 = mockClient(EC2Client);
const owner = 'portlb';
const NOW = 1_764_000_000_000;
const FRESH = NOW - 10_000;
const config: FunctionConfig = {
  region: 'us-east-1',
  owner,
  vips: [V1, V2],
  tables: { tags: { 'portlb.io/managed': 'true' } },
  vpcCidrs: [],
  staleSeconds: 180,
  concurrency: 8,
  maxAttempts: 1,
  logLevel: 'info',
};
const down = (node: { instanceId: string }): PassInput => ({
  kind: 'instance-down',
  instanceId: node.instanceId,
  why: `instance ${node.instanceId} is shutting-down`,
});

const managed = (id: string, routes: readonly Route[], tags: Record<string, string>) =>
  routeTable(id, routes, { 'portlb.io/managed': 'true', ...tags });

/** What EC2 holds: the managed tables and the instances DescribeInstances finds. */
function world(tables: readonly RouteTable[], instances: readonly Instance[]) {
  ec2.on(DescribeRouteTablesCommand).resolves(describeAnswer(...tables));
  ec2.on(DescribeInstancesCommand).resolves(instancesAnswer(...instances));
}

function deps(overrides: Partial<PassDeps> = {}): PassDeps {
  return { ec2: new EC2Client({}), config, logger: silentLogger(), now: () => NOW, ...overrides };
}

const writes = () => sent(ec2).filter((name) => !name.startsWith('Describe'));
const moves = (changes: readonly Change[]) =>
  changes.map(
    (c) => `${c.kind} ${c.table} ${c.vip} ${c.kind === 'replace' ? `${c.from} -> ` : ''}${c.target}`,
  );

/** An ENI no LB published a candidacy for. */
const STRAY = 'eni-09999999';

/**
 * A, B and C ready on both tables; V1 on A everywhere; V2 in rtb-1 on an ENI that is no LB, and
 * missing from rtb-2: drift for the sweep, none of an instance event's business.
 */
function threeLbs(a: InstanceStateName | 'gone' = 'shutting-down') {
  const lbs = candidacyTags(
    owner,
    candidacyOf(nodeA, FRESH),
    candidacyOf(nodeB, FRESH),
    candidacyOf(nodeC, FRESH),
  );
  world(
    [
      managed('rtb-1', [route.toEni(V1, nodeA.eni), route.toEni(V2, STRAY)], {
        ...lbs,
        ...recordTags([V1, V2]),
      }),
      managed('rtb-2', [route.toEni(V1, nodeA.eni)], { ...lbs, ...recordTags([V1]) }),
    ],
    [...(a === 'gone' ? [] : [instance(nodeA, { state: a })]), instance(nodeB), instance(nodeC)],
  );
}

beforeEach(() => {
  ec2.reset();
  ec2.on(CreateRouteCommand).resolves({});
  ec2.on(ReplaceRouteCommand).resolves({});
  ec2.on(DeleteRouteCommand).resolves({});
  ec2.on(CreateTagsCommand).resolves({});
  ec2.on(DeleteTagsCommand).resolves({});
  ec2.on(ModifyNetworkInterfaceAttributeCommand).resolves({});
  ec2.on(DescribeNetworkInterfacesCommand).resolves({
    NetworkInterfaces: [nodeA, nodeB, nodeC].map((n) => ({
      NetworkInterfaceId: n.eni,
      SourceDestCheck: false,
    })),
  });
});

describe('runPass: instance-down', () => {
  it.each([
    ['shutting down', 'shutting-down' as const],
    ['already gone from DescribeInstances (its ENIs known from its candidacy)', 'gone' as const],
  ])(
    'moves only the routes off an instance %s, one ReplaceRoute each, and nothing else',
    async (_name, state) => {
      // prepare
      threeLbs(state);
      // act
      const outcome = await runPass(deps(), down(nodeA));
      // assess
      expect(moves(outcome.applied)).toEqual([
        `replace rtb-1 ${V1} ${nodeA.eni} -> ${nodeB.eni}`,
        `replace rtb-2 ${V1} ${nodeA.eni} -> ${nodeB.eni}`,
      ]);
      expect(outcome).toMatchObject({
        status: 'changed',
        reason: `instance ${nodeA.instanceId} is shutting-down`,
      });
      expect(outcome.stuck).toBeUndefined();
      // V2's drift is the sweep's job; the ENIs' SourceDestCheck came with DescribeInstances.
      expect(sent(ec2)).toEqual(['DescribeRouteTables', 'DescribeInstances', 'ReplaceRoute', 'ReplaceRoute']);
      expect(ec2.commandCalls(DescribeInstancesCommand)[0]?.args[0].input).toEqual({
        Filters: [{ Name: 'instance-id', Values: [nodeA.instanceId, nodeB.instanceId, nodeC.instanceId] }],
      });
    },
  );

  it('is a noop when no managed route targets the instance', async () => {
    // prepare
    threeLbs('running');
    const other = { instanceId: 'i-08888888' };
    // act
    const outcome = await runPass(deps(), down(other));
    // assess
    expect(outcome).toEqual({
      status: 'noop',
      reason: 'no managed route targets instance i-08888888',
      applied: [],
      skipped: 0,
    });
    expect(writes()).toEqual([]);
  });

  it.each([
    ['announced', async () => {}, []],
    [
      'the announcement fails: logged, the pass still returns',
      async () => Promise.reject(new Error('bus down')),
      ['stuck_event_failed'],
    ],
  ])(
    'reports the routes it cannot move when no healthy LB remains (%s)',
    async (_name, announcing, failures) => {
      // prepare: B drains and holds one route itself (kept too, but not on the dying instance); C never was
      const lbs = candidacyTags(owner, candidacyOf(nodeA, FRESH), candidacyOf(nodeB, FRESH, 'draining'));
      const records = recordTags([V1, V2]);
      world(
        [
          managed('rtb-1', [route.toEni(V1, nodeA.eni), route.toEni(V2, nodeA.eni)], { ...lbs, ...records }),
          managed('rtb-2', [route.toEni(V1, nodeA.eni), route.toEni(V2, nodeB.eni)], { ...lbs, ...records }),
        ],
        [instance(nodeA, { state: 'shutting-down' }), instance(nodeB)],
      );
      const { logger, events } = capturedLogs();
      const announce = vi.fn<(detail: StuckDetail) => Promise<void>>(announcing);
      // act
      const outcome = await runPass(deps({ logger, announce }), down(nodeA));
      // assess
      expect(writes()).toEqual([]);
      expect(outcome.status).toBe('unchanged');
      expect(outcome.stuck?.map((s) => `${s.table} ${s.vip} ${s.target} ${s.reason.code}`)).toEqual([
        `rtb-1 ${V1} ${nodeA.eni} kept`,
        `rtb-1 ${V2} ${nodeA.eni} kept`,
        `rtb-2 ${V1} ${nodeA.eni} kept`,
      ]);
      expect(announce).toHaveBeenCalledTimes(1);
      expect(announce).toHaveBeenCalledWith({
        instanceId: nodeA.instanceId,
        why: `instance ${nodeA.instanceId} is shutting-down`,
        routes: [
          { table: 'rtb-1', vip: V1, target: nodeA.eni },
          { table: 'rtb-1', vip: V2, target: nodeA.eni },
          { table: 'rtb-2', vip: V1, target: nodeA.eni },
        ],
      });
      expect(events('routes_stuck')).toEqual([
        expect.objectContaining({
          level: 'warn',
          vips: [V1, V2],
          InstanceId: nodeA.instanceId,
          RoutesStuck: 3,
          msg: expect.stringContaining(`no healthy LB can take ${V1}, ${V2}: 3 route(s) stay on it`),
        }),
      ]);
      expect(events('stuck_event_failed').map((l) => l.event)).toEqual(failures);
    },
  );
});

describe('runPass: lifecycle', () => {
  const report = (detail: Partial<LifecycleDetail> = {}): PassInput => ({
    kind: 'lifecycle',
    detail: {
      version: 1,
      owner,
      node: 'ip-10-0-1-11',
      pod: 'portlb/lb-b',
      instanceId: nodeB.instanceId,
      state: 'ready',
      at: NOW - 1_000,
      ...detail,
    },
  });

  it('records the candidacy (SourceDestCheck off first), then plans with it: the first LB gets every route', async () => {
    // prepare: no LB yet, no route yet
    world([managed('rtb-1', [], {}), managed('rtb-2', [], {})], [instance(nodeB, { sourceDestCheck: true })]);
    // act
    const outcome = await runPass(deps(), report());
    // assess
    expect(writes()).toEqual([
      'ModifyNetworkInterfaceAttribute',
      'CreateTags',
      'CreateTags',
      'CreateRoute',
      'CreateRoute',
      'CreateRoute',
      'CreateRoute',
    ]);
    const [candidacy, records] = ec2.commandCalls(CreateTagsCommand).map((c) => c.args[0].input);
    expect(candidacy).toEqual({
      Resources: ['rtb-1', 'rtb-2'],
      Tags: [
        {
          Key: candidateTagKey(owner, nodeB.instanceId, podId('portlb/lb-b')),
          Value: `${nodeB.eni} ready ${NOW - 1_000} ip-10-0-1-11 portlb/lb-b`,
        },
      ],
    });
    expect(records?.Tags?.map((t) => t.Value)).toEqual([`${V1} ${V2}`]);
    expect(outcome.candidacy).toEqual({ written: ['rtb-1', 'rtb-2'], reason: 'ready published' });
    expect(moves(outcome.applied)).toEqual([
      `create rtb-1 ${V1} ${nodeB.eni}`,
      `create rtb-1 ${V2} ${nodeB.eni}`,
      `create rtb-2 ${V1} ${nodeB.eni}`,
      `create rtb-2 ${V2} ${nodeB.eni}`,
    ]);
  });

  it('is a noop for another owner, with no call at all', async () => {
    // act
    const outcome = await runPass(deps(), report({ owner: 'other' }));
    // assess
    expect(outcome).toEqual({
      status: 'noop',
      reason: 'lifecycle event for owner other, not portlb',
      applied: [],
      skipped: 0,
    });
    expect(ec2.calls()).toHaveLength(0);
  });
});

describe('runPass: sweep', () => {
  const old = { instanceId: 'i-0ddddddd', eni: 'eni-0ddddddd', ip: '10.0.1.13' };
  const terminated = { instanceId: 'i-0eeeeeee', eni: 'eni-0eeeeeee', ip: '10.0.1.14' };
  const vanished = { instanceId: 'i-0fffffff', eni: 'eni-0fffffff', ip: '10.0.1.15' };
  const keyOf = (c: Candidacy) => candidateTagKey(owner, c.instanceId, c.pod);

  it('removes candidacies of instances gone or terminated, and reports nobody refreshed for an hour', async () => {
    // prepare: A and B on both tables; the expired ones on rtb-1 only
    const live = candidacyTags(owner, candidacyOf(nodeA, FRESH), candidacyOf(nodeB, FRESH, 'draining'));
    const expired = [
      candidacyOf(old, NOW - 3_601_000),
      candidacyOf(terminated, FRESH),
      candidacyOf(vanished, FRESH),
    ];
    const routes = [route.toEni(V1, nodeA.eni), route.toEni(V2, nodeA.eni)];
    world(
      [
        managed('rtb-1', routes, { ...live, ...candidacyTags(owner, ...expired), ...recordTags([V1, V2]) }),
        managed('rtb-2', routes, { ...live, ...recordTags([V1, V2]) }),
      ],
      [instance(nodeA), instance(nodeB), instance(old), instance(terminated, { state: 'terminated' })],
    );
    // act
    const outcome = await runPass(deps(), { kind: 'sweep' });
    // assess
    expect(outcome.cleaned).toEqual(expired.map(keyOf));
    expect(ec2.commandCalls(DeleteTagsCommand).map((c) => c.args[0].input)).toEqual([
      { Resources: ['rtb-1'], Tags: expired.map((c) => ({ Key: keyOf(c) })) },
    ]);
    expect(outcome.status).toBe('unchanged');
    expect(writes()).toEqual(['DeleteTags']);
  });

  it('repairs the drift an instance event leaves: moves the stray route, creates the missing one (recorded first)', async () => {
    // prepare
    threeLbs('running');
    // act
    const outcome = await runPass(deps(), { kind: 'sweep' });
    // assess
    expect(moves(outcome.applied)).toEqual([
      `replace rtb-1 ${V2} ${STRAY} -> ${nodeA.eni}`,
      `create rtb-2 ${V2} ${nodeA.eni}`,
    ]);
    expect(writes()).toEqual(['CreateTags', 'DeleteTags', 'ReplaceRoute', 'CreateRoute']);
    expect(outcome.cleaned).toEqual([]);
  });
});

describe('runPass: failures are thrown for the handler to classify', () => {
  it.each([
    [
      'a throttled read',
      () => ec2.on(DescribeRouteTablesCommand).rejects(ec2Failure.throttled()),
      TransientError,
      /ec2:DescribeRouteTables .*will retry/,
    ],
    [
      'a denied read',
      () => ec2.on(DescribeRouteTablesCommand).rejects(ec2Failure.denied()),
      PermanentError,
      /grant ec2:DescribeRouteTables/,
    ],
    [
      'a throttled instance read',
      () => ec2.on(DescribeInstancesCommand).rejects(ec2Failure.throttled()),
      TransientError,
      /ec2:DescribeInstances .*will retry/,
    ],
    [
      'a throttled write',
      () => ec2.on(ReplaceRouteCommand).rejects(ec2Failure.throttled()),
      TransientError,
      /2 of 2 changes failed: ec2:ReplaceRoute/,
    ],
    [
      'a denied write',
      () => ec2.on(ReplaceRouteCommand).rejects(ec2Failure.denied()),
      PermanentError,
      /2 of 2 changes failed: .*grant ec2:ReplaceRoute/,
    ],
  ])('%s', async (_name, fail, kind, message) => {
    // prepare
    threeLbs();
    fail();
    // act
    const thrown: unknown = await runPass(deps(), down(nodeA)).then(
      () => undefined,
      (e: unknown) => e,
    );
    // assess
    expect(thrown).toBeInstanceOf(kind);
    expect(thrown).not.toBeInstanceOf(kind === TransientError ? PermanentError : TransientError);
    expect(String(thrown)).toMatch(message);
  });
});
