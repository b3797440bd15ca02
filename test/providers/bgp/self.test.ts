import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { resolveBgpSelf } from '../../../src/providers/bgp/self.js';

const doc = (bgp: Record<string, unknown> = {}) => ({
  mode: 'bgp',
  allowedVipPools: ['10.1.0.0/16'],
  services: [
    {
      name: 'web',
      vip: '10.1.1.0/24',
      ports: [{ port: 80 }],
      backends: { static: [{ address: '10.98.0.21', port: 8080 }] },
    },
  ],
  targets: [{ node: 'node1', address: '10.99.0.11' }],
  bgp: { localAs: 65000, peers: [{ address: '10.99.0.2', as: 65000 }], ...bgp },
});

describe('resolveBgpSelf', () => {
  it.each([
    [
      'HOST_IP',
      {},
      { HOST_IP: '10.99.0.12' },
      { nodeIp: '10.99.0.12', localAddress: '10.99.0.12', nextHop: '10.99.0.12' },
    ],
    [
      'NODE_NAME in targets',
      {},
      { NODE_NAME: 'node1' },
      { node: 'node1', nodeIp: '10.99.0.11', routerId: '10.99.0.11' },
    ],
    [
      'POD_IP binds the session',
      {},
      { HOST_IP: '10.99.0.12', POD_IP: '10.244.1.5' },
      { localAddress: '10.244.1.5', nextHop: '10.99.0.12' },
    ],
    [
      'pod-ip router id',
      { routerId: 'pod-ip' },
      { HOST_IP: '10.99.0.12', POD_IP: '10.244.1.5' },
      { routerId: '10.244.1.5' },
    ],
    ['fixed router id', { routerId: '1.2.3.4' }, { HOST_IP: '10.99.0.12' }, { routerId: '1.2.3.4' }],
    [
      'pod next hop',
      { nextHop: 'pod' },
      { HOST_IP: '10.99.0.12', POD_IP: '10.244.1.5' },
      { nextHop: '10.244.1.5' },
    ],
  ])('%s', (_name, bgp, env, expected) => {
    expect(resolveBgpSelf(parseConfig(doc(bgp), env))).toMatchObject(expected);
  });

  it.each([
    [{}, {}, /set HOST_IP/],
    [{}, { NODE_NAME: 'node9' }, /set HOST_IP/],
    [{ routerId: 'pod-ip' }, { HOST_IP: '10.99.0.12' }, /bgp.routerId is pod-ip but POD_IP is not set/],
    [{ nextHop: 'pod' }, { HOST_IP: '10.99.0.12' }, /bgp.nextHop is pod-ip|POD_IP is not set/],
  ])('refuses to guess: %o %o', (bgp, env, message) => {
    expect(() => resolveBgpSelf(parseConfig(doc(bgp), env))).toThrow(message);
  });
});
