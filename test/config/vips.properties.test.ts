import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Placed, vipProblems } from '../../src/config/vips.js';
import { prefix, spanOf, spansOverlap } from '../../src/core/cidr.js';

/*
 * The sort-based sweep against the quadratic check it replaced: for any VIPs, pools and reserved
 * ranges (IPv4, IPv6 and IPv4-mapped, drawn from a small space so that they collide), the same
 * VIPs are called outside the pools, overlapping another VIP, and shadowing a reserved range.
 */

const text = fc.oneof(
  fc.tuple(fc.integer({ min: 0, max: 63 }), fc.integer({ min: 22, max: 32 })).map(([low, length]) => {
    const value = ((10 << 24) | (low << 6)) >>> 0;
    const p = prefix(`${[24, 16, 8, 0].map((s) => (value >>> s) & 255).join('.')}/32`);
    const masked = p.network & ~((1n << BigInt(32 - length)) - 1n);
    return prefix(`${[24n, 16n, 8n, 0n].map((s) => Number((masked >> s) & 255n)).join('.')}/${length}`).text;
  }),
  fc.constantFrom('::ffff:10.0.0.0/118', '::ffff:10.0.4.0/120', '::ffff:10.0.0.64/122'),
  fc.constantFrom('2001:db8::/64', '2001:db8::/96', '2001:db8::1:0/112', '2001:db8:1::/64'),
);

const placedList = (label: string) =>
  fc
    .array(text, { maxLength: 8 })
    .map((texts) => texts.map((t, i): Placed => ({ path: `${label}[${i}]`, text: t, prefix: prefix(t) })));

interface Expected {
  outside: Set<number>;
  overlapping: Set<number>;
  shadowing: Set<number>;
}

/** The quadratic reference, in the same mapped space. */
function reference(vips: Placed[], pools: Placed[], reserved: Placed[]): Expected {
  const span = (p: Placed) => spanOf(p.prefix);
  const within = (inner: Placed, outer: Placed) =>
    span(outer).first <= span(inner).first && span(inner).last <= span(outer).last;
  const expected: Expected = { outside: new Set(), overlapping: new Set(), shadowing: new Set() };
  vips.forEach((vip, i) => {
    if (!pools.some((pool) => within(vip, pool))) expected.outside.add(i);
    vips.forEach((other, j) => {
      if (i !== j && spansOverlap(span(vip), span(other))) expected.overlapping.add(Math.max(i, j));
    });
    if (reserved.some((r) => spansOverlap(span(vip), span(r)))) expected.shadowing.add(i);
  });
  return expected;
}

describe('vipProblems', () => {
  it('finds what the quadratic check finds', () => {
    fc.assert(
      fc.property(
        placedList('vips'),
        placedList('pools'),
        placedList('reserved'),
        (vips, pools, reserved) => {
          const found = vipProblems({ vips, pools, reserved, allowedSpecial: new Set(['ipv4-mapped']) });
          const indices = (pattern: RegExp) =>
            new Set(
              found
                .filter((p) => pattern.test(p.message))
                .map((p) => Number(/^vips\[(\d+)\]$/.exec(p.path)?.[1])),
            );
          const expected = reference(vips, pools, reserved);
          expect(indices(/outside allowedVipPools/)).toEqual(expected.outside);
          expect(indices(/ overlaps vips\[/)).toEqual(expected.overlapping);
          expect(indices(/must not capture/)).toEqual(expected.shadowing);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('names the earlier VIP on the later one, whatever their addresses', () => {
    fc.assert(
      fc.property(placedList('vips'), (vips) => {
        for (const problem of vipProblems({ vips, pools: vips, reserved: [], allowedSpecial: new Set() })) {
          const match = /^vips\[(\d+)\]$/.exec(problem.path);
          const named = / overlaps vips\[(\d+)\]/.exec(problem.message);
          if (match && named) expect(Number(named[1])).toBeLessThan(Number(match[1]));
        }
      }),
    );
  });

  it('calls no VIP outside the pools when the pools did not all parse', () => {
    fc.assert(
      fc.property(placedList('vips'), (vips) => {
        const found = vipProblems({ vips, pools: undefined, reserved: [], allowedSpecial: new Set() });
        expect(found.filter((p) => p.message.includes('outside'))).toEqual([]);
      }),
    );
  });
});
