import { describe, expect, it } from 'vitest';
import { renderers } from '../../src/render/index.js';
import { renderRouterConfig } from '../../src/render/router.js';
import { expectGolden, fakeSecret, topologyConfig } from './golden.js';

describe('render router', () => {
  it('peers with every route reflector and installs up to 16 ECMP paths', async () => {
    const text = renderers.router?.(await topologyConfig(), {}) ?? '';
    expect(text).toContain('maximum-paths ibgp 16');
    expectGolden('router.conf', text);
  });

  it('carries the router password, RR ports and an eBGP router AS', async () => {
    const config = await topologyConfig();
    const bgp = config.bgp!;
    const text = renderRouterConfig(
      {
        ...config,
        bgp: {
          ...bgp,
          peers: bgp.peers.map((p) => ({ ...p, port: 1179 })),
          topology: { router: { address: '10.99.0.1', as: 65001, maximumPaths: 4, passwordFile: '/etc/r' } },
        },
      },
      fakeSecret,
    );
    expectGolden('router-ebgp-md5.conf', text);
  });
});
