import { createServer } from 'node:net';
import {
  DescribeNetworkInterfacesCommand,
  DescribeRouteTablesCommand,
  ReplaceRouteCommand,
} from '@aws-sdk/client-ec2';
import { CreateEventBusCommand, EventBridgeClient, type PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runPass } from '../../functions/aws/pass.js';
import { parseConfig } from '../../src/config/load.js';
import { awsMode } from '../../src/modes/aws/index.js';
import { createAwsMode, createAwsModeFromConfig } from '../../src/modes/aws/sidecar.js';
import { modePipeline } from '../../src/modes/pipeline.js';
import type { ModeParts } from '../../src/modes/types.js';
import type { EventsPort } from '../../src/providers/aws/port.js';
import { lifecycleDetailSchema } from '../../src/publishers/aws/lifecycle-event.js';
import { createController } from '../../src/runtime/controller.js';
import type { LeaderElector } from '../../src/runtime/leader.js';
import { silentLogger } from '../../src/runtime/logger.js';
import { createMetrics } from '../../src/runtime/metrics.js';
import { candidateTagKey, decodeCandidacies, podId } from '../../src/sources/aws/candidacy.js';
import { motoClientConfig } from '../fixtures/aws/moto.js';
import { MANAGED_TAG, routeMap, type VpcFixture } from '../fixtures/aws/vpc.js';
import {
  type CountingClient,
  fixture,
  type Moto,
  motoClient,
  nowMs,
  publishCandidacy,
  startMoto,
} from './aws-helpers.js';

const VIP = '192.0.2.0/24';

/** A Lease stand-in the test flips by hand (the real one is src/kube/lease.ts, tested on its own). */
function handLeader(leading: boolean): LeaderElector & { set(leading: boolean): void } {
  const listeners = new Set<(leading: boolean) => void>();
  let state = leading;
  return {
    isLeader: () => state,
    holder: () => (state ? 'me' : 'someone else'),
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    start: async () => {},
    stop: async () => {},
    set(next) {
      state = next;
      for (const l of listeners) l(next);
    },
  };
}

/** An aws-mode config with one service; `backend` is what its health check probes. */
function awsConfig(
  aws: Record<string, unknown>,
  env: Record<string, string>,
  extra: {
    backend?: { address: string; port: number };
    health?: Record<string, number>;
    drain?: { seconds: number };
  } = {},
) {
  const backend = extra.backend ?? { address: '10.0.1.10', port: 8080 };
  return parseConfig(
    {
      mode: 'aws',
      allowedVipPools: ['192.0.2.0/24'],
      services: [{ name: 'web', vip: VIP, ports: [{ port: 80 }], backends: { static: [backend] } }],
      aws,
      ...(extra.health && { health: extra.health }),
      ...(extra.drain && { drain: extra.drain }),
    },
    env,
  );
}

describe('aws mode (sidecar) against moto', () => {
  let moto: Moto;
  let client: CountingClient;
  let vpc: VpcFixture;
  const started: ModeParts[] = [];

  beforeAll(async () => {
    moto = await startMoto();
    client = motoClient(moto);
  });
  afterAll(async () => {
    for (const m of started) await m.close?.();
    await moto?.stop();
  });
  beforeEach(async () => {
    for (const m of started.splice(0)) await m.close?.();
    await moto.reset();
    vpc = await fixture(client.ec2, { tables: 2, nodes: 3 });
    vpc = { ...vpc, nodes: [...vpc.nodes].sort((a, b) => (a.eni < b.eni ? -1 : 1)) };
    client.reset();
  });

  const node = (i: number) => vpc.nodes[i]!;

  async function sidecar(
    i: number,
    leader: LeaderElector,
    options: { publish?: 'tags' | 'eventbridge'; events?: EventsPort; healthy?: () => boolean } = {},
  ): Promise<{ runtime: ModeParts; reconcile: () => Promise<number> }> {
    const config = awsConfig(
      {
        region: 'us-east-1',
        endpoint: moto.endpoint,
        routeTables: { tags: { [MANAGED_TAG.key]: MANAGED_TAG.value } },
        ...(options.publish && { publish: options.publish }),
      },
      { NODE_NAME: `node-${i}`, HOST_IP: node(i).ip, POD_NAME: `lb-${i}`, POD_NAMESPACE: 'portlb' },
      { drain: { seconds: 0 } },
    );
    const runtime = await createAwsMode(
      { config, logger: silentLogger(), metrics: createMetrics({ defaults: false }), trigger: () => {} },
      {
        ec2: client.ec2,
        events: options.events,
        leader,
        providerId: () => `aws:///us-east-1a/${node(i).instanceId}`,
        healthy: options.healthy ?? (() => true),
        checkMs: options.healthy ? 50 : 60_000,
      },
    );
    started.push(runtime);
    await runtime.start?.();
    const controller = createController(
      modePipeline(awsMode, { source: runtime.source, registry: runtime.registry }),
      { logger: silentLogger() },
    );
    const reconciler = {
      reconcile: async (why: string) => {
        const outcome = await controller.runOnce(why);
        if (outcome.error) throw outcome.error;
        return outcome;
      },
    };
    return {
      runtime,
      reconcile: async () =>
        runtime.canWrite?.() === false ? -1 : (await reconciler.reconcile('test')).applied.length,
    };
  }

  async function candidacies() {
    const tables = await client.ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: [...vpc.tables] }));
    return (tables.RouteTables ?? []).map(
      (t) =>
        decodeCandidacies(
          Object.fromEntries((t.Tags ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? ''])),
          'portlb',
        ).candidacies,
    );
  }

  it('publishes its candidacy on every managed table with SourceDestCheck off; only the leader writes routes', async () => {
    // act
    const leader = await sidecar(0, handLeader(true));
    const follower = await sidecar(1, handLeader(false));
    const written = await leader.reconcile();
    const skipped = await follower.reconcile();
    // assess
    const perTable = await candidacies();
    expect(perTable).toHaveLength(2);
    for (const list of perTable)
      expect(list.map((c) => [c.eni, c.state]).sort()).toEqual([
        [node(0).eni, 'ready'],
        [node(1).eni, 'ready'],
      ]);
    const eni = await client.ec2.send(
      new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [node(0).eni] }),
    );
    expect(eni.NetworkInterfaces?.[0]?.SourceDestCheck).toBe(false);
    expect(written).toBe(2);
    expect(skipped).toBe(-1);
    for (const table of vpc.tables) expect((await routeMap(client.ec2, table)).get(VIP)).toBe(node(0).eni);
  });

  it('a Lease handover moves no traffic: the new leader keeps the current target', async () => {
    // prepare
    const leaseA = handLeader(true);
    const leaseB = handLeader(false);
    const a = await sidecar(0, leaseA);
    const b = await sidecar(1, leaseB);
    await a.reconcile();
    // act
    leaseA.set(false);
    leaseB.set(true);
    client.reset();
    const written = await b.reconcile();
    // assess
    expect(written).toBe(0);
    expect(client.counts()).toEqual({ DescribeRouteTables: 1 });
  });

  it('keeps a target a function chose while it stays healthy', async () => {
    // prepare
    const a = await sidecar(0, handLeader(true));
    await sidecar(1, handLeader(false));
    await a.reconcile();
    for (const table of vpc.tables) {
      await client.ec2.send(
        new ReplaceRouteCommand({
          RouteTableId: table,
          DestinationCidrBlock: VIP,
          NetworkInterfaceId: node(1).eni,
        }),
      );
    }
    // act
    const written = await a.reconcile();
    // assess
    expect(written).toBe(0);
    for (const table of vpc.tables) expect((await routeMap(client.ec2, table)).get(VIP)).toBe(node(1).eni);
  });

  it('a follower whose LB stops serving moves its routes away at once, without waiting for the leader', async () => {
    // prepare: node 0 carries the routes but follows; node 1 leads and never reconciles here
    let serving = true;
    const follower = await sidecar(0, handLeader(false), { healthy: () => serving });
    const leader = await sidecar(1, handLeader(true));
    await leader.reconcile();
    const target = async () => (await routeMap(client.ec2, vpc.tables[0]!)).get(VIP);
    expect(await target()).toBe(node(0).eni);
    // act
    serving = false;
    // assess
    await expect.poll(target, { timeout: 10_000, interval: 100 }).toBe(node(1).eni);
    expect(follower.runtime.canWrite?.()).toBe(false);
  });

  it('on shutdown announces draining, moves its routes to another LB, then removes its candidacy', async () => {
    // prepare
    const a = await sidecar(0, handLeader(true));
    await sidecar(1, handLeader(false));
    await a.reconcile();
    // act
    await a.runtime.shutdown?.();
    // assess
    for (const table of vpc.tables) expect((await routeMap(client.ec2, table)).get(VIP)).toBe(node(1).eni);
    const mine = (await candidacies()).flat().filter((c) => c.instanceId === node(0).instanceId);
    expect(mine).toEqual([]); // gone: its tag is removed from every table
  });

  it('least-privilege topology: publishes a lifecycle event, writes nothing in EC2, and the function programs the routes', async () => {
    // prepare: moto's EventBridge, recorded on the way so the test can hand the event to the function
    const events = new EventBridgeClient({ ...motoClientConfig(moto.endpoint), maxAttempts: 1 });
    await events.send(new CreateEventBusCommand({ Name: 'portlb-lifecycle' }));
    const put: string[] = [];
    const recording: EventsPort = {
      send: ((command: PutEventsCommand) => {
        for (const entry of command.input.Entries ?? []) put.push(entry.Detail ?? '');
        return events.send(command);
      }) as EventsPort['send'],
    };
    await publishCandidacy(client.ec2, vpc, node(1), 'ready', nowMs());
    client.reset();
    // act
    const s = await sidecar(2, handLeader(true), { publish: 'eventbridge', events: recording });
    const ec2Writes = client.writes();
    const detail = lifecycleDetailSchema.parse(JSON.parse(put[0] ?? '{}'));
    const outcome = await runPass(
      {
        ec2: client.ec2,
        logger: silentLogger(),
        now: nowMs,
        config: {
          region: 'us-east-1',
          owner: 'portlb',
          vips: [VIP],
          tables: { tags: { [MANAGED_TAG.key]: MANAGED_TAG.value } },
          vpcCidrs: [],
          staleSeconds: 180,
          concurrency: 4,
          maxAttempts: 1,
          logLevel: 'info',
        },
      },
      { kind: 'lifecycle', detail },
    );
    // assess
    expect(s.runtime.canWrite?.()).toBe(false);
    expect(s.runtime.notReady?.()).toEqual([]);
    expect(ec2Writes).toBe(0);
    expect(detail).toMatchObject({ instanceId: node(2).instanceId, state: 'ready', nodeIp: node(2).ip });
    expect(outcome.candidacy?.written).toHaveLength(2);
    expect(outcome.applied).toHaveLength(2);
    const tags = await client.ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: [vpc.tables[0]!] }));
    expect(tags.RouteTables?.[0]?.Tags?.map((t) => t.Key)).toContain(
      candidateTagKey('portlb', node(2).instanceId, podId('portlb/lb-2')),
    );
    for (const table of vpc.tables) expect((await routeMap(client.ec2, table)).get(VIP)).toBe(node(1).eni);
  });

  it('refuses a VIP inside the VPC before it writes anything, its candidacy included', async () => {
    // prepare: the fixture's VPC is 10.0.0.0/16; aws.vpcCidrs would do, the table's local route does
    const config = parseConfig(
      {
        mode: 'aws',
        allowedVipPools: ['10.0.0.0/8'],
        services: [
          {
            name: 'web',
            vip: '10.0.200.0/24',
            ports: [{ port: 80 }],
            backends: { static: [{ address: '10.0.1.10', port: 8080 }] },
          },
        ],
        aws: { routeTables: { ids: [...vpc.tables] } },
      },
      { NODE_NAME: 'node-0', HOST_IP: node(0).ip, POD_NAME: 'lb-0', POD_NAMESPACE: 'portlb' },
    );
    const runtime = await createAwsMode(
      { config, logger: silentLogger(), metrics: createMetrics({ defaults: false }), trigger: () => {} },
      {
        ec2: client.ec2,
        leader: handLeader(true),
        providerId: () => `aws:///us-east-1a/${node(0).instanceId}`,
        healthy: () => true,
        checkMs: 60_000,
      },
    );
    started.push(runtime);
    // act + assess
    await expect(runtime.start?.()).rejects.toThrow(
      /VIP 10\.0\.200\.0\/24 overlaps VPC CIDR 10\.0\.0\.0\/16/,
    );
    expect(client.writes()).toBe(0);
    expect((await candidacies()).flat()).toEqual([]);
  });

  it('is not ready, and publishes nothing, until it knows its instance', async () => {
    const config = awsConfig({ routeTables: { ids: [vpc.tables[0]!] } }, {});
    const runtime = await createAwsMode(
      { config, logger: silentLogger(), metrics: createMetrics({ defaults: false }), trigger: () => {} },
      {
        ec2: client.ec2,
        leader: handLeader(true),
        providerId: () => undefined,
        healthy: () => true,
        checkMs: 60_000,
      },
    );
    started.push(runtime);
    await runtime.start?.();
    expect(runtime.notReady?.().join('; ')).toMatch(/no providerID/);
    expect(client.writes()).toBe(0);
  });

  it('without a health override, is a candidate only while its services pass their health check', async () => {
    // prepare: a real backend on loopback; the sidecar probes it (config health, as in bgp mode)
    const backend = createServer((socket) => socket.end());
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', () => r()));
    const port = (backend.address() as { port: number }).port;
    const config = awsConfig(
      { routeTables: { tags: { [MANAGED_TAG.key]: MANAGED_TAG.value } } },
      { NODE_NAME: 'node-0', HOST_IP: node(0).ip },
      {
        backend: { address: '127.0.0.1', port },
        health: { intervalSeconds: 0.1, timeoutSeconds: 0.1, rise: 1, fall: 1 },
      },
    );
    const runtime = await createAwsMode(
      { config, logger: silentLogger(), metrics: createMetrics({ defaults: false }), trigger: () => {} },
      {
        ec2: client.ec2,
        leader: handLeader(true),
        providerId: () => `aws:///us-east-1a/${node(0).instanceId}`,
        checkMs: 50,
      },
    );
    started.push(runtime);
    const state = async () =>
      (await candidacies()).flat().find((c) => c.instanceId === node(0).instanceId)?.state;
    // act
    await runtime.start?.();
    await expect.poll(state, { timeout: 10_000, interval: 100 }).toBe('ready');
    await new Promise<void>((r) => backend.close(() => r()));
    // assess
    await expect.poll(state, { timeout: 10_000, interval: 100 }).toBe('draining');
    expect(JSON.stringify(runtime.status?.())).toMatch(/"healthy":false/);
  });

  it('the composition root builds real clients from the config, counts EC2 calls, and publishes', async () => {
    // prepare
    const backend = createServer((socket) => socket.end());
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', () => r()));
    const port = (backend.address() as { port: number }).port;
    const config = awsConfig(
      {
        region: 'us-east-1',
        endpoint: moto.endpoint,
        routeTables: { tags: { [MANAGED_TAG.key]: MANAGED_TAG.value } },
      },
      { NODE_NAME: 'node-1', HOST_IP: node(1).ip },
      {
        backend: { address: '127.0.0.1', port },
        health: { intervalSeconds: 0.1, timeoutSeconds: 0.1, rise: 1, fall: 1 },
      },
    );
    const metrics = createMetrics({ defaults: false });
    // act
    const runtime = await createAwsModeFromConfig({
      config,
      logger: silentLogger(),
      metrics,
      trigger: () => {},
      providerId: `aws:///us-east-1a/${node(1).instanceId}`,
    });
    started.push(runtime);
    await runtime.start?.();
    const state = async () =>
      (await candidacies()).flat().find((c) => c.instanceId === node(1).instanceId)?.state;
    await expect.poll(state, { timeout: 10_000, interval: 100 }).toBe('ready');
    // assess
    const counted = await metrics.registry.getSingleMetricAsString('portlb_aws_api_calls_total');
    expect(counted).toMatch(/portlb_aws_api_calls_total\{action="CreateTags",outcome="ok"\} [1-9]/);
    expect(runtime.canWrite?.()).toBe(true); // no Lease configured: the sole writer, with a warning
    expect(runtime.status?.()).toMatchObject({ health: { healthy: true } }); // the services' health checks gate it
    backend.close();
  });
});
