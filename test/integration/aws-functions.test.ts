import { execFileSync, fork } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import {
  CreateRouteCommand,
  DescribeNetworkInterfacesCommand,
  DescribeRouteTablesCommand,
  ModifyNetworkInterfaceAttributeCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { CreateEventBusCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { HandlerResult } from '../../functions/aws/handler.js';
import { reasonText } from '../../src/core/reasons.js';
import {
  LIFECYCLE_DETAIL_TYPE,
  LIFECYCLE_SOURCE,
  type LifecycleDetail,
} from '../../src/publishers/aws/lifecycle-event.js';
import { decodeRecords } from '../../src/registry/aws/records.js';
import { candidateTagKey, podId } from '../../src/sources/aws/candidacy.js';
import { startCountingProxy } from '../fixtures/aws/counting-proxy.js';
import { motoClientConfig } from '../fixtures/aws/moto.js';
import { MANAGED_TAG, routeMap, type VpcFixture } from '../fixtures/aws/vpc.js';
import {
  type CountingClient,
  fixture,
  lbPod,
  type Moto,
  motoClient,
  nowMs,
  publishCandidacy,
  startMoto,
} from './aws-helpers.js';

type Handler = (event: unknown) => Promise<HandlerResult>;

const VIPS = ['192.0.2.0/24', '198.51.100.16/28'];
const root = resolve(import.meta.dirname, '../..');

/** The envelope EventBridge delivers (AWS docs: State change events for Amazon EC2 instances, etc.). */
function envelope(source: string, detailType: string, detail: unknown, resources: string[] = []) {
  return {
    version: '0',
    id: crypto.randomUUID(),
    'detail-type': detailType,
    source,
    account: '123456789012',
    time: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    region: 'us-east-1',
    resources,
    detail,
  };
}
const stateChange = (instanceId: string, state: string) =>
  envelope('aws.ec2', 'EC2 Instance State-change Notification', { 'instance-id': instanceId, state }, [
    `arn:aws:ec2:us-east-1:123456789012:instance/${instanceId}`,
  ]);
const spotWarning = (instanceId: string) =>
  envelope(
    'aws.ec2',
    'EC2 Spot Instance Interruption Warning',
    { 'instance-id': instanceId, 'instance-action': 'terminate' },
    [`arn:aws:ec2:us-east-1b:instance/${instanceId}`],
  );
const scheduled = () =>
  envelope('aws.events', 'Scheduled Event', {}, ['arn:aws:events:us-east-1:123456789012:rule/portlb-sweep']);
const lifecycle = (detail: LifecycleDetail) => envelope(LIFECYCLE_SOURCE, LIFECYCLE_DETAIL_TYPE, detail);

interface LambdaProcess {
  readonly invoke: Handler;
  /** What the function logged (pino JSON lines on stderr). */
  readonly logs: string[];
  stop(): void;
}

const running: LambdaProcess[] = [];

/**
 * Starts a handler from the built bundle in its own Node process with this environment: what Lambda
 * does on a cold start. Outside the test runner on purpose, so the bundle runs exactly as built.
 */
async function startLambda(name: string, env: Record<string, string | undefined>): Promise<LambdaProcess> {
  const bundle = resolve(root, 'dist/functions/aws', `${name}.mjs`);
  const child = fork(resolve(import.meta.dirname, 'aws-lambda-host.mjs'), [bundle], {
    env: Object.fromEntries(Object.entries({ ...process.env, ...env }).filter(([, v]) => v !== undefined)),
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  const logs: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => logs.push(...chunk.toString().split('\n').filter(Boolean)));
  const pending = new Map<string, { resolve: (r: HandlerResult) => void; reject: (e: Error) => void }>();
  await new Promise<void>((ready, fail) => {
    child.once('exit', (code) => fail(new Error(`${name} exited (${code}): ${logs.join('\n')}`)));
    child.on('message', (raw) => {
      const message = raw as {
        ready?: boolean;
        id?: string;
        result?: HandlerResult;
        error?: { name: string; message: string };
      };
      if (message.ready) return ready();
      const waiter = message.id ? pending.get(message.id) : undefined;
      if (waiter === undefined || message.id === undefined) return;
      pending.delete(message.id);
      if (message.error)
        waiter.reject(Object.assign(new Error(message.error.message), { name: message.error.name }));
      else waiter.resolve(message.result as HandlerResult);
    });
  });
  const lambda: LambdaProcess = {
    logs,
    invoke: (event) =>
      new Promise((resolveResult, reject) => {
        const id = crypto.randomUUID();
        pending.set(id, { resolve: resolveResult, reject });
        child.send({ id, event });
      }),
    stop: () => {
      if (child.exitCode === null && !child.killed) child.kill('SIGTERM');
    },
  };
  running.push(lambda);
  return lambda;
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('Lambda handlers from the built bundle, against moto', () => {
  let moto: Moto;
  let client: CountingClient;
  let vpc: VpcFixture;
  let env: Record<string, string>;
  let instanceEvent: Handler;
  let sweep: Handler;
  let lifecycleHandler: Handler;
  let instanceEventLogs: string[];

  beforeAll(async () => {
    execFileSync(process.execPath, [resolve(root, 'scripts/build-functions.mjs')], { stdio: 'pipe' });
    moto = await startMoto();
    client = motoClient(moto);
    env = {
      AWS_REGION: 'us-east-1',
      PORTLB_EC2_ENDPOINT: moto.endpoint,
      PORTLB_VIPS: VIPS.join(','),
      PORTLB_ROUTE_TABLE_TAGS: `${MANAGED_TAG.key}=${MANAGED_TAG.value}`,
      PORTLB_EC2_MAX_ATTEMPTS: '1',
      PORTLB_LOG_LEVEL: 'info',
    };
    const [a, b, c] = await Promise.all([
      startLambda('instance-event', env),
      startLambda('sweep', env),
      startLambda('lifecycle', env),
    ]);
    instanceEventLogs = a.logs;
    instanceEvent = a.invoke;
    sweep = b.invoke;
    lifecycleHandler = c.invoke;
  });
  afterAll(async () => {
    for (const lambda of running) lambda.stop();
    await moto?.stop();
  });

  /** Three LB nodes, ready, SourceDestCheck off; every VIP routed to the first (lowest ENI) in both tables. */
  beforeEach(async () => {
    instanceEventLogs.length = 0;
    await moto.reset();
    vpc = await fixture(client.ec2, { tables: 2, nodes: 3 });
    vpc = { ...vpc, nodes: [...vpc.nodes].sort((a, b) => (a.eni < b.eni ? -1 : 1)) };
    for (const n of vpc.nodes) {
      await client.ec2.send(
        new ModifyNetworkInterfaceAttributeCommand({
          NetworkInterfaceId: n.eni,
          SourceDestCheck: { Value: false },
        }),
      );
      await publishCandidacy(client.ec2, vpc, n, 'ready', nowMs() - 10_000);
    }
    for (const table of vpc.tables) {
      for (const vip of VIPS) {
        await client.ec2.send(
          new CreateRouteCommand({
            RouteTableId: table,
            DestinationCidrBlock: vip,
            NetworkInterfaceId: node(0).eni,
          }),
        );
      }
    }
  });

  const node = (i: number) => vpc.nodes[i]!;
  async function targets(): Promise<string[]> {
    const out: string[] = [];
    for (const table of vpc.tables) {
      const routes = await routeMap(client.ec2, table);
      for (const vip of VIPS) out.push(routes.get(vip) ?? '(none)');
    }
    return out;
  }
  const all = (eni: string) => Array(VIPS.length * 2).fill(eni);

  it('moves every route off a terminated instance at once; a duplicate delivery changes nothing', async () => {
    // prepare
    const event = stateChange(node(0).instanceId, 'terminated');
    // act
    const first = await instanceEvent(event);
    const second = await instanceEvent(event);
    // assess
    expect(first).toMatchObject({ status: 'changed' });
    expect('applied' in first && first.applied).toHaveLength(4);
    expect(await targets()).toEqual(all(node(1).eni));
    expect(second).toMatchObject({ status: 'noop' });
    expect(await targets()).toEqual(all(node(1).eni));
  });

  it('moves routes on a spot interruption warning, two minutes ahead', async () => {
    const result = await instanceEvent(spotWarning(node(0).instanceId));
    expect(result).toMatchObject({ status: 'changed', reason: expect.stringMatching(/will terminate/) });
    expect(await targets()).toEqual(all(node(1).eni));
  });

  it('cannot move routes off a dying instance with no healthy LB left: says so in a warning, a metric and an event', async () => {
    // prepare: the other LBs drain; the function announces on a bus, through a counting proxy
    for (const n of vpc.nodes.slice(1)) await publishCandidacy(client.ec2, vpc, n, 'draining', nowMs());
    await new EventBridgeClient({ ...motoClientConfig(moto.endpoint) }).send(
      new CreateEventBusCommand({ Name: 'portlb-stuck-test' }),
    );
    const proxy = await startCountingProxy(moto.endpoint);
    const announcing = await startLambda('instance-event', {
      ...env,
      PORTLB_EVENT_BUS: 'portlb-stuck-test',
      PORTLB_EVENTS_ENDPOINT: proxy.endpoint,
    });
    try {
      // act
      const result = await announcing.invoke(stateChange(node(0).instanceId, 'stopping'));
      // assess: nothing moved, and every route left behind is named
      expect(result).toMatchObject({ status: 'unchanged' });
      expect('stuck' in result && result.stuck?.map((s) => `${s.table} ${s.vip} ${s.target}`).sort()).toEqual(
        vpc.tables.flatMap((t) => VIPS.map((vip) => `${t} ${vip} ${node(0).eni}`)).sort(),
      );
      expect(await targets()).toEqual(all(node(0).eni));
      const warning = announcing.logs
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .find((l) => l.event === 'routes_stuck');
      expect(warning).toMatchObject({ level: 'warn', vips: [...VIPS].sort(), RoutesStuck: 4 });
      expect(JSON.stringify(warning?._aws)).toContain('"Name":"RoutesStuck"');
      const [put] = proxy
        .bodies('PutEvents')
        .map((b) => JSON.parse(b) as { Entries: Record<string, string>[] });
      expect(put?.Entries[0]).toMatchObject({
        EventBusName: 'portlb-stuck-test',
        Source: 'portlb.functions',
        DetailType: 'portlb Route Stuck',
      });
      expect(JSON.parse(put?.Entries[0]?.Detail ?? '{}')).toMatchObject({ instanceId: node(0).instanceId });
    } finally {
      announcing.stop();
      await proxy.close();
    }
  });

  it('does not pick a candidate whose instance is itself gone', async () => {
    // prepare: node 1 terminated too, its candidacy still says ready
    await client.ec2.send(new TerminateInstancesCommand({ InstanceIds: [node(1).instanceId] }));
    // act
    await instanceEvent(stateChange(node(0).instanceId, 'stopping'));
    // assess
    expect(await targets()).toEqual(all(node(2).eni));
  });

  it.each([
    ['an instance portlb never used', () => stateChange('i-0123456789abcdef0', 'terminated'), 'noop'],
    [
      'a stopping LB node that carries no route',
      () => stateChange(vpc.nodes[2]!.instanceId, 'stopping'),
      'noop',
    ],
    ['a running instance', () => stateChange(vpc.nodes[0]!.instanceId, 'running'), 'ignored'],
    [
      'a detail without instance-id',
      () => envelope('aws.ec2', 'EC2 Instance State-change Notification', { state: 'stopped' }),
      'ignored',
    ],
    ['an unknown state', () => stateChange(vpc.nodes[0]!.instanceId, 'exploded'), 'ignored'],
    [
      'an unknown detail-type',
      () => envelope('aws.ec2', 'EC2 Instance Rebalance Recommendation', {}),
      'ignored',
    ],
    ['not an event at all', () => 'hello', 'ignored'],
    ['null', () => null, 'ignored'],
    ['a scheduled event sent to the wrong function', () => scheduled(), 'ignored'],
  ])('%s: logged, nothing written', async (_name, event, status) => {
    // act
    const result = await instanceEvent(event());
    // assess
    expect(result.status).toBe(status);
    expect(instanceEventLogs.at(-1)).toMatch(
      new RegExp(`"event":"${status === 'noop' ? 'done' : 'ignored'}"`),
    );
    expect(await targets()).toEqual(all(node(0).eni));
  });

  it('sweep: repairs drift and missing routes, and removes candidacies of terminated nodes', async () => {
    // prepare: a route drifted to a non-candidate ENI, one route missing, node 2 terminated
    const table = vpc.tables[1]!;
    await client.ec2.send(
      new CreateRouteCommand({
        RouteTableId: table,
        DestinationCidrBlock: VIPS[0],
        NetworkInterfaceId: node(0).eni,
      }),
    );
    const { DeleteRouteCommand } = await import('@aws-sdk/client-ec2');
    await client.ec2.send(new DeleteRouteCommand({ RouteTableId: table, DestinationCidrBlock: VIPS[1] }));
    await client.ec2.send(new TerminateInstancesCommand({ InstanceIds: [node(2).instanceId] }));
    await publishCandidacy(client.ec2, vpc, node(0), 'draining', nowMs());
    // act
    const result = await sweep(scheduled());
    const again = await sweep(scheduled());
    // assess
    expect(result).toMatchObject({
      status: 'changed',
      cleaned: [candidateTagKey('portlb', node(2).instanceId, podId(lbPod(node(2).instanceId)))],
    });
    expect(await targets()).toEqual(all(node(1).eni));
    const tags = await client.ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: [table] }));
    expect(tags.RouteTables?.[0]?.Tags?.map((t) => t.Key)).not.toContain(
      candidateTagKey('portlb', node(2).instanceId, podId(lbPod(node(2).instanceId))),
    );
    expect(again).toMatchObject({ status: 'unchanged', cleaned: [] });
  });

  it('sweep: records the routes it finds, then deletes the route and record of a VIP taken out of PORTLB_VIPS', async () => {
    // prepare: the routes from beforeEach carry no record yet; an unrecorded route to another VIP
    const [kept, retired] = VIPS as [string, string];
    await client.ec2.send(
      new CreateRouteCommand({
        RouteTableId: vpc.tables[0]!,
        DestinationCidrBlock: '203.0.113.0/24',
        NetworkInterfaceId: node(2).eni,
      }),
    );
    const recorded = async () => {
      const read = await client.ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: [...vpc.tables] }));
      return (read.RouteTables ?? []).map((t) =>
        [
          ...decodeRecords(Object.fromEntries((t.Tags ?? []).map((g) => [g.Key, g.Value])), 'portlb').vips,
        ].sort(),
      );
    };
    const { invoke: narrowed, logs } = await startLambda('sweep', { ...env, PORTLB_VIPS: kept });
    // act
    const adopt = await sweep(scheduled());
    const before = await recorded();
    const result = await narrowed(scheduled());
    const again = await narrowed(scheduled());
    // assess
    expect(adopt).toMatchObject({ status: 'unchanged' });
    expect(before).toEqual([VIPS, VIPS].map((v) => [...v].sort()));
    expect(result).toMatchObject({ status: 'changed' });
    expect('applied' in result && result.applied.map((c) => [c.kind, c.vip, reasonText(c.reason)])).toEqual(
      vpc.tables.map(() => ['delete', retired, 'VIP no longer configured']),
    );
    expect(logs.join('\n')).toMatch(/"event":"delete".*"reason":"VIP no longer configured"/);
    for (const table of vpc.tables) {
      const routes = await routeMap(client.ec2, table);
      expect(routes.has(retired)).toBe(false);
      expect(routes.get(kept)).toBe(node(0).eni);
    }
    expect((await routeMap(client.ec2, vpc.tables[0]!)).get('203.0.113.0/24')).toBe(node(2).eni);
    expect(await recorded()).toEqual([[kept], [kept]]);
    expect(again).toMatchObject({ status: 'unchanged' });
  });

  it('lifecycle: a ready report is recorded (SourceDestCheck off first); a draining one moves routes; replays change nothing', async () => {
    // prepare
    await client.ec2.send(
      new ModifyNetworkInterfaceAttributeCommand({
        NetworkInterfaceId: node(2).eni,
        SourceDestCheck: { Value: true },
      }),
    );
    const base = { version: 1 as const, owner: 'portlb', node: 'node-c' };
    const ready = lifecycle({
      ...base,
      pod: 'portlb/lb-new',
      instanceId: node(2).instanceId,
      state: 'ready',
      at: nowMs(),
    });
    const draining = lifecycle({
      ...base,
      node: 'node-a',
      pod: lbPod(node(0).instanceId),
      instanceId: node(0).instanceId,
      state: 'draining',
      at: nowMs(),
    });
    const stale = lifecycle({
      ...base,
      node: 'node-a',
      pod: lbPod(node(0).instanceId),
      instanceId: node(0).instanceId,
      state: 'ready',
      at: nowMs() - 5_000,
    });
    // act
    const r1 = await lifecycleHandler(ready);
    const eni = await client.ec2.send(
      new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [node(2).eni] }),
    );
    const r2 = await lifecycleHandler(draining);
    const r3 = await lifecycleHandler(draining);
    const r4 = await lifecycleHandler(stale);
    // assess
    expect(r1).toMatchObject({ status: 'unchanged', candidacy: { written: [...vpc.tables].sort() } });
    expect(eni.NetworkInterfaces?.[0]?.SourceDestCheck).toBe(false);
    expect(r2).toMatchObject({ status: 'changed' });
    expect(await targets()).toEqual(all(node(1).eni));
    expect(r3).toMatchObject({ status: 'unchanged', candidacy: { written: [] } });
    expect(r4).toMatchObject({ status: 'unchanged', candidacy: { written: [] } });
    expect(await targets()).toEqual(all(node(1).eni));
  });

  it("lifecycle: gone removes the pod's candidacy from every table; and moves nothing while another LB serves", async () => {
    // prepare
    const pod = lbPod(node(2).instanceId);
    const base = {
      version: 1 as const,
      owner: 'portlb',
      node: 'node-c',
      pod,
      instanceId: node(2).instanceId,
    };
    const at = nowMs();
    const key = candidateTagKey('portlb', node(2).instanceId, podId(pod));
    // act
    const gone = await lifecycleHandler(lifecycle({ ...base, state: 'gone', at }));
    const tags = await client.ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: [...vpc.tables] }));
    // assess
    expect(gone).toMatchObject({
      candidacy: { written: [...vpc.tables].sort(), reason: expect.stringMatching(/removed/) },
    });
    for (const table of tags.RouteTables ?? []) expect(table.Tags?.map((t) => t.Key)).not.toContain(key);
    expect(await targets()).toEqual(all(node(0).eni));
  });

  it('lifecycle: refuses an ENI that is not on the named instance, and writes nothing', async () => {
    const event = lifecycle({
      version: 1,
      owner: 'portlb',
      node: 'liar',
      pod: 'portlb/liar',
      instanceId: node(1).instanceId,
      eni: node(0).eni,
      state: 'ready',
      at: nowMs(),
    });
    const result = await lifecycleHandler(event);
    expect(result).toMatchObject({ status: 'failed', reason: expect.stringMatching(/is not attached to/) });
    expect(await targets()).toEqual(all(node(0).eni));
  });

  it('lifecycle: an event for another owner is a no-op', async () => {
    const event = lifecycle({
      version: 1,
      owner: 'other',
      node: 'x',
      pod: 'other/x',
      instanceId: node(0).instanceId,
      state: 'gone',
      at: nowMs(),
    });
    expect(await lifecycleHandler(event)).toMatchObject({ status: 'noop' });
    expect(await targets()).toEqual(all(node(0).eni));
  });

  it('rethrows a transient failure (EC2 unreachable) so EventBridge retries', async () => {
    const { invoke: handler } = await startLambda('instance-event', {
      ...env,
      PORTLB_EC2_ENDPOINT: `http://127.0.0.1:${await closedPort()}`,
    });
    await expect(handler(stateChange(node(0).instanceId, 'terminated'))).rejects.toMatchObject({
      name: 'Ec2TransientError',
    });
  });

  it('logs and returns a permanent failure (unknown route table), writing nothing', async () => {
    const { invoke: handler } = await startLambda('sweep', {
      ...env,
      PORTLB_ROUTE_TABLE_TAGS: undefined,
      PORTLB_ROUTE_TABLE_IDS: 'rtb-0123456789abcdef0',
    });
    const result = await handler(scheduled());
    expect(result).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/unknown route table.*rtb-0123456789abcdef0/),
    });
    expect(await targets()).toEqual(all(node(0).eni));
  });

  it('refuses a VIP inside the VPC CIDR with a clear error, writing nothing', async () => {
    const { invoke: handler } = await startLambda('sweep', { ...env, PORTLB_VIPS: '10.0.5.0/24' });
    const result = await handler(scheduled());
    expect(result).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/VIP 10\.0\.5\.0\/24 overlaps VPC CIDR 10\.0\.0\.0\/16/),
    });
  });

  it('reports a broken environment on every invocation instead of crashing the cold start', async () => {
    const { invoke: handler } = await startLambda('sweep', { ...env, PORTLB_VIPS: '10.1.1.5/24' });
    const result = await handler(scheduled());
    expect(result).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/env\.PORTLB_VIPS.*host bits/),
    });
  });
});
