import {
  AttachInternetGatewayCommand,
  CreateInternetGatewayCommand,
  CreateRouteCommand,
  DescribeNetworkInterfacesCommand,
  ModifyNetworkInterfaceAttributeCommand,
  ReplaceRouteCommand,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MANAGED_TAG, routeMap, type VpcFixture } from '../../bench/support/vpc.js';
import { ConfigError, PermanentError } from '../../src/errors.js';
import { createEc2Provider } from '../../src/providers/aws/provider.js';
import { createTableSnapshot } from '../../src/providers/aws/snapshot.js';
import { createCandidateSource } from '../../src/providers/aws/source.js';
import type { TableSelector } from '../../src/providers/aws/tables.js';
import { silentLogger } from '../../src/runtime/logger.js';
import { createReconciler } from '../../src/runtime/reconcile.js';
import {
  type CountingClient,
  fixture,
  type Moto,
  motoClient,
  nowMs,
  publishCandidacy,
  startMoto,
} from './aws-helpers.js';

const VIPS = ['192.0.2.0/24', '198.51.100.16/28'];

function reconcilerFor(client: CountingClient, selector: TableSelector, vips = VIPS) {
  const logger = silentLogger();
  const snapshot = createTableSnapshot(client.ec2, selector);
  const source = createCandidateSource({
    snapshot,
    owner: 'portlb',
    services: vips.map((vip, i) => ({ name: `web${i}`, vip })),
    staleSeconds: 180,
    now: nowMs,
    logger,
  });
  const provider = createEc2Provider({ ec2: client.ec2, snapshot, owner: 'portlb', vips, logger });
  return createReconciler({ source, provider, owner: 'portlb', logger });
}

describe('EC2 provider against moto', () => {
  let moto: Moto;
  let client: CountingClient;
  let vpc: VpcFixture;
  const byTag: TableSelector = { tags: { [MANAGED_TAG.key]: MANAGED_TAG.value } };

  beforeAll(async () => {
    moto = await startMoto();
    client = motoClient(moto);
  });
  afterAll(async () => {
    await moto?.stop();
  });
  beforeEach(async () => {
    await moto.reset();
    vpc = await fixture(client.ec2);
    client.reset();
  });

  const node = (i: number) => vpc.nodes[i]!;
  const sortedEnis = () => vpc.nodes.map((n) => n.eni).sort();

  it('routes every VIP in every managed table to the lowest healthy candidate, then costs one Describe and no writes', async () => {
    // prepare
    for (const n of vpc.nodes) await publishCandidacy(client.ec2, vpc, n, 'ready', nowMs());
    const reconciler = reconcilerFor(client, byTag);
    // act
    const first = await reconciler.reconcile('test');
    client.reset();
    const second = await reconciler.reconcile('test');
    const calls = client.counts();
    // assess
    expect(first.applied).toHaveLength(VIPS.length * vpc.tables.length);
    for (const table of vpc.tables) {
      const routes = await routeMap(client.ec2, table);
      for (const vip of VIPS) expect(routes.get(vip)).toBe(sortedEnis()[0]);
    }
    expect(second.applied).toHaveLength(0);
    expect(calls).toEqual({ DescribeRouteTables: 1 });
  });

  it('turns SourceDestCheck off on the target ENI once, only when it is on', async () => {
    // prepare
    const target = sortedEnis()[0]!;
    await publishCandidacy(client.ec2, vpc, vpc.nodes.find((n) => n.eni === target)!, 'ready', nowMs());
    const reconciler = reconcilerFor(client, byTag);
    // act
    await reconciler.reconcile('test');
    const eni = await client.ec2.send(
      new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [target] }),
    );
    // assess
    expect(eni.NetworkInterfaces?.[0]?.SourceDestCheck).toBe(false);
    expect(client.counts().ModifyNetworkInterfaceAttribute).toBe(1);
  });

  it('does not touch SourceDestCheck when it is already off', async () => {
    // prepare
    const target = sortedEnis()[0]!;
    await client.ec2.send(
      new ModifyNetworkInterfaceAttributeCommand({
        NetworkInterfaceId: target,
        SourceDestCheck: { Value: false },
      }),
    );
    await publishCandidacy(client.ec2, vpc, vpc.nodes.find((n) => n.eni === target)!, 'ready', nowMs());
    client.reset();
    // act
    await reconcilerFor(client, byTag).reconcile('test');
    // assess
    expect(client.counts().ModifyNetworkInterfaceAttribute).toBeUndefined();
    expect(client.counts().CreateRoute).toBe(VIPS.length * vpc.tables.length);
  });

  it('keeps a healthy current target, even one it would not have chosen (a function set it)', async () => {
    // prepare
    for (const n of vpc.nodes) await publishCandidacy(client.ec2, vpc, n, 'ready', nowMs());
    const reconciler = reconcilerFor(client, byTag);
    await reconciler.reconcile('test');
    const chosenByFunction = sortedEnis()[2]!;
    for (const table of vpc.tables) {
      for (const vip of VIPS) {
        await client.ec2.send(
          new ReplaceRouteCommand({
            RouteTableId: table,
            DestinationCidrBlock: vip,
            NetworkInterfaceId: chosenByFunction,
          }),
        );
      }
    }
    client.reset();
    // act
    const outcome = await reconciler.reconcile('test');
    // assess
    expect(outcome.applied).toHaveLength(0);
    expect(client.writes()).toBe(0);
    expect((await routeMap(client.ec2, vpc.tables[0]!)).get(VIPS[0]!)).toBe(chosenByFunction);
  });

  it('moves routes with one ReplaceRoute each when the current target drains', async () => {
    // prepare
    for (const n of vpc.nodes) await publishCandidacy(client.ec2, vpc, n, 'ready', nowMs() - 5_000);
    const reconciler = reconcilerFor(client, byTag);
    await reconciler.reconcile('test');
    const [first, second] = sortedEnis();
    await publishCandidacy(client.ec2, vpc, vpc.nodes.find((n) => n.eni === first)!, 'draining', nowMs());
    client.reset();
    // act
    const outcome = await reconciler.reconcile('test');
    // assess
    expect(outcome.applied.map((c) => c.kind)).toEqual(
      Array(VIPS.length * vpc.tables.length).fill('replace'),
    );
    expect(client.counts()).toEqual({
      DescribeRouteTables: 1,
      DescribeNetworkInterfaces: 1,
      ModifyNetworkInterfaceAttribute: 1,
      ReplaceRoute: 4,
    });
    for (const table of vpc.tables) expect((await routeMap(client.ec2, table)).get(VIPS[1]!)).toBe(second);
  });

  it('keeps the route when no candidate is healthy (never deletes without a replacement)', async () => {
    // prepare
    await publishCandidacy(client.ec2, vpc, node(0), 'ready', nowMs() - 5_000);
    const reconciler = reconcilerFor(client, byTag);
    await reconciler.reconcile('test');
    await publishCandidacy(client.ec2, vpc, node(0), 'gone', nowMs());
    client.reset();
    // act
    const outcome = await reconciler.reconcile('test');
    // assess
    expect(outcome.applied).toHaveLength(0);
    expect(outcome.plan.skipped.some((s) => s.reason.includes('keeping the route'))).toBe(true);
    expect((await routeMap(client.ec2, vpc.tables[0]!)).get(VIPS[0]!)).toBe(node(0).eni);
  });

  it('treats a stale candidacy as unhealthy', async () => {
    // prepare
    const [first, second] = sortedEnis();
    await publishCandidacy(
      client.ec2,
      vpc,
      vpc.nodes.find((n) => n.eni === first)!,
      'ready',
      nowMs() - 600_000,
    );
    await publishCandidacy(client.ec2, vpc, vpc.nodes.find((n) => n.eni === second)!, 'ready', nowMs());
    // act
    await reconcilerFor(client, byTag).reconcile('test');
    // assess
    expect((await routeMap(client.ec2, vpc.tables[0]!)).get(VIPS[0]!)).toBe(second);
  });

  it('leaves a gateway route to a VIP and every other route alone', async () => {
    // prepare
    const igw = await client.ec2.send(new CreateInternetGatewayCommand({}));
    const igwId = igw.InternetGateway?.InternetGatewayId ?? '';
    await client.ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: igwId, VpcId: vpc.vpcId }));
    const table = vpc.tables[0]!;
    await client.ec2.send(
      new CreateRouteCommand({ RouteTableId: table, DestinationCidrBlock: VIPS[0], GatewayId: igwId }),
    );
    await client.ec2.send(
      new CreateRouteCommand({
        RouteTableId: table,
        DestinationCidrBlock: '203.0.113.0/24',
        NetworkInterfaceId: node(2).eni,
      }),
    );
    for (const n of vpc.nodes) await publishCandidacy(client.ec2, vpc, n, 'ready', nowMs());
    // act
    const outcome = await reconcilerFor(client, byTag).reconcile('test');
    // assess
    const routes = await routeMap(client.ec2, table);
    expect(routes.get(VIPS[0]!)).toBe(igwId);
    expect(routes.get('203.0.113.0/24')).toBe(node(2).eni);
    expect(outcome.plan.skipped.some((s) => s.table === table && s.reason.includes('does not own'))).toBe(
      true,
    );
  });

  it('selects tables by id as well as by tag', async () => {
    // prepare
    for (const n of vpc.nodes) await publishCandidacy(client.ec2, vpc, n, 'ready', nowMs());
    // act
    const outcome = await reconcilerFor(client, { ids: [vpc.tables[1]!] }).reconcile('test');
    // assess
    expect(new Set(outcome.applied.map((c) => c.table))).toEqual(new Set([vpc.tables[1]]));
    expect((await routeMap(client.ec2, vpc.tables[0]!)).get(VIPS[0]!)).toBeUndefined();
  });

  it('refuses a VIP inside the VPC CIDR, read from the VPC itself, and writes nothing', async () => {
    // prepare
    for (const n of vpc.nodes) await publishCandidacy(client.ec2, vpc, n, 'ready', nowMs());
    client.reset();
    // act
    const run = reconcilerFor(client, byTag, ['10.0.200.0/24']).reconcile('test');
    // assess
    await expect(run).rejects.toBeInstanceOf(ConfigError);
    await expect(run).rejects.toThrow(/VIP 10\.0\.200\.0\/24 overlaps VPC CIDR 10\.0\.0\.0\/16 of vpc-/);
    expect(client.writes()).toBe(0);
  });

  it('names an unknown route table and writes nothing', async () => {
    // act
    const run = reconcilerFor(client, { ids: ['rtb-0123456789abcdef0'] }).reconcile('test');
    // assess
    await expect(run).rejects.toBeInstanceOf(PermanentError);
    await expect(run).rejects.toThrow(/unknown route table.*rtb-0123456789abcdef0/);
    await expect(run).rejects.toThrow(/rtb-0123456789abcdef0' does not exist/);
    expect(client.writes()).toBe(0);
  });

  it('says so when no table carries the selecting tags', async () => {
    const run = reconcilerFor(client, { tags: { 'portlb.io/managed': 'nope' } }).reconcile('test');
    await expect(run).rejects.toThrow(/no route table matches aws.routeTables tags portlb.io\/managed=nope/);
  });

  it('refuses a candidate whose ENI does not exist and writes nothing for it', async () => {
    // prepare
    await publishCandidacy(
      client.ec2,
      vpc,
      { instanceId: node(0).instanceId, eni: 'eni-00000000000000001' },
      'ready',
      nowMs(),
    );
    client.reset();
    // act
    const run = reconcilerFor(client, byTag).reconcile('test');
    // assess
    await expect(run).rejects.toThrow(/eni-00000000000000001 does not exist/);
    expect(client.writes()).toBe(0);
  });
});
