import { describe, expect, it } from 'vitest';
import {
  classifyIpError,
  createRouteTable,
  foreignProtocols,
  parseOwnedRoutes,
  RouteConflictError,
} from '../../src/agent/iproute.js';
import { TransientError } from '../../src/errors.js';

// Captured from iproute2 6.1 (`ip -4|-6 -json route show table main proto 202`).
const V4_JSON = JSON.stringify([
  {
    dst: '203.0.113.0/28',
    flags: [],
    nexthops: [
      { gateway: '10.244.1.6', dev: 'cni0', weight: 1, flags: [] },
      { gateway: '10.244.1.5', dev: 'cni0', weight: 1, flags: [] },
    ],
  },
  { dst: '203.0.113.16/28', gateway: '10.244.1.5', dev: 'cni0', flags: [] },
  { dst: '198.51.100.7', gateway: '10.244.1.5', dev: 'cni0', metric: 100, flags: [] },
]);
const V6_JSON = JSON.stringify([
  {
    dst: '2001:db8:1::/64',
    metric: 1024,
    flags: [],
    pref: 'medium',
    nexthops: [{ gateway: 'fd00:244::5', dev: 'cni0', weight: 1, flags: [] }],
  },
]);

describe('parseOwnedRoutes', () => {
  it('reads single-path and ECMP routes, sorts hops, restores host-route lengths', () => {
    expect(parseOwnedRoutes(V4_JSON, 4)).toEqual([
      { vip: '203.0.113.0/28', nexthops: ['10.244.1.5', '10.244.1.6'], metric: 0 },
      { vip: '203.0.113.16/28', nexthops: ['10.244.1.5'], metric: 0 },
      { vip: '198.51.100.7/32', nexthops: ['10.244.1.5'], metric: 100 },
    ]);
    expect(parseOwnedRoutes(V6_JSON, 6)).toEqual([
      { vip: '2001:db8:1::/64', nexthops: ['fd00:244::5'], metric: 1024 },
    ]);
    expect(parseOwnedRoutes('', 4)).toEqual([]);
  });

  it('fails clearly on output that is not JSON', () => {
    expect(() => parseOwnedRoutes('Error: bogus', 4)).toThrow(/cannot parse ip -json route output/);
  });
});

describe('foreignProtocols', () => {
  it('lists every protocol but ours (ip -N prints numbers)', () => {
    const json = JSON.stringify([
      { dst: '203.0.113.0/28', protocol: '202', gateway: '10.244.1.5' },
      { dst: '203.0.113.0/28', protocol: '4', gateway: '10.244.1.7', metric: 10 },
    ]);
    expect(foreignProtocols(json, 202)).toEqual(['4']);
    expect(foreignProtocols('[]', 202)).toEqual([]);
  });
});

describe('classifyIpError', () => {
  const change = {
    kind: 'replace',
    vip: '203.0.113.0/28',
    nexthops: ['10.99.0.5'],
    from: [],
    reason: 't',
  } as const;

  it('an unresolvable pod IP is transient and says what the node lacks', () => {
    const error = classifyIpError(
      change,
      new Error('ip route replace ...: Error: Nexthop has invalid gateway.'),
    );
    expect(error).toBeInstanceOf(TransientError);
    expect(error.message).toMatch(
      /via 10\.99\.0\.5: the kernel refuses a next hop \(Nexthop has invalid gateway\)/,
    );
    expect(error.message).toMatch(/link route on this node/);
  });

  it('a missing capability names it', () => {
    const error = classifyIpError(change, new Error('RTNETLINK answers: Operation not permitted'));
    expect(error).not.toBeInstanceOf(TransientError);
    expect(error.message).toMatch(/CAP_NET_ADMIN/);
  });
});

describe('createRouteTable', () => {
  it('refuses to replace a VIP that has a route with another protocol, and runs nothing else', async () => {
    const calls: string[] = [];
    const table = createRouteTable({
      protocol: 202,
      run: async (args) => {
        calls.push(args.join(' '));
        return JSON.stringify([{ dst: '203.0.113.0/28', protocol: '4', gateway: '10.244.1.7' }]);
      },
    });
    const replace = {
      kind: 'replace',
      vip: '203.0.113.0/28',
      nexthops: ['10.244.1.5'],
      from: [],
      reason: 't',
    } as const;
    await expect(table.apply(replace)).rejects.toBeInstanceOf(RouteConflictError);
    expect(calls).toEqual(['-4 -N -json route show table main exact 203.0.113.0/28']);
  });

  it('deleting a route that is already gone succeeds', async () => {
    const table = createRouteTable({
      protocol: 202,
      run: async () => {
        throw new Error('ip route del ...: RTNETLINK answers: No such process');
      },
    });
    await expect(
      table.apply({ kind: 'delete', vip: '203.0.113.0/28', metric: 0, from: ['10.244.1.5'], reason: 't' }),
    ).resolves.toBeUndefined();
  });
});
