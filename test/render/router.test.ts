import { describe, expect, it } from 'vitest';
import { renderers } from '../../src/render/index.js';
import { renderRouterConfig } from '../../src/render/router.js';
import { dualStackConfig, expectGolden, fakeSecret, topologyConfig, withBgp } from './golden.js';

describe('render router', () => {
  it('peers with every route reflector, filters what they send, installs up to 16 ECMP paths', async () => {
    const text = renderers.router?.(await topologyConfig(), {}) ?? '';
    expect(text).toContain('maximum-paths ibgp 16');
    expect(text.match(/route-map portlb-vip-in-v4 in/g)).toHaveLength(2);
    expectGolden('router.conf', text);
  });

  it('carries the router password, RR ports and an eBGP router AS', async () => {
    const config = await topologyConfig();
    const text = renderRouterConfig(
      withBgp(config, {
        peers: config.bgp!.peers.map((p) => ({ ...p, port: 1179 })),
        topology: { router: { address: '10.99.0.1', as: 65001, maximumPaths: 4, passwordFile: '/etc/r' } },
      }),
      fakeSecret,
    );
    expectGolden('router-ebgp-md5.conf', text);
  });

  it('filters both families', async () => {
    expectGolden('router-dual.conf', renderRouterConfig(await dualStackConfig()));
  });
});
