import { describe, expect, it } from 'vitest';
import { parseRoutes } from '../../src/lab/fib.js';
import { nodeIndexOf } from '../../src/lab/layout.js';

describe('parseRoutes (ip -j route)', () => {
  it.each([
    ['no route', '[]', []],
    [
      'one next hop (Fig. 12a)',
      '[{"dst":"10.1.1.0/24","nhid":15,"gateway":"10.99.0.11","dev":"eth0","protocol":"bgp","metric":20,"flags":[]}]',
      [{ dst: '10.1.1.0/24', protocol: 'bgp', nextHops: ['10.99.0.11'] }],
    ],
    [
      'ECMP, next hops sorted (Fig. 12b)',
      '[{"dst":"10.1.1.0/24","nhid":20,"protocol":"bgp","metric":20,"flags":[],"nexthops":[{"gateway":"10.99.0.13","dev":"eth0","weight":1,"flags":[]},{"gateway":"10.99.0.11","dev":"eth0","weight":1,"flags":[]}]}]',
      [{ dst: '10.1.1.0/24', protocol: 'bgp', nextHops: ['10.99.0.11', '10.99.0.13'] }],
    ],
    [
      'a connected route has no next hop; junk entries are skipped',
      '[{"dst":"10.99.0.0/24","dev":"eth0","protocol":"kernel"},{"nodst":true}]',
      [{ dst: '10.99.0.0/24', protocol: 'kernel', nextHops: [] }],
    ],
  ])('%s', (_name, json, want) => {
    expect(parseRoutes(json)).toEqual(want);
  });

  it('reads an empty output as no routes', () => {
    expect(parseRoutes('')).toEqual([]);
  });
});

describe('nodeIndexOf', () => {
  it.each([
    ['10.99.0.11', 1],
    ['10.99.0.50', 40],
    ['10.99.0.2', undefined],
    ['10.98.0.11', undefined],
  ])('%s -> %s', (address, want) => {
    expect(nodeIndexOf(address)).toBe(want);
  });
});
