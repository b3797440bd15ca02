import { describe, expect, it } from 'vitest';
import { prefix } from '../../src/core/cidr.js';
import { hostAddresses } from '../../src/render/gobgp-policy.js';
import { lbPolicy } from '../../src/render/policy.js';
import { dualStackConfig, topologyConfig, withBgp } from './golden.js';

describe('LB policy', () => {
  it.each([
    ['10.99.0.0/30', 10, ['10.99.0.1', '10.99.0.2']],
    ['10.99.0.4/31', 10, ['10.99.0.4', '10.99.0.5']],
    ['10.99.0.7/32', 10, ['10.99.0.7']],
    ['2001:db8::/126', 10, ['2001:db8::1', '2001:db8::2', '2001:db8::3']],
    ['10.99.0.0/24', 253, undefined],
    ['10.99.0.0/24', 254, expect.arrayContaining(['10.99.0.1', '10.99.0.254'])],
  ])('hostAddresses(%s, limit %d)', (range, limit, want) => {
    expect(hostAddresses(prefix(range), limit)).toEqual(want);
  });

  it('accepts pools, any length inside them, with next hops from the node range', async () => {
    const policy = lbPolicy(await topologyConfig(), 'rr');
    expect(policy.families).toEqual([
      {
        family: 4,
        accept: [{ prefix: prefix('10.1.0.0/16'), maxLength: 32 }],
        nextHops: [prefix('10.99.0.0/24')],
      },
    ]);
    expect(policy.listenRanges.map((r) => r.text)).toEqual(['10.99.0.0/24', '10.244.0.0/16']);
    expect(policy.maxPrefixes).toBe(100);
  });

  it('with vipsOnly accepts each VIP exactly, per family', async () => {
    const policy = lbPolicy(await dualStackConfig(), 'rr');
    expect(
      policy.families.map((f) => [f.family, f.accept.map((a) => `${a.prefix.text}..${a.maxLength}`)]),
    ).toEqual([
      [4, ['10.1.1.0/24..24']],
      [6, ['2001:db8:1:1::/64..64']],
    ]);
    expect(policy.listenRanges.map((r) => r.text)).toEqual(['10.244.0.0/16']);
  });

  it('names the network it needs when the next hops would have nowhere to be', async () => {
    const config = withBgp(await topologyConfig(), { nextHop: 'pod' });
    const noPods = { ...config, clusterNetworks: { ...config.clusterNetworks, pods: [] } };
    expect(() => lbPolicy(noPods, 'router')).toThrow(/needs an IPv4 range in clusterNetworks.pods/);
  });
});
