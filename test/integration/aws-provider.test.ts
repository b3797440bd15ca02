import {
  AttachInternetGatewayCommand,
  CreateInternetGatewayCommand,
  CreateNetworkInterfaceCommand,
  CreateRouteCommand,
  CreateTagsCommand,
  DescribeNetworkInterfacesCommand,
  DescribeRouteTablesCommand,
  ModifyNetworkInterfaceAttributeCommand,
  ReplaceRouteCommand,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { reasonText } from '../../src/core/reasons.js';
import { ConfigError, PermanentError } from '../../src/errors.js';
import type { TableSelector } from '../../src/providers/aws/tables.js';
import { decodeRecords, packRecords } from '../../src/registry/aws/records.js';
import { MANAGED_TAG, routeMap, type VpcFixture } from '../fixtures/aws/vpc.js';
import {
  awsReconciler,
  type CountingClient,
  createRoutes,
  fixture,
  type Moto,
  motoClient,
  nowMs,
  publishCandidacy,
  startMoto,
} from './aws-helpers.js';

const VIPS = ['192.0.2.0/24', '198.51.100.16/28'];

function reconcilerFor(client: CountingClient, selector: TableSelector, vips = VIPS) {
  return awsReconciler(client.ec2, selector, vips);
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
    expect(outcome.plan.skipped.some((s) => reasonText(s.reason).includes('keeping the route'))).toBe(true);
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
    expect(
      outcome.plan.skipped.some((s) => s.table === table && reasonText(s.reason).includes('does not own')),
    ).toBe(true);
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

  describe('route records (ownership that outlives the config)', () => {
    const [A, B] = VIPS as [string, string];
    const UNRECORDED = '203.0.113.0/24';

    async function tags(table: string): Promise<Record<string, string>> {
      const read = await client.ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: [table] }));
      return Object.fromEntries((read.RouteTables?.[0]?.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
    }
    const recorded = async (table: string) => [...decodeRecords(await tags(table), 'portlb').vips].sort();

    async function gatewayRoute(table: string, vip: string): Promise<string> {
      const igw = await client.ec2.send(new CreateInternetGatewayCommand({}));
      const id = igw.InternetGateway?.InternetGatewayId ?? '';
      await client.ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: id, VpcId: vpc.vpcId }));
      await client.ec2.send(
        new CreateRouteCommand({ RouteTableId: table, DestinationCidrBlock: vip, GatewayId: id }),
      );
      return id;
    }

    it('deletes the route and then the record of a VIP removed from the config; leaves everything else alone', async () => {
      // prepare: A and B routed and recorded; a gateway route and an unrecorded ENI route beside them
      for (const n of vpc.nodes) await publishCandidacy(client.ec2, vpc, n, 'ready', nowMs());
      await reconcilerFor(client, byTag, [A, B]).reconcile('test');
      const table = vpc.tables[0]!;
      const igw = await gatewayRoute(table, '198.18.0.0/15');
      await client.ec2.send(
        new CreateRouteCommand({
          RouteTableId: table,
          DestinationCidrBlock: UNRECORDED,
          NetworkInterfaceId: node(2).eni,
        }),
      );
      const recordedBefore = await recorded(table);
      client.reset();
      // act
      const outcome = await reconcilerFor(client, byTag, [A]).reconcile('test');
      const calls = client.counts();
      client.reset();
      const steady = await reconcilerFor(client, byTag, [A]).reconcile('test');
      const steadyCalls = client.counts();
      // assess
      expect(recordedBefore).toEqual([A, B].sort());
      expect(outcome.applied.map((c) => [c.kind, c.table, c.vip, reasonText(c.reason)])).toEqual(
        [...vpc.tables].sort().map((t) => ['delete', t, B, 'VIP no longer configured']),
      );
      for (const t of vpc.tables) {
        const routes = await routeMap(client.ec2, t);
        expect(routes.has(B)).toBe(false);
        expect(routes.get(A)).toBe(sortedEnis()[0]);
        expect(await recorded(t)).toEqual([A]);
      }
      const routes = await routeMap(client.ec2, table);
      expect(routes.get('198.18.0.0/15')).toBe(igw);
      expect(routes.get(UNRECORDED)).toBe(node(2).eni);
      expect(calls).toMatchObject({ DescribeRouteTables: 1, DeleteRoute: 2 });
      expect(steady.applied).toEqual([]);
      expect(steadyCalls).toEqual({ DescribeRouteTables: 1 });
    });

    it('records a route before creating it, in one CreateTags for all tables alike', async () => {
      // prepare
      await publishCandidacy(client.ec2, vpc, node(0), 'ready', nowMs());
      client.reset();
      // act
      await reconcilerFor(client, byTag, [A, B]).reconcile('test');
      // assess
      expect(client.calls.indexOf('CreateTags')).toBeLessThan(client.calls.indexOf('CreateRoute'));
      expect(client.counts().CreateTags).toBe(1);
      for (const t of vpc.tables) expect(await recorded(t)).toEqual([A, B].sort());
    });

    it('crash after the route was deleted: a record without a route is removed, with no route call', async () => {
      // prepare: B recorded in table 0, no route for it
      await publishCandidacy(client.ec2, vpc, node(0), 'ready', nowMs());
      await reconcilerFor(client, byTag, [A]).reconcile('test');
      const table = vpc.tables[0]!;
      const packed = packRecords('portlb', new Set([A, B]), new Map());
      await client.ec2.send(
        new CreateTagsCommand({
          Resources: [table],
          Tags: [...packed].map(([Key, Value]) => ({ Key, Value })),
        }),
      );
      client.reset();
      // act
      const outcome = await reconcilerFor(client, byTag, [A]).reconcile('test');
      // assess
      expect(outcome.applied.map((c) => [c.kind, c.vip, reasonText(c.reason)])).toEqual([
        ['delete', B, expect.stringMatching(/^VIP no longer configured; its route was already gone/)],
      ]);
      expect(client.counts().DeleteRoute).toBeUndefined();
      expect(await recorded(table)).toEqual([A]);
      expect((await routeMap(client.ec2, table)).get(A)).toBe(node(0).eni);
    });

    it('crash after the record was written: the route is created and the record kept', async () => {
      // prepare
      await publishCandidacy(client.ec2, vpc, node(0), 'ready', nowMs());
      const packed = packRecords('portlb', new Set([A]), new Map());
      await client.ec2.send(
        new CreateTagsCommand({
          Resources: [...vpc.tables],
          Tags: [...packed].map(([Key, Value]) => ({ Key, Value })),
        }),
      );
      client.reset();
      // act
      await reconcilerFor(client, byTag, [A]).reconcile('test');
      // assess
      expect(client.counts().CreateTags).toBeUndefined();
      for (const t of vpc.tables) {
        expect((await routeMap(client.ec2, t)).get(A)).toBe(node(0).eni);
        expect(await recorded(t)).toEqual([A]);
      }
    });

    it('records routes made before records existed, so they can be retired later', async () => {
      // prepare: A routed by an older portlb (no record)
      await publishCandidacy(client.ec2, vpc, node(0), 'ready', nowMs());
      await createRoutes(client.ec2, vpc.tables, A, node(0).eni);
      // act
      const adopted = await reconcilerFor(client, byTag, [A]).reconcile('test');
      const recordedAfter = await recorded(vpc.tables[0]!);
      await reconcilerFor(client, byTag, [B]).reconcile('test');
      // assess
      expect(adopted.applied).toEqual([]);
      expect(recordedAfter).toEqual([A]);
      for (const t of vpc.tables) {
        const routes = await routeMap(client.ec2, t);
        expect(routes.has(A)).toBe(false);
        expect(routes.get(B)).toBe(node(0).eni);
        expect(await recorded(t)).toEqual([B]);
      }
    });

    it('drops the record of a destination someone else now routes, and leaves that route alone', async () => {
      // prepare
      await publishCandidacy(client.ec2, vpc, node(0), 'ready', nowMs());
      await reconcilerFor(client, byTag, [A, B]).reconcile('test');
      const table = vpc.tables[0]!;
      const { DeleteRouteCommand } = await import('@aws-sdk/client-ec2');
      await client.ec2.send(new DeleteRouteCommand({ RouteTableId: table, DestinationCidrBlock: B }));
      const igw = await gatewayRoute(table, B);
      // act
      await reconcilerFor(client, byTag, [A]).reconcile('test');
      // assess
      expect((await routeMap(client.ec2, table)).get(B)).toBe(igw);
      expect(await recorded(table)).toEqual([A]);
    });

    it('leaves a retired VIP alone when someone else pointed its route elsewhere, and drops the record', async () => {
      // prepare: A and B routed and recorded; then someone points B at an ENI that is no LB's
      for (const n of vpc.nodes) await publishCandidacy(client.ec2, vpc, n, 'ready', nowMs());
      await reconcilerFor(client, byTag, [A, B]).reconcile('test');
      const table = vpc.tables[0]!;
      const stranger = await client.ec2.send(
        new CreateNetworkInterfaceCommand({ SubnetId: vpc.subnetId, Description: 'not an LB' }),
      );
      const eni = stranger.NetworkInterface?.NetworkInterfaceId ?? '';
      await client.ec2.send(
        new ReplaceRouteCommand({ RouteTableId: table, DestinationCidrBlock: B, NetworkInterfaceId: eni }),
      );
      // act: B leaves the config
      const outcome = await reconcilerFor(client, byTag, [A]).reconcile('test');
      // assess: the stranger's route stays, B's record goes from that table; elsewhere B is retired
      expect(outcome.applied.filter((c) => c.table === table)).toEqual([]);
      expect((await routeMap(client.ec2, table)).get(B)).toBe(eni);
      expect(await recorded(table)).toEqual([A]);
      const other = vpc.tables[1]!;
      expect((await routeMap(client.ec2, other)).has(B)).toBe(false);
      expect(await recorded(other)).toEqual([A]);
    });

    it('refuses a table that would pass 50 tags, naming the numbers, and changes nothing in it', async () => {
      // prepare: table 0 holds 50 tags (managed tag + candidacy + 48 others)
      await publishCandidacy(client.ec2, vpc, node(0), 'ready', nowMs());
      const full = vpc.tables[0]!;
      const filler = Array.from({ length: 48 }, (_, i) => ({ Key: `team/tag-${i}`, Value: 'x' }));
      await client.ec2.send(new CreateTagsCommand({ Resources: [full], Tags: filler }));
      const before = await tags(full);
      client.reset();
      // act
      const run = reconcilerFor(client, byTag, [A, B]).reconcile('test');
      // assess
      await expect(run).rejects.toThrow(
        new RegExp(
          `route table ${full} has 50 tags and recording the routes of .* needs 1 more before 0 can go \\(51 > 50`,
        ),
      );
      expect(Object.keys(before)).toHaveLength(50);
      expect(await tags(full)).toEqual(before);
      const untouched = await routeMap(client.ec2, full);
      expect([untouched.has(A), untouched.has(B)]).toEqual([false, false]);
      const other = await routeMap(client.ec2, vpc.tables[1]!);
      expect([other.get(A), other.get(B)]).toEqual([node(0).eni, node(0).eni]);
    });

    it('retires a VIP from a full table too: its smaller record goes in after the old one is out', async () => {
      // prepare: A and B routed and recorded, then the table filled to 50 tags
      for (const n of vpc.nodes) await publishCandidacy(client.ec2, vpc, n, 'ready', nowMs());
      await reconcilerFor(client, byTag, [A, B]).reconcile('test');
      const full = vpc.tables[0]!;
      const room = 50 - Object.keys(await tags(full)).length;
      const filler = Array.from({ length: room }, (_, i) => ({ Key: `team/tag-${i}`, Value: 'x' }));
      await client.ec2.send(new CreateTagsCommand({ Resources: [full], Tags: filler }));
      expect(Object.keys(await tags(full))).toHaveLength(50);
      client.reset();
      // act
      const outcome = await reconcilerFor(client, byTag, [A]).reconcile('test');
      // assess: B's route and record are gone, A's route and record stay, the table is at 50
      expect(outcome.failed).toEqual([]);
      // The full table's old record went out before its smaller one came in (51 tags otherwise).
      expect(client.calls.indexOf('DeleteRoute')).toBeLessThan(client.calls.indexOf('DeleteTags'));
      expect(client.calls.indexOf('DeleteTags')).toBeLessThan(client.calls.lastIndexOf('CreateTags'));
      const routes = await routeMap(client.ec2, full);
      expect([routes.has(A), routes.has(B)]).toEqual([true, false]);
      expect(await recorded(full)).toEqual([A]);
      expect(Object.keys(await tags(full))).toHaveLength(50);
    });
  });
});
