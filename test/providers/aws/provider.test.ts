import {
  CreateRouteCommand,
  DescribeNetworkInterfacesCommand,
  DescribeRouteTablesCommand,
  EC2Client,
  ModifyNetworkInterfaceAttributeCommand,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { TransientError } from '../../../src/errors.js';
import { createEc2Provider } from '../../../src/providers/aws/provider.js';
import type { TableSelector } from '../../../src/providers/aws/tables.js';
import { silentLogger } from '../../../src/runtime/logger.js';
import {
  describeAnswer,
  ec2Failure,
  nodeA,
  nodeB,
  nodeC,
  route,
  routeTable,
  sent,
  V1,
  VPC_CIDR,
} from '../../fixtures/aws/ec2.js';
import { change } from '../../fixtures/changes.js';

const ec2 = mockClient(EC2Client);

function provider(tables: TableSelector = { ids: ['rtb-1', 'rtb-2'] }) {
  return createEc2Provider({ ec2: new EC2Client({}), tables, logger: silentLogger() });
}

/** DescribeNetworkInterfaces answers: each ENI with its SourceDestCheck. */
function checks(enis: Record<string, boolean>) {
  ec2.on(DescribeNetworkInterfacesCommand).resolves({
    NetworkInterfaces: Object.entries(enis).map(([NetworkInterfaceId, SourceDestCheck]) => ({
      NetworkInterfaceId,
      SourceDestCheck,
    })),
  });
}

beforeEach(() => {
  ec2.reset();
  ec2.on(ModifyNetworkInterfaceAttributeCommand).resolves({});
  ec2.on(CreateRouteCommand).resolves({});
});

describe('EC2 provider: observe', () => {
  it.each([
    ['ids', { ids: ['rtb-2', 'rtb-1'] }, { RouteTableIds: ['rtb-2', 'rtb-1'] }],
    [
      'tags',
      { tags: { 'portlb.io/managed': 'true' } },
      { Filters: [{ Name: 'tag:portlb.io/managed', Values: ['true'] }] },
    ],
  ])('reads every table selected by %s in one DescribeRouteTables', async (_name, selector, input) => {
    // prepare
    ec2
      .on(DescribeRouteTablesCommand)
      .resolves(describeAnswer(routeTable('rtb-2', []), routeTable('rtb-1', [])));
    // act
    const observation = await provider(selector).observe();
    // assess
    expect(ec2.commandCalls(DescribeRouteTablesCommand).map((c) => c.args[0].input)).toEqual([input]);
    expect(sent(ec2)).toEqual(['DescribeRouteTables']);
    expect(observation.tables).toEqual(['rtb-1', 'rtb-2']);
  });

  it('returns the raw routes to ENIs and blackholes, as written and without owner; the rest only in the view', async () => {
    // prepare
    const tags = { Name: 'main', 'portlb.io/routes/portlb/5d2c0f7a91be': V1 };
    const routes = [
      route.toEni('2001:DB8::/64', nodeA.eni),
      route.blackhole(V1),
      route.toGateway('0.0.0.0/0'),
      route.toEni('100.64.0.0/24', nodeB.eni),
    ];
    ec2
      .on(DescribeRouteTablesCommand)
      .resolves(describeAnswer(routeTable('rtb-1', routes, tags), routeTable('rtb-2', [])));
    // act
    const observation = await provider().observe();
    // assess
    expect(observation.routes).toEqual([
      { table: 'rtb-1', vip: '2001:DB8::/64', target: nodeA.eni, state: 'active' },
      { table: 'rtb-1', vip: V1, target: '', state: 'blackhole' },
      { table: 'rtb-1', vip: '100.64.0.0/24', target: nodeB.eni, state: 'active' },
    ]);
    expect(observation.routes.every((r) => !('owner' in r))).toBe(true);
    expect(observation.view[0]).toMatchObject({ id: 'rtb-1', tags, localCidrs: [VPC_CIDR] });
    expect(observation.view[0]?.routes).toHaveLength(5);
  });

  it('passes a throttled read on as a transient error', async () => {
    // prepare
    ec2.on(DescribeRouteTablesCommand).rejects(ec2Failure.throttled());
    // act
    const observing = provider().observe();
    // assess
    await expect(observing).rejects.toThrow(TransientError);
    await expect(observing).rejects.toThrow(/ec2:DescribeRouteTables on ids rtb-1, rtb-2 failed, will retry/);
  });
});

describe('EC2 provider: prepareTargets', () => {
  it('reads the targets once, turns SourceDestCheck off only where it is on, and skips deletes', async () => {
    // prepare
    checks({ [nodeA.eni]: true, [nodeB.eni]: false });
    const ec2Provider = provider();
    // act
    const failed = await ec2Provider.prepareTargets([
      change.create('rtb-1', V1, nodeA.eni),
      change.create('rtb-2', V1, nodeA.eni),
      change.replace('rtb-1', V1, nodeC.eni, nodeB.eni),
      change.remove('rtb-1', V1, nodeC.eni),
    ]);
    // assess
    expect(failed.size).toBe(0);
    expect(ec2.commandCalls(DescribeNetworkInterfacesCommand).map((c) => c.args[0].input)).toEqual([
      { Filters: [{ Name: 'network-interface-id', Values: [nodeA.eni, nodeB.eni] }] },
    ]);
    expect(ec2.commandCalls(ModifyNetworkInterfaceAttributeCommand).map((c) => c.args[0].input)).toEqual([
      { NetworkInterfaceId: nodeA.eni, SourceDestCheck: { Value: false } },
    ]);
  });

  it('remembers the targets it prepared: the next pass reads nothing', async () => {
    // prepare
    checks({ [nodeA.eni]: true });
    const ec2Provider = provider();
    await ec2Provider.prepareTargets([change.create('rtb-1', V1, nodeA.eni)]);
    ec2.resetHistory();
    // act
    const failed = await ec2Provider.prepareTargets([change.create('rtb-2', V1, nodeA.eni)]);
    // assess
    expect(failed.size).toBe(0);
    expect(ec2.calls()).toHaveLength(0);
  });

  it('makes no call for deletes alone', async () => {
    // act
    const failed = await provider().prepareTargets([change.remove('rtb-1', V1, nodeA.eni)]);
    // assess
    expect(failed.size).toBe(0);
    expect(ec2.calls()).toHaveLength(0);
  });

  it('reports a target that does not exist, and prepares the others', async () => {
    // prepare
    checks({ [nodeB.eni]: true });
    // act
    const failed = await provider().prepareTargets([
      change.create('rtb-1', V1, nodeA.eni),
      change.create('rtb-1', V1, nodeB.eni),
    ]);
    // assess
    expect([...failed.keys()]).toEqual([nodeA.eni]);
    expect(String(failed.get(nodeA.eni))).toBe(
      `PermanentError: target network interface ${nodeA.eni} does not exist`,
    );
    expect(ec2.commandCalls(ModifyNetworkInterfaceAttributeCommand)).toHaveLength(1);
  });

  it('fails every target when the read fails, and reads again next time', async () => {
    // prepare
    ec2
      .on(DescribeNetworkInterfacesCommand)
      .rejectsOnce(ec2Failure.throttled())
      .resolves({
        NetworkInterfaces: [{ NetworkInterfaceId: nodeA.eni, SourceDestCheck: false }],
      });
    const ec2Provider = provider();
    // act
    const first = await ec2Provider.prepareTargets([
      change.create('rtb-1', V1, nodeA.eni),
      change.create('rtb-1', V1, nodeB.eni),
    ]);
    const second = await ec2Provider.prepareTargets([change.create('rtb-1', V1, nodeA.eni)]);
    // assess
    expect([...first.keys()]).toEqual([nodeA.eni, nodeB.eni]);
    expect(first.get(nodeA.eni)).toBeInstanceOf(TransientError);
    expect(second.size).toBe(0);
    expect(sent(ec2)).toEqual(['DescribeNetworkInterfaces', 'DescribeNetworkInterfaces']);
  });

  it('fails the target whose check could not be turned off, and tries it again next time', async () => {
    // prepare
    checks({ [nodeA.eni]: true });
    ec2.on(ModifyNetworkInterfaceAttributeCommand).rejectsOnce(ec2Failure.throttled()).resolves({});
    const ec2Provider = provider();
    // act
    const first = await ec2Provider.prepareTargets([change.create('rtb-1', V1, nodeA.eni)]);
    const second = await ec2Provider.prepareTargets([change.create('rtb-1', V1, nodeA.eni)]);
    // assess
    expect(String(first.get(nodeA.eni))).toMatch(
      /ec2:ModifyNetworkInterfaceAttribute on eni-0aaaaaaa failed, will retry/,
    );
    expect(second.size).toBe(0);
    expect(sent(ec2)).toEqual([
      'DescribeNetworkInterfaces',
      'ModifyNetworkInterfaceAttribute',
      'DescribeNetworkInterfaces',
      'ModifyNetworkInterfaceAttribute',
    ]);
  });

  it('skips the read of an ENI noted as already off', async () => {
    // prepare
    checks({ [nodeB.eni]: true });
    const ec2Provider = provider();
    ec2Provider.noteSourceDestCheckOff(nodeA.eni);
    // act
    const failed = await ec2Provider.prepareTargets([
      change.create('rtb-1', V1, nodeA.eni),
      change.create('rtb-1', V1, nodeB.eni),
    ]);
    // assess
    expect(failed.size).toBe(0);
    expect(ec2.commandCalls(DescribeNetworkInterfacesCommand).map((c) => c.args[0].input)).toEqual([
      { Filters: [{ Name: 'network-interface-id', Values: [nodeB.eni] }] },
    ]);
    expect(
      ec2.commandCalls(ModifyNetworkInterfaceAttributeCommand).map((c) => c.args[0].input.NetworkInterfaceId),
    ).toEqual([nodeB.eni]);
  });
});

describe('EC2 provider: apply', () => {
  it('writes each change as its route call, one result per change', async () => {
    // act
    const results = await provider().apply(
      [change.create('rtb-1', V1, nodeA.eni), change.create('rtb-2', V1, nodeA.eni)],
      {
        observation: { tables: ['rtb-1', 'rtb-2'], routes: [], view: [] },
        next: [],
      },
    );
    // assess
    expect(results.map((r) => r.error)).toEqual([undefined, undefined]);
    expect(ec2.commandCalls(CreateRouteCommand).map((c) => c.args[0].input.RouteTableId)).toEqual([
      'rtb-1',
      'rtb-2',
    ]);
  });
});
