import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/load.js';
import { renderers } from '../../src/render/index.js';
import { renderRrConfig } from '../../src/render/rr.js';
import { expectGolden, fakeSecret, topologyConfig } from './golden.js';

function withPasswords(config: Config, lbSide = true): Config {
  const bgp = config.bgp!;
  return {
    ...config,
    bgp: {
      ...bgp,
      peers: bgp.peers.map((p) => (lbSide ? { ...p, passwordFile: `/etc/portlb/${p.address}` } : p)),
      topology: { ...bgp.topology!, router: { ...bgp.topology!.router, passwordFile: '/etc/portlb/router' } },
    },
  };
}

describe('render rr', () => {
  it.each([
    ['gobgp', '10.99.0.2', 'rr-gobgp.toml'],
    ['frr', '10.99.0.3', 'rr-frr.conf'],
  ])('renders the %s route reflector %s', async (flavor, routerId, golden) => {
    const text = renderRrConfig(await topologyConfig(), { flavor, routerId });
    expectGolden(golden, text);
  });

  it('adds TCP-MD5 to both sides of an FRR route reflector', async () => {
    const text = renderRrConfig(
      withPasswords(await topologyConfig()),
      { flavor: 'frr', routerId: '10.99.0.2' },
      fakeSecret,
    );
    expectGolden('rr-frr-md5.conf', text);
  });

  it('adds TCP-MD5 to the router link of a gobgp route reflector, and refuses it towards dynamic neighbors', async () => {
    const options = { flavor: 'gobgp', routerId: '10.99.0.2' };
    const routerOnly = withPasswords(await topologyConfig(), false);
    expectGolden('rr-gobgp-md5.toml', renderRrConfig(routerOnly, options, fakeSecret));
    const both = withPasswords(await topologyConfig());
    expect(() => renderRrConfig(both, options, fakeSecret)).toThrow(
      /gobgpd does not apply TCP-MD5 to dynamic neighbors/,
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
