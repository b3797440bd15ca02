import {
  CreateTagsCommand,
  DeleteTagsCommand,
  DescribeInstancesCommand,
  DescribeRouteTablesCommand,
  EC2Client,
  ModifyNetworkInterfaceAttributeCommand,
} from '@aws-sdk/client-ec2';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  type CandidacyPublisherOptions,
  createCandidacyPublisher,
} from '../../../src/publishers/aws/candidacy-publisher.js';
import { lifecycleDetailSchema } from '../../../src/publishers/aws/lifecycle-event.js';
import { silentLogger } from '../../../src/runtime/logger.js';
import {
  type Candidacy,
  type CandidateState,
  candidateTagKey,
  podId,
} from '../../../src/sources/aws/candidacy.js';
import {
  candidacyTags,
  describeAnswer,
  ec2Failure,
  instance,
  instancesAnswer,
  nodeA,
  routeTable,
  sent,
} from '../../fixtures/aws/ec2.js';

const ec2 = mockClient(EC2Client);
const events = mockClient(EventBridgeClient);
const owner = 'portlb';
const POD = 'portlb/lb-0';
const NODE = 'ip-10-0-1-10.ec2.internal';
const T0 = 1_764_000_000_000;
const KEY = candidateTagKey(owner, nodeA.instanceId, podId(POD));
/** A report of this publisher's pod. */
const mine = (state: CandidateState, at: number): Candidacy => ({
  instanceId: nodeA.instanceId,
  pod: podId(POD),
  podName: POD,
  eni: nodeA.eni,
  state,
  at,
  node: NODE,
});

/** A publisher on a clock the test moves, with a health the test sets. */
function setup(overrides: Partial<CandidacyPublisherOptions> = {}) {
  const clock = { now: T0, healthy: true };
  const published: CandidateState[] = [];
  const publisher = createCandidacyPublisher({
    ec2: new EC2Client({}),
    publish: { kind: 'tags' },
    tables: { tags: { 'portlb.io/managed': 'true' } },
    owner,
    node: NODE,
    pod: POD,
    nodeIp: nodeA.ip,
    instanceId: () => nodeA.instanceId,
    healthy: () => clock.healthy,
    refreshSeconds: 60,
    now: () => clock.now,
    logger: silentLogger(),
    onPublished: (state) => published.push(state),
    ...overrides,
  });
  return { publisher, clock, published };
}

/** The candidacy values written, in order. */
const written = () =>
  ec2.commandCalls(CreateTagsCommand).map((c) => {
    const tags = c.args[0].input.Tags ?? [];
    expect(tags.map((t) => t.Key)).toEqual([KEY]);
    return tags[0]?.Value;
  });

beforeEach(() => {
  ec2.reset();
  events.reset();
  ec2.on(DescribeInstancesCommand).resolves(instancesAnswer(instance(nodeA, { sourceDestCheck: true })));
  ec2
    .on(DescribeRouteTablesCommand)
    .resolves(describeAnswer(routeTable('rtb-1', []), routeTable('rtb-2', [])));
  ec2.on(ModifyNetworkInterfaceAttributeCommand).resolves({});
  ec2.on(CreateTagsCommand).resolves({});
  ec2.on(DeleteTagsCommand).resolves({});
});

describe('candidacy publisher: tags', () => {
  it('publishes ready on every managed table, SourceDestCheck off first, in one CreateTags', async () => {
    // prepare
    const { publisher, published } = setup();
    // act
    await publisher.tick();
    // assess
    expect(sent(ec2)).toEqual([
      'DescribeInstances',
      'ModifyNetworkInterfaceAttribute',
      'DescribeRouteTables',
      'CreateTags',
    ]);
    expect(ec2.commandCalls(DescribeInstancesCommand)[0]?.args[0].input).toEqual({
      Filters: [{ Name: 'instance-id', Values: [nodeA.instanceId] }],
    });
    expect(ec2.commandCalls(ModifyNetworkInterfaceAttributeCommand)[0]?.args[0].input).toEqual({
      NetworkInterfaceId: nodeA.eni,
      SourceDestCheck: { Value: false },
    });
    expect(ec2.commandCalls(CreateTagsCommand)[0]?.args[0].input).toEqual({
      Resources: ['rtb-1', 'rtb-2'],
      Tags: [{ Key: KEY, Value: `${nodeA.eni} ready ${T0} ${NODE} ${POD}` }],
    });
    expect(published).toEqual(['ready']);
    expect(publisher.failing()).toEqual([]);
    expect(publisher.status()).toEqual({
      candidacy: 'ready',
      candidacyAt: T0,
      eni: nodeA.eni,
      instanceId: nodeA.instanceId,
    });
  });

  it('while draining, leaves SourceDestCheck alone; turns it off before its first ready, and only then', async () => {
    // prepare
    const { publisher, clock } = setup();
    clock.healthy = false;
    // act
    await publisher.tick();
    const draining = sent(ec2);
    ec2.resetHistory();
    clock.healthy = true;
    clock.now += 1;
    await publisher.tick();
    const ready = sent(ec2);
    ec2.resetHistory();
    clock.now += 60_000;
    await publisher.tick();
    // assess
    expect(draining).toEqual(['DescribeInstances', 'DescribeRouteTables', 'CreateTags']);
    expect(ready).toEqual([
      'DescribeInstances',
      'ModifyNetworkInterfaceAttribute',
      'DescribeRouteTables',
      'CreateTags',
    ]);
    expect(sent(ec2)).toEqual(['DescribeRouteTables', 'CreateTags']);
  });

  it('does not write SourceDestCheck when it is already off', async () => {
    // prepare
    ec2.on(DescribeInstancesCommand).resolves(instancesAnswer(instance(nodeA, { sourceDestCheck: false })));
    const { publisher } = setup();
    // act
    await publisher.tick();
    // assess
    expect(sent(ec2)).toEqual(['DescribeInstances', 'DescribeRouteTables', 'CreateTags']);
  });

  it('refreshes only when due, and publishes a change of state at once', async () => {
    // prepare
    const { publisher, clock, published } = setup();
    // act
    await publisher.tick();
    clock.now = T0 + 59_999;
    await publisher.tick();
    clock.now = T0 + 60_000;
    await publisher.tick();
    clock.now = T0 + 60_001;
    clock.healthy = false;
    await publisher.tick();
    // assess
    expect(written()).toEqual([
      `${nodeA.eni} ready ${T0} ${NODE} ${POD}`,
      `${nodeA.eni} ready ${T0 + 60_000} ${NODE} ${POD}`,
      `${nodeA.eni} draining ${T0 + 60_001} ${NODE} ${POD}`,
    ]);
    expect(published).toEqual(['ready', 'draining']);
  });

  it('backs off after a failure, doubling, and starts over once it works', async () => {
    // prepare: the first two writes fail, and the first refresh
    const { publisher, clock, published } = setup();
    const attempts: number[] = [];
    const errors: string[][] = [];
    ec2.on(CreateTagsCommand).callsFake(async () => {
      attempts.push(clock.now - T0);
      if ([1, 2, 4].includes(attempts.length)) throw ec2Failure.throttled();
      return {};
    });
    // act: a tick every 500 ms for 70 s
    for (let t = T0; t <= T0 + 70_000; t += 500) {
      clock.now = t;
      await publisher.tick();
      errors.push(publisher.failing());
    }
    // assess: again 2 s after the first failure, 4 s after the second; the refresh (due at 66 s)
    // fails and is retried 2 s later, not 8
    expect(attempts).toEqual([0, 2_000, 6_000, 66_000, 68_000]);
    expect(errors[0]).toEqual([
      expect.stringMatching(
        /^publishing candidacy ready failed: ec2:CreateTags on rtb-1, rtb-2 failed, will retry \(RequestLimitExceeded\)/,
      ),
    ]);
    expect(errors[12]).toEqual([]); // 6 s
    expect(errors.at(-1)).toEqual([]);
    expect(published).toEqual(['ready']);
  });

  it('announces at once during a backoff, and holds that state whatever the health says', async () => {
    // prepare
    ec2.on(CreateTagsCommand).rejectsOnce(ec2Failure.throttled()).resolves({});
    const { publisher, clock, published } = setup();
    await publisher.tick();
    // act
    clock.now = T0 + 100;
    await publisher.announce('draining');
    clock.now = T0 + 200;
    await publisher.tick();
    // assess
    expect(written()).toEqual([
      `${nodeA.eni} ready ${T0} ${NODE} ${POD}`,
      `${nodeA.eni} draining ${T0 + 100} ${NODE} ${POD}`,
    ]);
    expect(published).toEqual(['draining']);
  });

  it("on gone, deletes the pod's tag from the tables holding it and writes none", async () => {
    // prepare: rtb-1 holds this pod's draining report, rtb-2 nothing
    const held = candidacyTags(owner, mine('draining', T0 - 1_000));
    ec2
      .on(DescribeRouteTablesCommand)
      .resolves(describeAnswer(routeTable('rtb-1', [], held), routeTable('rtb-2', [])));
    const { publisher, published } = setup();
    // act
    await publisher.announce('gone');
    // assess
    expect(ec2.commandCalls(DeleteTagsCommand).map((c) => c.args[0].input)).toEqual([
      { Resources: ['rtb-1'], Tags: [{ Key: KEY }] },
    ]);
    expect(ec2.commandCalls(CreateTagsCommand)).toHaveLength(0);
    expect(ec2.commandCalls(ModifyNetworkInterfaceAttributeCommand)).toHaveLength(0);
    expect(published).toEqual(['gone']);
  });

  it.each([
    [
      'its instance is not known yet',
      { instanceId: () => undefined },
      [],
      /the instance of this node is not known yet/,
    ],
    [
      'its instance does not exist',
      {},
      ['DescribeInstances'],
      new RegExp(`instance ${nodeA.instanceId} or its network interface was not found`),
    ],
  ])('reports the failure and writes nothing when %s', async (_name, overrides, calls, message) => {
    // prepare
    ec2.on(DescribeInstancesCommand).resolves(instancesAnswer());
    const { publisher, published } = setup(overrides);
    // act
    await publisher.tick();
    // assess
    expect(sent(ec2)).toEqual(calls);
    expect(publisher.failing()).toEqual([expect.stringMatching(message)]);
    expect(published).toEqual([]);
  });
});

describe('candidacy publisher: eventbridge', () => {
  const eventbridge = () =>
    setup({ publish: { kind: 'eventbridge', events: new EventBridgeClient({}), bus: 'portlb-lifecycle' } });

  it('puts one lifecycle event on the bus and writes nothing to EC2', async () => {
    // prepare
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
    const { publisher, published } = eventbridge();
    // act
    await publisher.tick();
    // assess
    expect(ec2.calls()).toHaveLength(0);
    const entries = events.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries);
    expect(entries).toEqual([
      [
        {
          EventBusName: 'portlb-lifecycle',
          Source: 'portlb.sidecar',
          DetailType: 'portlb LB Lifecycle',
          Detail: expect.any(String),
          Resources: [],
        },
      ],
    ]);
    // The function parses it with the same schema.
    expect(lifecycleDetailSchema.parse(JSON.parse(entries[0]?.[0]?.Detail ?? ''))).toEqual({
      version: 1,
      owner,
      node: NODE,
      pod: POD,
      instanceId: nodeA.instanceId,
      nodeIp: nodeA.ip,
      state: 'ready',
      at: T0,
    });
    expect(published).toEqual(['ready']);
  });

  it('counts a rejected entry as a failure and tries again after the backoff', async () => {
    // prepare
    events
      .on(PutEventsCommand)
      .resolvesOnce({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure' }] })
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-2' }] });
    const { publisher, clock } = eventbridge();
    // act
    await publisher.tick();
    const error = publisher.failing();
    clock.now = T0 + 1_000;
    await publisher.tick();
    const early = events.commandCalls(PutEventsCommand).length;
    clock.now = T0 + 2_000;
    await publisher.tick();
    // assess
    expect(error).toEqual([
      expect.stringMatching(/events:PutEvents to bus portlb-lifecycle rejected the event/),
    ]);
    expect(early).toBe(1);
    expect(events.commandCalls(PutEventsCommand)).toHaveLength(2);
    expect(publisher.failing()).toEqual([]);
    expect(ec2.calls()).toHaveLength(0);
  });
});
