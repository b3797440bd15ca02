import {
  CreateRouteCommand,
  CreateTagsCommand,
  DeleteRouteCommand,
  DeleteTagsCommand,
  DescribeNetworkInterfacesCommand,
  DescribeRouteTablesCommand,
  EC2Client,
  ModifyNetworkInterfaceAttributeCommand,
  ReplaceRouteCommand,
  type Route,
  type RouteTable,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Observation, Registry } from '../../../src/core/ports.js';
import { ConfigError, PermanentError } from '../../../src/errors.js';
import { createEc2Provider } from '../../../src/providers/aws/provider.js';
import type { RouteTableView } from '../../../src/providers/aws/tables.js';
import { RECORD_ONLY } from '../../../src/registry/aws/ownership.js';
import { createAwsRegistry } from '../../../src/registry/aws/registry.js';
import { silentLogger } from '../../../src/runtime/logger.js';
import { candidacyOf } from '../../fixtures/aws/candidacy.js';
import {
  candidacyTags,
  describeAnswer,
  ec2Failure,
  nodeA,
  nodeB,
  otherTags,
  RETIRED,
  recordTags,
  route,
  routeTable,
  STRANGER,
  sent,
  V1,
  V2,
  V6,
} from '../../fixtures/aws/ec2.js';
import { change } from '../../fixtures/changes.js';

const ec2 = mockClient(EC2Client);
const owner = 'portlb';
const GATEWAY = 'igw-0f0f0f0f';
/** Both LBs published a candidacy on every table: their ENIs and instances are what portlb writes. */
const lbs = candidacyTags(
  owner,
  candidacyOf(nodeA, 1_764_000_000_000),
  candidacyOf(nodeB, 1_764_000_000_000),
);

function registry(options: { vips?: string[]; vpcCidrs?: string[] } = {}): Registry<RouteTableView[]> {
  const client = new EC2Client({});
  const provider = createEc2Provider({
    ec2: client,
    tables: { tags: { 'portlb.io/managed': 'true' } },
    logger: silentLogger(),
  });
  return createAwsRegistry({
    provider,
    ec2: client,
    owner,
    vips: options.vips ?? [V1, V2, V6],
    vpcCidrs: options.vpcCidrs,
    logger: silentLogger(),
  });
}

const table = (id: string, routes: readonly Route[], tags: Record<string, string> = {}) =>
  routeTable(id, routes, { 'portlb.io/managed': 'true', ...lbs, ...tags });

function answer(...tables: RouteTable[]) {
  ec2.on(DescribeRouteTablesCommand).resolves(describeAnswer(...tables));
}

/** Observes through the registry, then forgets the calls that took, so the test sees only apply's. */
async function observe(r: Registry<RouteTableView[]>): Promise<Observation<RouteTableView[]>> {
  const observation = await r.observe();
  ec2.resetHistory();
  return observation;
}

beforeEach(() => {
  ec2.reset();
  ec2.on(CreateTagsCommand).resolves({});
  ec2.on(DeleteTagsCommand).resolves({});
  ec2.on(CreateRouteCommand).resolves({});
  ec2.on(ReplaceRouteCommand).resolves({});
  ec2.on(DeleteRouteCommand).resolves({});
  ec2.on(ModifyNetworkInterfaceAttributeCommand).resolves({});
  ec2.on(DescribeNetworkInterfacesCommand).resolves({
    NetworkInterfaces: [
      { NetworkInterfaceId: nodeA.eni, SourceDestCheck: false },
      { NetworkInterfaceId: nodeB.eni, SourceDestCheck: false },
    ],
  });
});

describe('AWS registry: observe', () => {
  it('refuses to be built around a VIP that is not a canonical CIDR', () => {
    expect(() => registry({ vips: [V1, '10.1.1.5/24'] })).toThrow(
      /^invalid VIP 10\.1\.1\.5\/24: .*host bits/,
    );
  });

  const routeTo = (vip: string, target: string, owned: boolean, state = 'active') => ({
    table: 'rtb-1',
    vip,
    target,
    owner: owned ? owner : undefined,
    state,
  });
  it.each([
    [
      'a configured VIP routed to any ENI: owned, and recorded',
      [route.toEni(V1, STRANGER)],
      [],
      [routeTo(V1, STRANGER, true)],
      ['CreateTags'],
    ],
    [
      'a configured VIP whose target is gone: owned, a blackhole',
      [route.blackhole(V1)],
      [V1],
      [routeTo(V1, '', true, 'blackhole')],
      [],
    ],
    [
      'a configured VIP in non-canonical text: owned, canonical',
      [route.toEni('2001:DB8:0::/64', nodeA.eni)],
      [V6],
      [routeTo(V6, nodeA.eni, true)],
      [],
    ],
    [
      'a recorded VIP routed to an LB: owned',
      [route.toEni(RETIRED, nodeA.eni)],
      [RETIRED],
      [routeTo(RETIRED, nodeA.eni, true)],
      [],
    ],
    [
      "a recorded VIP routed to an ENI no LB published: someone else's, its record goes, it is not reported",
      [route.toEni(RETIRED, STRANGER)],
      [RETIRED],
      [],
      ['DeleteTags'],
    ],
    [
      "a configured VIP routed to a gateway: someone else's, reported without owner, not recorded",
      [route.toGateway(V1, GATEWAY)],
      [],
      [routeTo(V1, GATEWAY, false)],
      [],
    ],
    [
      'a recorded VIP with no route left: record-only',
      [],
      [RETIRED],
      [{ ...routeTo(RETIRED, '', true, 'blackhole'), id: RECORD_ONLY }],
      [],
    ],
  ])('%s', async (_name, routes, recorded, expected, writes) => {
    // prepare
    answer(table('rtb-1', routes, recordTags(recorded)));
    // act
    const observation = await registry().observe();
    // assess
    expect(observation.tables).toEqual(['rtb-1']);
    expect(observation.routes).toEqual(expected);
    expect(sent(ec2)).toEqual(['DescribeRouteTables', ...writes]);
  });

  it('reports nothing of routes to VIPs neither configured nor recorded, nor the local route', async () => {
    // prepare
    answer(table('rtb-1', [route.toEni('100.64.0.0/24', nodeA.eni), route.toGateway('0.0.0.0/0')]));
    // act
    const observation = await registry().observe();
    // assess
    expect(observation.routes).toEqual([]);
    expect(observation.view[0]?.routes).toHaveLength(3);
  });

  it('reads once and writes nothing in steady state', async () => {
    // prepare
    const routes = [route.toEni(V1, nodeA.eni), route.toEni(V2, nodeA.eni), route.toEni(RETIRED, nodeB.eni)];
    answer(
      table('rtb-1', routes, recordTags([V1, V2, RETIRED])),
      table('rtb-2', routes, recordTags([V1, V2, RETIRED])),
    );
    // act
    const observation = await registry().observe();
    // assess
    expect(sent(ec2)).toEqual(['DescribeRouteTables']);
    expect(observation.routes.filter((r) => r.owner === owner)).toHaveLength(6);
  });

  it.each([
    [
      'a VPC CIDR read from the local route',
      { vips: [V1, '10.0.5.0/24'] },
      /VIP 10\.0\.5\.0\/24 overlaps VPC CIDR 10\.0\.0\.0\/16 of vpc-0f0f0f0f \(local route in rtb-1\)/,
    ],
    [
      'aws.vpcCidrs',
      { vips: [V1, '172.16.1.0/24'], vpcCidrs: ['172.16.0.0/12'] },
      /VIP 172\.16\.1\.0\/24 overlaps VPC CIDR 172\.16\.0\.0\/12 of aws\.vpcCidrs/,
    ],
  ])('refuses a VIP overlapping %s before it writes anything', async (_name, options, message) => {
    // prepare: both VIPs have routes with no record, which a load would record
    const overlapping = options.vips[1] ?? '';
    answer(table('rtb-1', [route.toEni(V1, nodeA.eni), route.toEni(overlapping, nodeA.eni)]));
    // act
    const observing = registry(options).observe();
    // assess
    await expect(observing).rejects.toThrow(ConfigError);
    await expect(observing).rejects.toThrow(message);
    expect(sent(ec2)).toEqual(['DescribeRouteTables']);
  });
});

describe('AWS registry: apply', () => {
  it.each([
    [
      'a create of a VIP never configured',
      change.create('rtb-1', '100.64.0.0/24', nodeA.eni),
      'rtb-1/100.64.0.0/24',
    ],
    [
      'a delete of a VIP neither configured nor recorded',
      change.remove('rtb-1', '100.64.0.0/24', nodeA.eni),
      'rtb-1/100.64.0.0/24',
    ],
    [
      'a replace of a VIP only recorded (a retired VIP may only go)',
      change.replace('rtb-1', RETIRED, nodeA.eni, nodeB.eni),
      `rtb-1/${RETIRED}`,
    ],
  ])('refuses the whole batch for %s, and writes nothing', async (_name, planned, named) => {
    // prepare
    answer(
      table(
        'rtb-1',
        [route.toEni(V1, nodeA.eni), route.toEni(RETIRED, nodeA.eni)],
        recordTags([V1, RETIRED]),
      ),
    );
    const r = registry();
    const observation = await observe(r);
    // act
    const applying = r.apply([change.create('rtb-1', V2, nodeA.eni), planned], { observation, next: [] });
    // assess
    await expect(applying).rejects.toThrow(PermanentError);
    await expect(applying).rejects.toThrow(
      `refusing to write routes for VIPs neither configured nor recorded: ${named}`,
    );
    expect(ec2.calls()).toHaveLength(0);
  });

  it('refuses to replace or delete a route it does not own, and lets the rest through, results in order', async () => {
    // prepare
    answer(table('rtb-1', [route.toGateway(V1, GATEWAY), route.toEni(V2, nodeA.eni)], recordTags([V2])));
    const r = registry();
    const observation = await observe(r);
    const changes = [
      change.replace('rtb-1', V1, GATEWAY, nodeB.eni),
      change.remove('rtb-1', V1, GATEWAY),
      change.replace('rtb-1', V2, STRANGER, nodeB.eni), // not the route observed
      change.replace('rtb-1', V2, nodeA.eni, nodeB.eni),
    ];
    // act
    const results = await r.apply(changes, { observation, next: [] });
    // assess
    expect(results.map((x) => x.change)).toEqual(changes);
    expect(results.map((x) => (x.error === undefined ? 'ok' : String(x.error)))).toEqual([
      `PermanentError: refusing to replace rtb-1/${V1} -> ${GATEWAY}: the route is not owned by portlb`,
      `PermanentError: refusing to delete rtb-1/${V1} -> ${GATEWAY}: the route is not owned by portlb`,
      `PermanentError: refusing to replace rtb-1/${V2} -> ${STRANGER}: the route is not owned by portlb`,
      'ok',
    ]);
    expect(ec2.commandCalls(ReplaceRouteCommand).map((c) => c.args[0].input)).toEqual([
      { RouteTableId: 'rtb-1', DestinationCidrBlock: V2, NetworkInterfaceId: nodeB.eni },
    ]);
    expect(ec2.commandCalls(DeleteRouteCommand)).toHaveLength(0);
  });

  it('records a VIP on its table before it creates the route', async () => {
    // prepare
    answer(table('rtb-1', []), table('rtb-2', []));
    const r = registry();
    const observation = await observe(r);
    // act
    const results = await r.apply(
      [change.create('rtb-1', V1, nodeA.eni), change.create('rtb-2', V1, nodeA.eni)],
      {
        observation,
        next: [],
      },
    );
    // assess
    expect(results.map((x) => x.error)).toEqual([undefined, undefined]);
    expect(sent(ec2)).toEqual(['DescribeNetworkInterfaces', 'CreateTags', 'CreateRoute', 'CreateRoute']);
    expect(ec2.commandCalls(CreateTagsCommand)[0]?.args[0].input).toMatchObject({
      Resources: ['rtb-1', 'rtb-2'],
      Tags: [{ Value: V1 }],
    });
    expect(ec2.commandCalls(CreateRouteCommand).map((c) => c.args[0].input)).toEqual([
      { RouteTableId: 'rtb-1', DestinationCidrBlock: V1, NetworkInterfaceId: nodeA.eni },
      { RouteTableId: 'rtb-2', DestinationCidrBlock: V1, NetworkInterfaceId: nodeA.eni },
    ]);
  });

  it.each([
    [
      'a retired VIP: the route, then its record; reason not_configured',
      [route.toEni(RETIRED, nodeA.eni)],
      change.remove('rtb-1', RETIRED, nodeA.eni),
      ['DeleteRoute', 'DeleteTags'],
      { code: 'not_configured', detail: undefined },
    ],
    [
      'a retired VIP whose route is already gone: only its record',
      [],
      change.remove('rtb-1', RETIRED, '', RECORD_ONLY),
      ['DeleteTags'],
      { code: 'not_configured', detail: 'its route was already gone, its record is removed' },
    ],
    [
      'a configured VIP: the route, then its record; the reason as planned',
      [route.toEni(V1, nodeA.eni)],
      change.remove('rtb-1', V1, nodeA.eni),
      ['DeleteRoute', 'DeleteTags'],
      { code: 'not_desired' },
    ],
  ])('deletes %s', async (_name, routes, planned, calls, reason) => {
    // prepare
    const recorded = planned.vip;
    answer(table('rtb-1', routes, recordTags([recorded])));
    const r = registry();
    const observation = await observe(r);
    // act
    const [result] = await r.apply([planned], { observation, next: [] });
    // assess
    expect(result?.error).toBeUndefined();
    expect(result?.change.reason).toEqual(reason);
    expect(sent(ec2)).toEqual(calls);
    expect(ec2.commandCalls(DeleteTagsCommand)[0]?.args[0].input).toEqual({
      Resources: ['rtb-1'],
      Tags: [{ Key: Object.keys(recordTags([recorded]))[0] }],
    });
  });

  it('reports a delete whose record could not be dropped, after the route went', async () => {
    // prepare
    ec2.on(DeleteTagsCommand).rejects(ec2Failure.denied('DeleteTags'));
    answer(table('rtb-1', [route.toEni(RETIRED, nodeA.eni)], recordTags([RETIRED])));
    const r = registry();
    const observation = await observe(r);
    // act
    const [result] = await r.apply([change.remove('rtb-1', RETIRED, nodeA.eni)], { observation, next: [] });
    // assess
    expect(String(result?.error)).toMatch(/grant ec2:DeleteTags/);
    expect(sent(ec2)).toEqual(['DeleteRoute', 'DeleteTags']);
  });

  it('creates no route in a table that cannot record it, and still replaces there', async () => {
    // prepare: 50 tags (others, the LBs' candidacies, the record of V2)
    const full = { ...otherTags(50 - Object.keys(lbs).length - 2), ...recordTags([V2]) };
    answer(table('rtb-1', [route.toEni(V2, nodeA.eni)], full));
    const r = registry();
    const observation = await observe(r);
    expect(Object.keys(observation.view[0]?.tags ?? {})).toHaveLength(50);
    // act
    const results = await r.apply(
      [change.create('rtb-1', V1, nodeA.eni), change.replace('rtb-1', V2, nodeA.eni, nodeB.eni)],
      {
        observation,
        next: [],
      },
    );
    // assess
    expect(String(results[0]?.error)).toMatch(
      /route table rtb-1 has 50 tags and recording the routes of 192\.0\.2\.0\/24/,
    );
    expect(results[1]?.error).toBeUndefined();
    expect(sent(ec2)).toEqual(['DescribeNetworkInterfaces', 'ReplaceRoute']);
  });

  it('turns SourceDestCheck off once for a new target, before any route goes to it', async () => {
    // prepare
    ec2.on(DescribeNetworkInterfacesCommand).resolves({
      NetworkInterfaces: [{ NetworkInterfaceId: nodeB.eni, SourceDestCheck: true }],
    });
    answer(table('rtb-1', []), table('rtb-2', []));
    const r = registry();
    const observation = await observe(r);
    const changes = ['rtb-1', 'rtb-2'].flatMap((t) => [
      change.create(t, V1, nodeB.eni),
      change.create(t, V2, nodeB.eni),
    ]);
    // act
    const first = await r.apply(changes, { observation, next: [] });
    const calls = sent(ec2);
    ec2.resetHistory();
    const again = await r.apply([change.create('rtb-1', V6, nodeB.eni)], { observation, next: [] });
    // assess
    expect([...first, ...again].map((x) => x.error)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    expect(calls.slice(0, 3)).toEqual([
      'DescribeNetworkInterfaces',
      'ModifyNetworkInterfaceAttribute',
      'CreateTags',
    ]);
    expect(calls.filter((c) => c === 'CreateRoute')).toHaveLength(4);
    expect(ec2.commandCalls(ModifyNetworkInterfaceAttributeCommand)).toHaveLength(0);
    expect(sent(ec2)).toEqual(['CreateTags', 'DeleteTags', 'CreateRoute']); // V6 merged into the record, no check read
  });

  it('reports a target ENI that does not exist on each change to it, and records and routes the rest', async () => {
    // prepare
    const gone = 'eni-0eeeeeee';
    answer(table('rtb-1', []), table('rtb-2', []));
    const r = registry();
    const observation = await observe(r);
    // act
    const results = await r.apply(
      [
        change.create('rtb-1', V1, gone),
        change.create('rtb-2', V1, gone),
        change.create('rtb-1', V2, nodeB.eni),
      ],
      { observation, next: [] },
    );
    // assess
    expect(results.map((x) => (x.error === undefined ? 'ok' : String(x.error)))).toEqual([
      `PermanentError: target network interface ${gone} does not exist`,
      `PermanentError: target network interface ${gone} does not exist`,
      'ok',
    ]);
    expect(ec2.commandCalls(DescribeNetworkInterfacesCommand).map((c) => c.args[0].input)).toEqual([
      { Filters: [{ Name: 'network-interface-id', Values: [gone, nodeB.eni] }] },
    ]);
    expect(ec2.commandCalls(CreateTagsCommand).map((c) => c.args[0].input.Tags?.map((t) => t.Value))).toEqual(
      [[V2]],
    );
    expect(ec2.commandCalls(CreateRouteCommand).map((c) => c.args[0].input.DestinationCidrBlock)).toEqual([
      V2,
    ]);
  });
});
