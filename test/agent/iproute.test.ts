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
      { vip: '203.0.113.0/28', nexthops: ['10.244.1.5', '10.244.1.6'], metric: 0, blackhole: false },
      { vip: '203.0.113.16/28', nexthops: ['10.244.1.5'], metric: 0, blackhole: false },
      { vip: '198.51.100.7/32', nexthops: ['10.244.1.5'], metric: 100, blackhole: false },
    ]);
    expect(parseOwnedRoutes(V6_JSON, 6)).toEqual([
      { vip: '2001:db8:1::/64', nexthops: ['fd00:244::5'], metric: 1024, blackhole: false },
    ]);
    expect(parseOwnedRoutes('', 4)).toEqual([]);
  });

  it('reads blackholes', () => {
    // Captured from iproute2 6.1 after `ip route add blackhole VIP proto 202`.
    const v4 = '[{"type":"blackhole","dst":"203.0.113.0/28","flags":[]}]';
    const v6 =
      '[{"type":"blackhole","dst":"2001:db8:1::/64","dev":"lo","metric":1024,"flags":[],"pref":"medium"}]';
    expect(parseOwnedRoutes(v4, 4)).toEqual([
      { vip: '203.0.113.0/28', nexthops: [], metric: 0, blackhole: true },
    ]);
    expect(parseOwnedRoutes(v6, 6)).toEqual([
      { vip: '2001:db8:1::/64', nexthops: [], metric: 1024, blackhole: true },
    ]);
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
    create: true,
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
  /** A table whose `ip` answers with `respond`, recording every command. */
  const recording = (respond: (args: readonly string[]) => string) => {
    const calls: string[] = [];
    const table = createRouteTable({
      protocol: 202,
      run: async (args) => {
        calls.push(args.join(' '));
        return respond(args);
      },
    });
    return { calls, table };
  };
  const addWeb = {
    kind: 'replace',
    vip: '203.0.113.0/28',
    nexthops: ['10.244.1.5'],
    from: [],
    create: true,
    reason: 't',
  } as const;

  it('refuses to replace a VIP that has a route with another protocol, and runs nothing else', async () => {
    const { calls, table } = recording(() =>
      JSON.stringify([{ dst: '203.0.113.0/28', protocol: '4', gateway: '10.244.1.7' }]),
    );
    await expect(table.apply(addWeb)).rejects.toBeInstanceOf(RouteConflictError);
    expect(calls).toEqual(['-4 -N -json route show table main exact 203.0.113.0/28']);
  });

  it.each<[string, boolean, string[], string]>([
    [
      'a route it does not own yet is added',
      true,
      ['10.244.1.5', '10.244.1.6'],
      'add 203.0.113.0/28 table main proto 202 nexthop via 10.244.1.5 nexthop via 10.244.1.6',
    ],
    [
      'its own route is replaced',
      false,
      ['10.244.1.5'],
      'replace 203.0.113.0/28 table main proto 202 nexthop via 10.244.1.5',
    ],
    [
      'no next hop left: its route becomes a blackhole',
      false,
      [],
      'replace blackhole 203.0.113.0/28 table main proto 202',
    ],
    [
      'a blackhole it does not own yet is added',
      true,
      [],
      'add blackhole 203.0.113.0/28 table main proto 202',
    ],
  ])('%s', async (_name, create, nexthops, command) => {
    const { calls, table } = recording((args) => (args.includes('show') ? '[]' : ''));
    await table.apply({ ...addWeb, nexthops, from: ['10.244.1.9'], create });
    expect(calls).toEqual(['-4 -N -json route show table main exact 203.0.113.0/28', `-4 route ${command}`]);
  });

  it('a route that appears after the check is a conflict: add fails, nothing is overwritten', async () => {
    const { calls, table } = recording((args) => {
      if (args.includes('show')) return '[]'; // nothing there yet ...
      throw new Error('ip -4 route add ...: RTNETLINK answers: File exists'); // ... but now there is
    });
    const error = await table.apply(addWeb).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RouteConflictError);
    expect((error as Error).message).toMatch(
      /203\.0\.113\.0\/28 got a route after portlb checked the table \(File exists\): not overwritten/,
    );
    expect(calls.filter((c) => / route (replace|del) /.test(c))).toEqual([]);
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
