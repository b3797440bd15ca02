import { describe, expect, it } from 'vitest';
import { checkBackends, compareBackends } from '../../src/dataplane/model.js';
import { v4 } from './fixtures.js';

const web = { vip: '10.1.1.0/24' };
const web6 = { vip: '2001:db8:1::/120' };

describe('checkBackends', () => {
  it.each([
    [
      'orders by address bytes, not text',
      web,
      ['10.98.0.100', '10.98.0.9', '10.98.0.31'],
      ['10.98.0.9', '10.98.0.31', '10.98.0.100'],
    ],
    [
      'writes IPv6 in canonical form',
      web6,
      ['2001:db8:98:0:0::21', '2001:DB8:98::3'],
      ['2001:db8:98::3', '2001:db8:98::21'],
    ],
    ['accepts an empty list', web, [], []],
  ])('%s', (_name, service, addresses, expected) => {
    const result = checkBackends(
      service,
      addresses.map((address) => ({ address, port: 8080 })),
    );
    expect(result).toEqual({
      ok: true,
      backends: expected.map((a) => expect.objectContaining({ address: a })),
    });
  });

  it('orders the same whatever order the source gave', () => {
    const list = ['10.98.0.22', '10.98.0.3', '10.98.1.1', '10.98.0.21'].map((address) => ({
      address,
      port: 80,
    }));
    const a = checkBackends(web, list);
    const b = checkBackends(web, [...list].reverse());
    expect(a).toEqual(b);
  });

  it.each([
    [
      'a duplicate',
      web,
      [
        { address: '10.98.0.21', port: 8080 },
        { address: '10.98.0.21', port: 8080 },
      ],
      '10.98.0.21:8080: listed twice',
    ],
    [
      'a duplicate spelled otherwise',
      web6,
      [
        { address: '2001:db8::1', port: 80 },
        { address: '2001:DB8:0::1', port: 80 },
      ],
      'listed twice',
    ],
    [
      'an invalid address',
      web,
      [{ address: '10.98.0.300', port: 8080 }],
      '"10.98.0.300" is not an IPv4 or IPv6 address',
    ],
    [
      'an octal-looking address',
      web,
      [{ address: '010.98.0.1', port: 8080 }],
      'is not an IPv4 or IPv6 address',
    ],
    ['a hostname', web, [{ address: 'backend.local', port: 8080 }], 'is not an IPv4 or IPv6 address'],
    ['an IPv6 zone', web6, [{ address: 'fe80::1%eth0', port: 8080 }], 'is not an IPv4 or IPv6 address'],
    ['port 0', web, [{ address: '10.98.0.21', port: 0 }], 'port must be 1-65535'],
    ['a fractional port', web, [{ address: '10.98.0.21', port: 80.5 }], 'port must be 1-65535'],
    [
      'the wrong family',
      web,
      [{ address: '2001:db8::1', port: 80 }],
      'an IPv6 backend cannot serve the IPv4 VIP 10.1.1.0/24',
    ],
    [
      'an address inside the VIP',
      web,
      [{ address: '10.1.1.7', port: 80 }],
      'inside the VIP range 10.1.1.0/24',
    ],
  ])('refuses %s', (_name, service, backends, message) => {
    const result = checkBackends(service, backends);
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.problems.join('\n')).toContain(message);
  });

  it('lists every problem, not the first', () => {
    const result = checkBackends(web, [
      { address: 'nope', port: 80 },
      { address: '10.98.0.1', port: 70000 },
      { address: '10.98.0.2', port: 80 },
    ]);
    expect(result.ok ? [] : result.problems).toHaveLength(2);
  });
});

describe('compareBackends', () => {
  it('orders by port after the address', () => {
    expect([v4('10.0.0.1', 90), v4('10.0.0.1', 80)].sort(compareBackends).map((b) => b.port)).toEqual([
      80, 90,
    ]);
  });
});
