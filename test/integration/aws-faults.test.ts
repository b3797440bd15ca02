import { CreateRouteCommand } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Change } from '../../src/core/model.js';
import { reasonText } from '../../src/core/reasons.js';
import { PermanentError, TransientError } from '../../src/errors.js';
import { Ec2PermanentError, Ec2TransientError } from '../../src/providers/aws/errors.js';
import { createEc2Provider } from '../../src/providers/aws/provider.js';
import { silentLogger } from '../../src/runtime/logger.js';
import { MANAGED_TAG, routeMap, type VpcFixture } from '../fixtures/aws/vpc.js';
import { type FaultRules, injectFaults } from './aws-fault-layer.js';
import {
  awsReconciler,
  type CountingClient,
  ec2Error,
  fixture,
  type Moto,
  motoClient,
  nowMs,
  publishCandidacy,
  startMoto,
} from './aws-helpers.js';

const VIP = '192.0.2.0/24';

/*
 * What moto cannot show, through the labelled fault-injecting layer (aws-fault-layer.ts) on a
 * moto-backed client: blackholes, RouteAlreadyExists, throttling, missing permissions.
 */
describe('EC2 provider: failures moto does not produce', () => {
  let moto: Moto;
  let client: CountingClient;
  let faults: FaultRules;
  let vpc: VpcFixture;

  beforeAll(async () => {
    moto = await startMoto();
    client = motoClient(moto);
    faults = injectFaults(client.ec2);
  });
  afterAll(async () => {
    await moto?.stop();
  });
  beforeEach(async () => {
    await moto.reset();
    faults.blackhole.clear();
    faults.fail.clear();
    faults.routeAlreadyExists = false;
    vpc = await fixture(client.ec2, { tables: 1, nodes: 2 });
    for (const n of vpc.nodes) await publishCandidacy(client.ec2, vpc, n, 'ready', nowMs());
    client.reset();
  });

  const table = () => vpc.tables[0]!;
  const enis = () => vpc.nodes.map((n) => n.eni).sort();

  function parts(ec2 = client.ec2) {
    const reconciler = awsReconciler(ec2, { tags: { [MANAGED_TAG.key]: MANAGED_TAG.value } }, [VIP], {
      services: [{ name: 'web', vip: VIP }],
    });
    const { source, registry } = reconciler;
    /** The registry's apply, after its own read: what one pass does, with the plan handed in. */
    const apply = async (changes: Change[]) =>
      registry.apply(changes, { observation: await registry.observe(), next: [] });
    return { source, registry, apply, reconciler };
  }

  async function routeTo(eni: string) {
    await client.ec2.send(
      new CreateRouteCommand({ RouteTableId: table(), DestinationCidrBlock: VIP, NetworkInterfaceId: eni }),
    );
  }

  it('repairs a blackhole route to our VIP by moving it to a healthy candidate', async () => {
    // prepare
    const [dead, alive] = enis();
    await routeTo(dead!);
    faults.blackhole.add(dead!);
    // act
    const outcome = await parts().reconciler.reconcile('test');
    // assess
    expect(outcome.applied).toEqual([
      expect.objectContaining({ kind: 'replace', from: dead, target: alive }),
    ]);
    expect(reasonText(outcome.applied[0]!.reason)).toMatch(/blackhole/);
    expect((await routeMap(client.ec2, table())).get(VIP)).toBe(alive);
  });

  it('on RouteAlreadyExists re-reads the table and finishes with the right target', async () => {
    // prepare: the provider observed no route; another writer creates one before our CreateRoute
    faults.routeAlreadyExists = true;
    const [lowest, other] = enis();
    const { source, registry } = parts();
    const observation = await registry.observe();
    const desired = await source.desired(observation);
    const observed = observation.routes;
    await routeTo(other!);
    client.reset();
    // act
    const results = await registry.apply(
      [{ kind: 'create', table: table(), vip: VIP, target: lowest!, reason: { code: 'no_route' } }],
      { observation, next: [] },
    );
    // assess
    expect(desired[0]?.candidates).toHaveLength(2);
    expect(observed).toEqual([]);
    expect(results[0]?.error).toBeUndefined();
    expect(
      client.calls.filter(
        (c) => c !== 'DescribeNetworkInterfaces' && c !== 'ModifyNetworkInterfaceAttribute',
      ),
    ).toEqual([
      'CreateTags', // the route's record, before the route
      'DescribeRouteTables', // the layer's own existence check for CreateRoute
      'DescribeRouteTables', // settle: re-read
      'ReplaceRoute',
    ]);
    expect((await routeMap(client.ec2, table())).get(VIP)).toBe(lowest);
  });

  it('on RouteAlreadyExists with the right target already there, writes nothing more', async () => {
    // prepare
    faults.routeAlreadyExists = true;
    const [lowest] = enis();
    const { registry } = parts();
    const observation = await registry.observe();
    await routeTo(lowest!);
    client.reset();
    // act
    const results = await registry.apply(
      [{ kind: 'create', table: table(), vip: VIP, target: lowest!, reason: { code: 'no_route' } }],
      { observation, next: [] },
    );
    // assess
    expect(results[0]?.error).toBeUndefined();
    expect(client.calls).not.toContain('ReplaceRoute');
  });

  it('falls back to CreateRoute when ReplaceRoute finds no route (moto answers InvalidParameterValue)', async () => {
    // prepare
    const [lowest] = enis();
    // The adapter itself: the registry would refuse to replace a route it did not observe.
    const provider = createEc2Provider({
      ec2: client.ec2,
      tables: { ids: [table()] },
      logger: silentLogger(),
    });
    const observation = await provider.observe();
    // act
    const results = await provider.apply(
      [
        {
          kind: 'replace',
          table: table(),
          vip: VIP,
          from: 'eni-00000000000000009',
          target: lowest!,
          reason: { code: 'unhealthy' },
        },
      ],
      { observation, next: [] },
    );
    // assess
    expect(results[0]?.error).toBeUndefined();
    expect(client.calls).toContain('CreateRoute');
    expect((await routeMap(client.ec2, table())).get(VIP)).toBe(lowest);
  });

  it('maps RequestLimitExceeded to a transient error the loop retries, and changes nothing', async () => {
    // prepare
    const [dead] = enis();
    await routeTo(dead!);
    faults.blackhole.add(dead!);
    faults.fail.set('ReplaceRoute', {
      error: ec2Error('RequestLimitExceeded', 'Request limit exceeded.', 503),
      times: Number.POSITIVE_INFINITY,
    });
    // act
    const run = parts().reconciler.reconcile('test');
    // assess
    await expect(run).rejects.toBeInstanceOf(TransientError);
    const error = await run.catch((e: unknown) => e);
    expect((error as Error).cause).toBeInstanceOf(Ec2TransientError);
    expect(((error as Error).cause as Ec2TransientError).code).toBe('RequestLimitExceeded');
    expect((await routeMap(client.ec2, table())).get(VIP)).toBe(dead);
  });

  it('rides out a short burst of throttling through the SDK retry the composition roots configure', async () => {
    // prepare: a client with the SDK's standard retry, faults injected inside that retry
    const retrying = motoClient(moto, { maxAttempts: 3 });
    const retryFaults = injectFaults(retrying.ec2, 'insideRetry');
    retryFaults.fail.set('CreateRoute', {
      error: ec2Error('RequestLimitExceeded', 'Request limit exceeded.', 503),
      times: 2,
    });
    const { apply } = parts(retrying.ec2);
    // act
    const results = await apply([
      { kind: 'create', table: table(), vip: VIP, target: enis()[0]!, reason: { code: 'no_route' } },
    ]);
    // assess
    expect(results[0]?.error).toBeUndefined();
    expect(retryFaults.seen.filter((a) => a === 'CreateRoute')).toHaveLength(3);
    expect((await routeMap(client.ec2, table())).get(VIP)).toBe(enis()[0]);
  });

  it('names the denied action on UnauthorizedOperation, fails permanently, and leaves the route', async () => {
    // prepare
    const [dead] = enis();
    await routeTo(dead!);
    faults.blackhole.add(dead!);
    faults.fail.set('ReplaceRoute', {
      error: ec2Error('UnauthorizedOperation', 'You are not authorized to perform this operation.', 403),
      times: Number.POSITIVE_INFINITY,
    });
    // act
    const run = parts().reconciler.reconcile('test');
    // assess
    await expect(run).rejects.toBeInstanceOf(PermanentError);
    await expect(run).rejects.toThrow(
      /ec2:ReplaceRoute .*not permitted \(UnauthorizedOperation\): grant ec2:ReplaceRoute/,
    );
    const error = await run.catch((e: unknown) => e);
    expect((error as Error).cause).toBeInstanceOf(Ec2PermanentError);
    expect((await routeMap(client.ec2, table())).get(VIP)).toBe(dead);
  });

  it('names DescribeRouteTables when reading is denied', async () => {
    faults.fail.set('DescribeRouteTables', {
      error: ec2Error('UnauthorizedOperation', 'You are not authorized to perform this operation.', 403),
      times: 1,
    });
    await expect(parts().reconciler.reconcile('test')).rejects.toThrow(/grant ec2:DescribeRouteTables/);
  });
});
