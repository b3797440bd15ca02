import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { probeTargets, vipProbeAddress } from '../../src/health/endpoints.js';

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

  it('probes the static backends, or the VIP on its TCP ports', () => {
    const backends = { static: [{ address: '10.98.0.21', port: 8080 }] };
    const c1 = config('backends', backends);
    expect(probeTargets(c1.services[0]!, c1.health)).toEqual({
      endpoints: [{ host: '10.98.0.21', port: 8080 }],
    });
    const c2 = config('vip', backends);
    expect(probeTargets(c2.services[0]!, c2.health)).toEqual({ endpoints: [{ host: '10.1.1.1', port: 80 }] });
  });

  it('says when it cannot list the backends', () => {
    const c = config('backends', { kubernetes: { service: 'web' } });
    expect(probeTargets(c.services[0]!, c.health)).toMatchObject({
      unavailable: expect.stringMatching(/through: vip/),
    });
  });
});
