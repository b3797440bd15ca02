import { describe, expect, it } from 'vitest';
import { canonicalText, containsAddress, overlaps, parsePrefix, prefix } from '../../src/core/cidr.js';

describe('parsePrefix', () => {
  it.each([
    ['10.1.1.0/24', '10.1.1.0/24'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['10.1.1.7/32', '10.1.1.7/32'],
    ['2001:db8:0:0::/64', '2001:db8::/64'],
    ['2001:DB8::/48', '2001:db8::/48'],
  ])('accepts %s as %s', (input, canonical) => {
    const result = parsePrefix(input);
    expect(result).toMatchObject({ ok: true, prefix: { text: canonical } });
  });

  it.each([
    ['10.1.1.5/24', 'host bits set; did you mean 10.1.1.0/24'],
    ['2001:db8::1/64', 'did you mean 2001:db8::/64'],
    ['10.1.1.0', 'not a CIDR'],
    ['10.1.1.0/33', 'not a valid CIDR'],
    ['300.1.1.0/24', 'not a valid CIDR'],
    ['', 'not a CIDR'],
    ['010.1.1.0/24', 'four decimal octets'],
    ['0xa.0.0.0/8', 'four decimal octets'],
    ['167772160/8', 'four decimal octets'],
  ])('refuses %s', (input, reason) => {
    const result = parsePrefix(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain(reason);
  });
});

describe('overlaps', () => {
  it.each([
    ['10.1.0.0/16', '10.1.1.0/24', true],
    ['10.1.1.0/24', '10.1.0.0/16', true],
    ['10.1.1.0/24', '10.1.2.0/24', false],
    ['10.1.1.0/24', '10.1.1.0/24', true],
    ['10.0.0.0/8', '2001:db8::/32', false],
    ['2001:db8::/32', '2001:db8:1::/48', true],
  ])('%s and %s -> %s', (a, b, expected) => {
    expect(overlaps(prefix(a), prefix(b))).toBe(expected);
  });

  it('tests single addresses', () => {
    expect(containsAddress(prefix('10.99.0.0/24'), '10.99.0.11')).toBe(true);
    expect(containsAddress(prefix('10.99.0.0/24'), '10.98.0.11')).toBe(false);
    expect(containsAddress(prefix('10.99.0.0/24'), 'not-an-ip')).toBe(false);
  });
});

describe('canonicalText agrees with parsePrefix', () => {
  it.each([
    '10.1.1.0/24',
    '10.1.1.5/24',
    '010.1.1.0/24',
    '10.1.1.0/024',
    '0.0.0.0/0',
    '255.255.255.255/32',
    '256.1.1.0/24',
    '10.1.1.0/33',
    '2001:DB8::/32',
    'garbage',
  ])('%s', (input) => {
    const full = parsePrefix(input);
    const fast = canonicalText(input);
    expect(fast.ok).toBe(full.ok);
    if (fast.ok && full.ok) expect(fast.text).toBe(full.prefix.text);
  });
});
