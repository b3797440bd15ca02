import { describe, expect, it } from 'vitest';
import type { DesiredRoute } from '../../../src/core/model.js';
import { afterChanges, plan } from '../../../src/core/plan.js';
import { bgpMode } from '../../../src/modes/bgp/index.js';
import { createBgpProvider } from '../../../src/providers/bgp/provider.js';
import { ownEverything } from '../../../src/registry/simple.js';
import { fakeExabgp } from './helpers.js';

const desired = (healthy: boolean): DesiredRoute[] => [
  {
    vip: '10.1.1.0/24',
    service: 'web',
    candidates: [{ target: '10.99.0.11', healthy, ...(!healthy && { reason: 'health gate: probe failed' }) }],
  },
];

const A = { vip: '10.1.1.0/24', nextHop: '10.99.0.11' };
const B = { vip: '10.1.2.0/24', nextHop: '10.99.0.11' };
const both = (a: boolean, b: boolean): DesiredRoute[] =>
  [
    { route: A, service: 'a', healthy: a },
    { route: B, service: 'b', healthy: b },
  ].map(({ route, service, healthy }) => ({
    vip: route.vip,
    service,
    candidates: [
      { target: route.nextHop, healthy, ...(!healthy && { reason: 'health gate: probe failed' }) },
    ],
  }));

/** One pass as the controller runs it: observe through the registry, plan, apply. */
async function reconcile(provider: ReturnType<typeof createBgpProvider>, want: DesiredRoute[]) {
  const registry = ownEverything(provider, 'lab');
  const observation = await registry.observe();
  const result = plan(want, observation.routes, {
    owner: 'lab',
    tables: observation.tables,
    cardinality: bgpMode.cardinality,
  });
  return registry.apply(result.changes, {
    observation,
    next: afterChanges(observation.routes, result.changes, 'lab'),
  });
}

const observe = async (provider: ReturnType<typeof createBgpProvider>) =>
  (await ownEverything(provider, 'lab').observe()).routes;

describe('bgp provider', () => {
  it('announces a healthy VIP, reports it as owned and observed, and withdraws it when unhealthy', async () => {
    // prepare
    const { speaker, writer, lines, metric } = fakeExabgp({ autoAck: true });
    speaker.attach(writer);
    const provider = createBgpProvider({ speaker });
    // act + assess
    expect((await reconcile(provider, desired(true))).map((r) => r.error)).toEqual([undefined]);
    expect(await observe(provider)).toEqual([
      { table: 'bgp', vip: '10.1.1.0/24', target: '10.99.0.11', owner: 'lab', state: 'active' },
    ]);
    expect(await reconcile(provider, desired(true))).toEqual([]);
    await reconcile(provider, desired(false));
    expect(lines).toEqual([
      'announce route 10.1.1.0/24 next-hop 10.99.0.11',
      'withdraw route 10.1.1.0/24 next-hop 10.99.0.11',
    ]);
    expect(await observe(provider)).toEqual([]);
    expect(await metric('portlb_bgp_decisions_total')).toEqual([
      'portlb_bgp_decisions_total{action="announce",cause="healthy"} 1',
      'portlb_bgp_decisions_total{action="withdraw",cause="unhealthy"} 1',
    ]);
  });

  it('returns a per-change error while exabgp is away', async () => {
    const { speaker } = fakeExabgp();
    const provider = createBgpProvider({ speaker });
    const [result] = await reconcile(provider, desired(true));
    expect(String(result?.error)).toMatch(/exabgp is not connected/);
  });

  it('fails a create while exabgp is away once, not on every run, and announces it on connect', async () => {
    // prepare
    const { speaker, writer, lines } = fakeExabgp({ autoAck: true });
    const provider = createBgpProvider({ speaker });
    // act
    const first = await reconcile(provider, desired(true));
    const second = await reconcile(provider, desired(true));
    speaker.attach(writer);
    // assess
    expect(String(first[0]?.error)).toMatch(/exabgp is not connected/);
    expect(second).toEqual([]);
    expect(lines).toEqual(['announce route 10.1.1.0/24 next-hop 10.99.0.11']);
  });

  it('tells a reconnecting exabgp only the current set: a VIP that failed while it was away is not re-announced', async () => {
    // prepare: A and B announced and acknowledged, then exabgp goes away
    const { speaker, writer, lines, metric } = fakeExabgp({ autoAck: true });
    const provider = createBgpProvider({ speaker });
    speaker.attach(writer);
    expect(await reconcile(provider, both(true, true))).toHaveLength(2);
    expect(speaker.announced()).toHaveLength(2);
    speaker.detach(writer, 'exabgp exited');
    lines.length = 0;
    // act: B's health check fails while exabgp is away, then exabgp comes back
    const whileAway = await reconcile(provider, both(true, false));
    const observedAway = await observe(provider);
    speaker.attach(writer);
    await Promise.resolve();
    const afterReconnect = await reconcile(provider, both(true, false));
    // assess
    expect(lines).toEqual([`announce route ${A.vip} next-hop ${A.nextHop}`]);
    expect(whileAway).toEqual([
      {
        change: expect.objectContaining({
          kind: 'delete',
          vip: B.vip,
          reason: expect.objectContaining({ code: 'unhealthy' }),
        }),
      },
    ]);
    expect(observedAway.map((r) => r.vip)).toEqual([A.vip]);
    expect(afterReconnect).toEqual([]);
    expect(speaker.announced()).toEqual([A]);
    expect(await metric('portlb_bgp_decisions_total')).toEqual([
      'portlb_bgp_decisions_total{action="announce",cause="healthy"} 2',
      'portlb_bgp_decisions_total{action="announce",cause="exabgp_start"} 1',
    ]);
  });

  it('refuses changes for a table it does not have', async () => {
    const { speaker } = fakeExabgp();
    const provider = createBgpProvider({ speaker });
    const observation = await provider.observe();
    const [result] = await provider.apply(
      [{ kind: 'create', table: 'rtb-1', vip: '10.1.1.0/24', target: 'x', reason: { code: 'healthy' } }],
      { observation, next: [] },
    );
    expect(String(result?.error)).toMatch(/no table rtb-1/);
    expect((await provider.observe()).routes.filter((r) => r.table === 'rtb-1')).toEqual([]);
  });
});
