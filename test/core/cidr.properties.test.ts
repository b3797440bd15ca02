import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canonicalText,
  contains,
  containsAddress,
  overlaps,
  type Prefix,
  parseAddress,
  parsePrefix,
  prefix,
  spanOf,
  spansOverlap,
  unmappedIpv4,
} from '../../src/core/cidr.js';

/*
 * Properties of the CIDR code against a reference that works on integers alone: a prefix is the
 * range [network, network + 2^(bits - length) - 1].
 */

const u32 = fc.integer({ min: 0, max: 2 ** 32 - 1 });
const u128 = fc.bigInt({ min: 0n, max: (1n << 128n) - 1n });

function ipv4Text(value: number): string {
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join('.');
}

/** All eight groups, zeros kept: the least canonical way to write an IPv6 address. */
function ipv6Full(value: bigint, upper = false): string {
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--)
    groups.push(((value >> BigInt(i * 16)) & 0xffffn).toString(16).padStart(4, '0'));
  const text = groups.join(':');
  return upper ? text.toUpperCase() : text;
}

const mask4 = (value: number, length: number) =>
  length === 0 ? 0 : (value & (0xffffffff << (32 - length))) >>> 0;
const mask6 = (value: bigint, length: number) => value & ~((1n << BigInt(128 - length)) - 1n);

/** A canonical-by-construction IPv4 prefix: its text and the integers behind it. */
const ipv4Prefix = fc.tuple(u32, fc.integer({ min: 0, max: 32 })).map(([value, length]) => ({
  value: mask4(value, length),
  length,
  text: `${ipv4Text(mask4(value, length))}/${length}`,
}));

const ipv6Prefix = fc
  .tuple(u128, fc.integer({ min: 0, max: 128 }))
  .map(([value, length]) => ({ value: mask6(value, length), length }));

/** Prefixes drawn from a small space, so that overlaps and equal ranges are common. */
const nearbyPrefix = fc
  .oneof(
    fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 20, max: 32 })).map(([low, length]) => {
      const value = mask4((10 << 24) | (low << 4), length);
      return `${ipv4Text(value)}/${length}`;
    }),
    fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 116, max: 128 })).map(([low, length]) => {
      const p = prefix(`2001:db8::/96`);
      return prefix(`${ipv6Full(mask6(p.network | BigInt(low << 4), length))}/${length}`).text;
    }),
  )
  .map((text) => prefix(text));

function range(p: Prefix): [bigint, bigint] {
  const bits = p.family === 4 ? 32 : 128;
  return [p.network, p.network + (1n << BigInt(bits - p.length)) - 1n];
}

describe('canonical forms', () => {
  it('an IPv4 prefix written canonically parses to itself, by both paths', () => {
    fc.assert(
      fc.property(ipv4Prefix, ({ value, length, text }) => {
        const parsed = parsePrefix(text);
        expect(parsed).toEqual({ ok: true, prefix: { text, family: 4, length, network: BigInt(value) } });
        expect(canonicalText(text)).toEqual({ ok: true, text });
      }),
    );
  });

  it('an IPv4 prefix with host bits is refused with the range it meant', () => {
    fc.assert(
      fc.property(u32, fc.integer({ min: 0, max: 31 }), (value, length) => {
        fc.pre(mask4(value, length) !== value);
        const result = parsePrefix(`${ipv4Text(value)}/${length}`);
        expect(result.ok).toBe(false);
        if (!result.ok)
          expect(result.reason).toContain(`did you mean ${ipv4Text(mask4(value, length))}/${length}?`);
      }),
    );
  });

  it('any spelling of an IPv6 prefix parses to one canonical text, which parses to itself', () => {
    fc.assert(
      fc.property(ipv6Prefix, fc.boolean(), ({ value, length }, upper) => {
        const parsed = parsePrefix(`${ipv6Full(value, upper)}/${length}`);
        if (!parsed.ok) throw new Error(parsed.reason);
        expect(parsed.prefix).toMatchObject({ family: 6, length, network: value });
        const canonical = parsed.prefix.text;
        expect(canonical).toBe(canonical.toLowerCase());
        expect(canonical).not.toMatch(/(^|:)0[0-9a-f]/); // no leading zeros in a group
        expect(parsePrefix(canonical)).toEqual(parsed);
        expect(canonicalText(`${ipv6Full(value, upper)}/${length}`)).toEqual({ ok: true, text: canonical });
      }),
    );
  });

  it('canonicalText and parsePrefix agree on any string', () => {
    const text = fc.oneof(
      fc.string(),
      fc
        .tuple(
          fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 4, maxLength: 4 }),
          fc.integer({ min: 0, max: 40 }),
        )
        .map(([o, l]) => `${o.join('.')}/${l}`),
      fc
        .tuple(fc.stringMatching(/^0?\d{1,3}$/), fc.stringMatching(/^0?\d{1,2}$/))
        .map(([a, l]) => `10.${a}.0.0/${l}`),
    );
    fc.assert(
      fc.property(text, (input) => {
        const full = parsePrefix(input);
        const fast = canonicalText(input);
        expect(fast.ok).toBe(full.ok);
        if (fast.ok && full.ok) expect(fast.text).toBe(full.prefix.text);
      }),
    );
  });

  it('an address parses to its canonical text and host prefix', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          u32.map(ipv4Text),
          u128.map((v) => ipv6Full(v, true)),
        ),
        (text) => {
          const parsed = parseAddress(text);
          if (!parsed.ok) throw new Error(parsed.reason);
          expect(parseAddress(parsed.text)).toEqual(parsed);
          expect(containsAddress(parsed.host, text)).toBe(true);
        },
      ),
    );
  });
});

describe('overlap and containment', () => {
  it('match the integer ranges, are symmetric, and CIDR ranges nest or are apart', () => {
    fc.assert(
      fc.property(nearbyPrefix, nearbyPrefix, (a, b) => {
        const [a0, a1] = range(a);
        const [b0, b1] = range(b);
        const sameFamily = a.family === b.family;
        expect(contains(a, b)).toBe(sameFamily && a0 <= b0 && b1 <= a1);
        expect(overlaps(a, b)).toBe(sameFamily && a0 <= b1 && b0 <= a1);
        expect(overlaps(a, b)).toBe(overlaps(b, a));
        expect(overlaps(a, b)).toBe(contains(a, b) || contains(b, a));
        expect(contains(a, b) && contains(b, a)).toBe(a.text === b.text);
        expect(spansOverlap(spanOf(a), spanOf(b))).toBe(overlaps(a, b));
      }),
    );
  });

  it('every prefix contains itself and its own addresses, not the one past its end', () => {
    fc.assert(
      fc.property(ipv4Prefix, ({ value, length, text }) => {
        const p = prefix(text);
        expect(contains(p, p)).toBe(true);
        expect(containsAddress(p, ipv4Text(value))).toBe(true);
        const last = value + 2 ** (32 - length) - 1;
        expect(containsAddress(p, ipv4Text(last))).toBe(true);
        if (last < 2 ** 32 - 1) expect(containsAddress(p, ipv4Text(last + 1))).toBe(false);
      }),
    );
  });
});

describe('IPv4-mapped IPv6', () => {
  it('::ffff:a.b.c.d/(96+n) stands for a.b.c.d/n and spans the same range', () => {
    fc.assert(
      fc.property(ipv4Prefix, ({ text, length, value }) => {
        const mapped = parsePrefix(`::ffff:${ipv4Text(value)}/${96 + length}`);
        if (!mapped.ok) throw new Error(mapped.reason);
        expect(mapped.prefix.family).toBe(6);
        expect(unmappedIpv4(mapped.prefix)).toEqual(prefix(text));
        expect(spanOf(mapped.prefix)).toEqual(spanOf(prefix(text)));
        expect(unmappedIpv4(prefix(text))).toBeUndefined();
      }),
    );
  });

  it('::a.b.c.d (IPv4-compatible) is not read as mapped', () => {
    fc.assert(
      fc.property(u32, (value) => {
        fc.pre(value >= 2 ** 16); // below that, ::a.b.c.d and ::x are the same text
        const parsed = parsePrefix(`::${ipv4Text(value)}/128`);
        if (!parsed.ok) throw new Error(parsed.reason);
        expect(parsed.prefix.network).toBe(BigInt(value));
        expect(unmappedIpv4(parsed.prefix)).toBeUndefined();
      }),
    );
  });

  it('no other IPv6 prefix unmaps', () => {
    fc.assert(
      fc.property(ipv6Prefix, ({ value, length }) => {
        const p = prefix(`${ipv6Full(value)}/${length}`);
        const isMapped = length >= 96 && value >> 32n === 0xffffn;
        expect(unmappedIpv4(p) !== undefined).toBe(isMapped);
      }),
    );
  });
});
