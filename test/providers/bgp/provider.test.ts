import { describe, expect, it } from 'vitest';
import type { DesiredRoute } from '../../../src/core/model.js';
import { plan } from '../../../src/core/plan.js';
import { createBgpProvider } from '../../../src/providers/bgp/provider.js';
import { fakeExabgp } from './helpers.js';

const desired = (healthy: boolean): DesiredRoute[] => [
  {
    vip: '10.1.1.0/24',
    service: 'web',
    candidates: [{ target: '10.99.0.11', healthy, ...(!healthy && { reason: 'health gate: probe failed' }) }],
  },
];

async function reconcile(provider: ReturnType<typeof createBgpProvider>, want: DesiredRoute[]) {
  const tables = await provider.tables();
  const result = plan(want, await provider.observe(tables), {
    owner: 'lab',
    tables,
    cardinality: provider.cardinality,
  });
  return provider.apply(result.changes);
}

describe('bgp provider', () => {
  it('announces a healthy VIP, reports it as owned and observed, and withdraws it when unhealthy', async () => {
    // prepare
    const { speaker, writer, lines, metric } = fakeExabgp({ autoAck: true });
    speaker.attach(writer);
    const provider = createBgpProvider({ speaker, owner: 'lab' });
    // act + assess
    expect((await reconcile(provider, desired(true))).map((r) => r.error)).toEqual([undefined]);
    expect(await provider.observe(['bgp'])).toEqual([
      { table: 'bgp', vip: '10.1.1.0/24', target: '10.99.0.11', owner: 'lab', state: 'active' },
    ]);
    expect(await reconcile(provider, desired(true))).toEqual([]);
    await reconcile(provider, desired(false));
    expect(lines).toEqual([
      'announce route 10.1.1.0/24 next-hop 10.99.0.11',
      'withdraw route 10.1.1.0/24 next-hop 10.99.0.11',
    ]);
    expect(await provider.observe(['bgp'])).toEqual([]);
    expect(await metric('portlb_bgp_decisions_total')).toEqual([
      'portlb_bgp_decisions_total{action="announce",cause="healthy"} 1',
      'portlb_bgp_decisions_total{action="withdraw",cause="unhealthy"} 1',
    ]);
  });

  it('returns a per-change error while exabgp is away', async () => {
    const { speaker } = fakeExabgp();
    const provider = createBgpProvider({ speaker, owner: 'lab' });
    const [result] = await reconcile(provider, desired(true));
    expect(String(result?.error)).toMatch(/exabgp is not connected/);
  });

  it('refuses changes for a table it does not have', async () => {
    const { speaker } = fakeExabgp();
    const provider = createBgpProvider({ speaker, owner: 'lab' });
    const [result] = await provider.apply([
      { kind: 'create', table: 'rtb-1', vip: '10.1.1.0/24', target: 'x', reason: 'r' },
    ]);
    expect(String(result?.error)).toMatch(/no table rtb-1/);
    expect(await provider.observe(['rtb-1'])).toEqual([]);
  });
});
