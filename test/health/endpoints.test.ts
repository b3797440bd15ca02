import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { probeTargets, vipProbeAddress } from '../../src/health/endpoints.js';
import { createStaticBackends } from '../../src/sources/backends.js';

describe('probe targets', () => {
  it.each([
    ['10.1.1.0/24', '10.1.1.1'],
    ['10.1.1.8/31', '10.1.1.8'],
    ['10.1.1.7/32', '10.1.1.7'],
    ['2001:db8:1::/64', '2001:db8:1::1'],
  ])('probes VIP %s at %s', (vip, address) => {
    expect(vipProbeAddress(vip)).toBe(address);
  });

  const config = (through: 'vip' | 'backends', backends: unknown) =>
    parseConfig(
      {
        mode: 'bgp',
        allowedVipPools: ['10.1.0.0/16'],
        services: [
          { name: 'web', vip: '10.1.1.0/24', ports: [{ port: 80 }, { port: 53, protocol: 'UDP' }], backends },
        ],
        bgp: { localAs: 65000, peers: [{ address: '10.99.0.2', as: 65000 }] },
        health: { probe: { through } },
      },
      {},
    );

  const endpointsOf = (c: ReturnType<typeof config>, backends = createStaticBackends(c), kube = false) => {
    const targets = probeTargets(c.services[0]!, c.health, backends, kube);
    return 'endpoints' in targets ? targets.endpoints() : targets;
  };

  it('probes the static backends, or the VIP on its TCP ports', () => {
    const backends = { static: [{ address: '10.98.0.21', port: 8080 }] };
    expect(endpointsOf(config('backends', backends))).toEqual([{ host: '10.98.0.21', port: 8080 }]);
    expect(endpointsOf(config('vip', backends))).toEqual([{ host: '10.1.1.1', port: 80 }]);
  });

  it('reads the current backends before every probe (EndpointSlices change)', () => {
    const c = config('backends', { kubernetes: { service: 'web' } });
    let ready = [{ address: '10.244.1.9', port: 8080 }];
    const kube = { backends: () => ready, onChange: () => () => {} };
    const targets = probeTargets(c.services[0]!, c.health, kube, true);
    const read = () => ('endpoints' in targets ? targets.endpoints() : []);
    expect(read()).toEqual([{ host: '10.244.1.9', port: 8080 }]);
    ready = [];
    expect(read()).toEqual([]);
  });

  it('says when it cannot list the backends', () => {
    const c = config('backends', { kubernetes: { service: 'web' } });
    expect(endpointsOf(c)).toMatchObject({ unavailable: expect.stringMatching(/no "kubernetes" section/) });
  });
});
