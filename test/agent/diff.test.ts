import { describe, expect, it } from 'vitest';
import { diffRoutes, holdBlackholes, type OwnedRoute } from '../../src/agent/diff.js';
import type { WantedRoute } from '../../src/agent/routes.js';

const V4 = '203.0.113.0/28';
const V6 = '2001:db8:1::/64';
const want = (vip: string, ...nexthops: string[]): WantedRoute => ({ vip, service: 'web', nexthops });
const owned = (vip: string, nexthops: string[], metric = vip.includes(':') ? 1024 : 0): OwnedRoute => ({
  vip,
  nexthops,
  metric,
  blackhole: false,
});
const blackhole = (vip: string, metric = vip.includes(':') ? 1024 : 0): OwnedRoute => ({
  vip,
  nexthops: [],
  metric,
  blackhole: true,
});

describe('diffRoutes', () => {
  // `add` when the agent owns no route at the VIP's default metric, `replace` only over its own.
  it.each<[string, WantedRoute[], OwnedRoute[], string[], string[]]>([
    ['nothing wanted, nothing owned', [], [], [], []],
    ['a new route', [want(V4, 'a', 'b')], [], [], [`add ${V4} [] -> [a,b]`]],
    ['already right', [want(V4, 'a', 'b')], [owned(V4, ['a', 'b'])], [], []],
    ['already right (IPv6, metric 1024)', [want(V6, 'a')], [owned(V6, ['a'])], [], []],
    ['a next hop left', [want(V4, 'a')], [owned(V4, ['a', 'b'])], [], [`replace ${V4} [a,b] -> [a]`]],
    ['a next hop joined', [want(V4, 'a', 'b')], [owned(V4, ['a'])], [], [`replace ${V4} [a] -> [a,b]`]],
    ['VIP no longer configured', [], [owned(V4, ['a'])], [], [`delete ${V4} metric 0 [a]`]],
    [
      'an owned copy at another metric goes',
      [want(V4, 'a')],
      [owned(V4, ['a']), owned(V4, ['b'], 100)],
      [],
      [`delete ${V4} metric 100 [b]`],
    ],
    [
      'only a copy at another metric: added at the default, the copy goes',
      [want(V4, 'a')],
      [owned(V4, ['b'], 100)],
      [],
      [`add ${V4} [] -> [a]`, `delete ${V4} metric 100 [b]`],
    ],
    ['the right hops at another metric are kept', [want(V4, 'a')], [owned(V4, ['a'], 100)], [], []],
    // The last next hop left, the VIP is still configured: drop, do not loop, what still comes.
    ['last next hop gone: blackhole', [], [owned(V4, ['a'])], [V4], [`replace ${V4} [a] -> blackhole`]],
    ['last next hop gone (IPv6)', [], [owned(V6, ['a'])], [V6], [`replace ${V6} [a] -> blackhole`]],
    ['a blackhole stays while no pod is back', [], [blackhole(V4)], [V4], []],
    ['never routed here: no blackhole', [], [], [V4], []],
    [
      'a pod is back: the blackhole becomes its route',
      [want(V4, 'a')],
      [blackhole(V4)],
      [],
      [`replace ${V4} [] -> [a]`],
    ],
    ['a blackhole of a VIP no longer configured goes', [], [blackhole(V4)], [], [`delete ${V4} metric 0 []`]],
    [
      'only a copy at another metric: blackhole added at the default, the copy goes',
      [],
      [owned(V4, ['a'], 100)],
      [V4],
      [`add ${V4} [] -> blackhole`, `delete ${V4} metric 100 [a]`],
    ],
  ])('%s', (_name, wanted, present, unrouted, expected) => {
    const text = diffRoutes(wanted, present, unrouted).map((c) =>
      c.kind === 'replace'
        ? `${c.create ? 'add' : 'replace'} ${c.vip} [${c.from.join(',')}] -> ${c.nexthops.length > 0 ? `[${c.nexthops.join(',')}]` : 'blackhole'}`
        : `delete ${c.vip} metric ${c.metric} [${c.from.join(',')}]`,
    );
    expect(text).toEqual(expected);
  });

  it('says why a VIP is not wanted', () => {
    const [gone] = diffRoutes([], [owned(V4, ['a'])], [], (vip) => `nobody serves ${vip}`);
    expect(gone?.reason).toBe(`nobody serves ${V4}`);
    const [held] = diffRoutes([], [owned(V4, ['a'])], [V4], (vip) => `nobody serves ${vip}`);
    expect(held?.reason).toBe(`nobody serves ${V4}; blackholed so the node drops, not loops, its traffic`);
    const [back] = diffRoutes([want(V4, 'a')], [blackhole(V4)]);
    expect(back?.reason).toBe('an LB pod for web is back');
  });
});

describe('holdBlackholes', () => {
  const A = '203.0.113.0/28';
  const B = '203.0.113.16/28';
  const owned = new Set([A, B]);

  it('blackholes an owned unrouted VIP for the hold, then lets its route go', () => {
    const since = new Map<string, number>();
    expect(holdBlackholes([A], owned, since, 1_000, 10_000)).toEqual({ blackhole: [A], nextExpiry: 11_000 });
    expect(holdBlackholes([A], owned, since, 10_999, 10_000)).toEqual({ blackhole: [A], nextExpiry: 11_000 });
    expect(holdBlackholes([A], owned, since, 11_000, 10_000)).toEqual({
      blackhole: [],
      nextExpiry: undefined,
    });
    // Its route gone, nothing is held: the time is forgotten, and a later loss starts a new hold.
    expect(holdBlackholes([A], new Set(), since, 12_000, 10_000).blackhole).toEqual([]);
    expect(since.size).toBe(0);
    expect(holdBlackholes([A], owned, since, 50_000, 10_000)).toEqual({ blackhole: [A], nextExpiry: 60_000 });
  });

  it('forgets a VIP routed again, holds each VIP on its own clock, and never one it holds no route for', () => {
    const since = new Map<string, number>();
    holdBlackholes([A], owned, since, 0, 10_000);
    expect(holdBlackholes([A, B], owned, since, 4_000, 10_000)).toEqual({
      blackhole: [A, B],
      nextExpiry: 10_000,
    });
    expect(holdBlackholes([B], owned, since, 5_000, 10_000)).toEqual({ blackhole: [B], nextExpiry: 14_000 });
    expect(since.has(A)).toBe(false);
    expect(holdBlackholes(['198.51.100.0/28'], owned, new Map(), 0, 10_000).blackhole).toEqual([]);
  });

  it('with no hold, blackholes nothing', () => {
    expect(holdBlackholes([A], owned, new Map(), 0, 0)).toEqual({ blackhole: [], nextExpiry: undefined });
  });
});
