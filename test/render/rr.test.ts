import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/load.js';
import { renderers } from '../../src/render/index.js';
import { renderRrConfig } from '../../src/render/rr.js';
import { dualStackConfig, expectGolden, fakeSecret, topologyConfig, withBgp } from './golden.js';

function withPasswords(config: Config, lbSide = true, routerSide = true): Config {
  const bgp = config.bgp!;
  const router = bgp.topology!.router;
  return withBgp(config, {
    peers: bgp.peers.map((p) => (lbSide ? { ...p, passwordFile: `/etc/portlb/${p.address}` } : p)),
    topology: {
      ...bgp.topology!,
      router: routerSide ? { ...router, passwordFile: '/etc/portlb/router' } : router,
    },
  });
}

const withBfd = (config: Config, singleHop: string[] = []) =>
  withBgp(config, { bfd: { intervalMs: 300, multiplier: 3, singleHop } });

describe('render rr', () => {
  it.each([
    ['gobgp', '10.99.0.2', 'rr-gobgp.toml'],
    ['frr', '10.99.0.3', 'rr-frr.conf'],
  ])(
    'renders the %s route reflector %s with the LB filter and a prefix limit',
    async (flavor, routerId, golden) => {
      const text = renderRrConfig(await topologyConfig(), { flavor, routerId });
      expectGolden(golden, text);
    },
  );

  it.each([
    ['frr', 'rr-frr-md5.conf'],
    ['gobgp', 'rr-gobgp-md5.toml'],
  ])('adds TCP-MD5 to both sides of a %s route reflector', async (flavor, golden) => {
    const text = renderRrConfig(
      withPasswords(await topologyConfig()),
      { flavor, routerId: '10.99.0.2' },
      fakeSecret,
    );
    expectGolden(golden, text);
  });

  it.each(['frr', 'gobgp'])(
    '%s: refuses an LB key over a range that holds a router without its own key',
    async (flavor) => {
      // The fixture's node range 10.99.0.0/24 holds the router 10.99.0.1.
      const config = withPasswords(await topologyConfig(), true, false);
      expect(() => renderRrConfig(config, { flavor, routerId: '10.99.0.2' }, fakeSecret)).toThrow(
        /router 10.99.0.1 lies inside the LB range 10.99.0.0\/24/,
      );
      const narrowed = withBgp(config, {
        policy: { ...config.bgp!.policy, listenRanges: ['10.244.0.0/16'] },
      });
      expect(renderRrConfig(narrowed, { flavor, routerId: '10.99.0.2' }, fakeSecret)).toContain(
        '10.244.0.0/16',
      );
    },
  );

  it.each([
    ['frr', '10.99.0.3', [], 'rr-frr-bfd.conf'],
    ['gobgp', '10.99.0.2', ['10.99.0.2'], 'rr-gobgp-bfd.toml'],
  ])('%s: BFD on the LB peer group', async (flavor, routerId, singleHop, golden) => {
    const text = renderRrConfig(withBfd(await topologyConfig(), singleHop), { flavor, routerId });
    expectGolden(golden, text);
  });

  it('refuses multihop BFD on gobgp, whose BFD is single-hop only', async () => {
    const config = withBfd(await topologyConfig());
    expect(() => renderRrConfig(config, { flavor: 'gobgp', routerId: '10.99.0.2' })).toThrow(
      /single-hop only.*bgp.bfd.singleHop/,
    );
  });

  it.each([
    ['frr', 'rr-frr-dual.conf'],
    ['gobgp', 'rr-gobgp-dual.toml'],
  ])(
    '%s: both families, only the configured VIPs, each with its own next-hop range',
    async (flavor, golden) => {
      expectGolden(golden, renderRrConfig(await dualStackConfig(), { flavor, routerId: '10.99.0.2' }));
    },
  );

  it('takes next hops from the pod range with bgp.nextHop: pod', async () => {
    const config = await topologyConfig();
    const text = renderRrConfig(withBgp(config, { nextHop: 'pod' }), {
      flavor: 'frr',
      routerId: '10.99.0.2',
    });
    expect(text).toContain('ip prefix-list portlb-nexthop-v4 seq 5 permit 10.244.0.0/16 le 32');
    expect(text).not.toContain('portlb-nexthop-v4 seq 5 permit 10.99.0.0/24');
    // gobgp lists next hops one by one: a /16 is too many.
    expect(() =>
      renderRrConfig(withBgp(config, { nextHop: 'pod' }), { flavor: 'gobgp', routerId: '10.99.0.2' }),
    ).toThrow(/matches next hops by address.*--flavor frr/);
  });

  it('refuses a VIP family that has no next-hop range', async () => {
    const config = await dualStackConfig();
    const v4only = { ...config, clusterNetworks: { ...config.clusterNetworks, nodes: ['10.99.0.0/28'] } };
    expect(() => renderRrConfig(v4only, { flavor: 'frr', routerId: '10.99.0.2' })).toThrow(
      /needs an IPv6 range in clusterNetworks.nodes/,
    );
  });

  it('declares the FRR peer-group before the listen range that names it', async () => {
    const text = renderRrConfig(await topologyConfig(), { flavor: 'frr', routerId: '10.99.0.2' });
    expect(text.indexOf('neighbor portlb-lb peer-group')).toBeLessThan(text.indexOf('bgp listen range'));
  });

  it.each([
    [{ flavor: 'bird', routerId: '10.99.0.2' }, /unknown --flavor "bird"/],
    [{ flavor: 'gobgp' }, /pass --router-id/],
    [{ flavor: 'gobgp', routerId: '10.99.0.9' }, /10.99.0.9 is not one of bgp.peers/],
  ])('refuses %o', async (options, message) => {
    const config = await topologyConfig();
    expect(() => renderRrConfig(config, options)).toThrow(message);
  });

  it('needs the ranges LB speakers connect from, and the router', async () => {
    const config = await topologyConfig();
    const noRanges = { ...config, clusterNetworks: { nodes: [], pods: [] } };
    expect(() => renderRrConfig(noRanges, { routerId: '10.99.0.2' })).toThrow(/clusterNetworks/);
    const noRouter = { ...config, bgp: { ...config.bgp!, topology: undefined } };
    expect(() => renderers.rr?.(noRouter, { routerId: '10.99.0.2' })).toThrow(/bgp.topology.router/);
  });
});
