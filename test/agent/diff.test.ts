import { describe, expect, it } from 'vitest';
import { diffRoutes, type OwnedRoute } from '../../src/agent/diff.js';
import type { WantedRoute } from '../../src/agent/routes.js';

const V4 = '203.0.113.0/28';
const V6 = '2001:db8:1::/64';
const want = (vip: string, ...nexthops: string[]): WantedRoute => ({ vip, service: 'web', nexthops });
const owned = (vip: string, nexthops: string[], metric = vip.includes(':') ? 1024 : 0): OwnedRoute => ({
  vip,
  nexthops,
  metric,
});

describe('diffRoutes', () => {
  it.each<[string, WantedRoute[], OwnedRoute[], string[]]>([
    ['nothing wanted, nothing owned', [], [], []],
    ['a new route', [want(V4, 'a', 'b')], [], [`replace ${V4} [] -> [a,b]`]],
    ['already right', [want(V4, 'a', 'b')], [owned(V4, ['a', 'b'])], []],
    ['already right (IPv6, metric 1024)', [want(V6, 'a')], [owned(V6, ['a'])], []],
    ['a next hop left', [want(V4, 'a')], [owned(V4, ['a', 'b'])], [`replace ${V4} [a,b] -> [a]`]],
    ['a next hop joined', [want(V4, 'a', 'b')], [owned(V4, ['a'])], [`replace ${V4} [a] -> [a,b]`]],
    ['no longer wanted', [], [owned(V4, ['a'])], [`delete ${V4} metric 0 [a]`]],
    [
      'an owned copy at another metric goes',
      [want(V4, 'a')],
      [owned(V4, ['a']), owned(V4, ['b'], 100)],
      [`delete ${V4} metric 100 [b]`],
    ],
    [
      'only a copy at another metric: replaced at the default, the copy goes',
      [want(V4, 'a')],
      [owned(V4, ['b'], 100)],
      [`replace ${V4} [] -> [a]`, `delete ${V4} metric 100 [b]`],
    ],
    ['the right hops at another metric are kept', [want(V4, 'a')], [owned(V4, ['a'], 100)], []],
  ])('%s', (_name, wanted, present, expected) => {
    const text = diffRoutes(wanted, present).map((c) =>
      c.kind === 'replace'
        ? `replace ${c.vip} [${c.from.join(',')}] -> [${c.nexthops.join(',')}]`
        : `delete ${c.vip} metric ${c.metric} [${c.from.join(',')}]`,
    );
    expect(text).toEqual(expected);
  });

  it('says why a VIP is not wanted', () => {
    const [change] = diffRoutes([], [owned(V4, ['a'])], (vip) => `nobody serves ${vip}`);
    expect(change?.reason).toBe(`nobody serves ${V4}`);
  });
});
