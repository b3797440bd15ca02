import { describe, expect, it } from 'vitest';
import { flowBucket, flowKeyBytes, jhash, reciprocalScale } from '../../src/core/jhash.js';

const text = (s: string) => new TextEncoder().encode(s);

describe('jhash (lookup3, as the kernel computes it)', () => {
  it.each([
    // Bob Jenkins' own test values for hashlittle() in lookup3.c.
    ['', 0, 0xdeadbeef],
    ['', 0xdeadbeef, 0xbd5b7dde],
    ['Four score and seven years ago', 0, 0x17770551],
    ['Four score and seven years ago', 1, 0xcd628161],
  ])('hashes %j with initval %i to the reference value', (input, initval, expected) => {
    expect(jhash(text(input), initval)).toBe(expected);
  });

  it('treats every tail length (1 to 12 bytes after the last full block) as the kernel does', () => {
    // A changed byte anywhere in the key changes the hash; bytes past the end are not read.
    const key = Uint8Array.from({ length: 25 }, (_, i) => i * 7 + 1);
    for (let length = 1; length <= key.length; length++) {
      const base = jhash(key.subarray(0, length), 42);
      for (let at = 0; at < length; at++) {
        const changed = key.slice(0, length);
        changed[at] = (changed[at]! + 1) & 0xff;
        expect(jhash(changed, 42)).not.toBe(base);
      }
    }
  });

  it('scales like the kernel: (hash * M) >> 32, always below M', () => {
    expect(reciprocalScale(0, 4093)).toBe(0);
    expect(reciprocalScale(0xffffffff, 4093)).toBe(4092);
    expect(reciprocalScale(0x80000000, 65537)).toBe(32768);
  });
});

describe('flowBucket (nft jhash ip saddr . tcp sport . ip daddr . tcp dport)', () => {
  it('lays the flow out as four 32-bit registers, ports padded with zeros', () => {
    expect([...flowKeyBytes({ saddr: '10.1.1.1', sport: 0x1234, daddr: '10.1.1.7', dport: 80 })]).toEqual([
      10, 1, 1, 1, 0x12, 0x34, 0, 0, 10, 1, 1, 7, 0, 80, 0, 0,
    ]);
  });

  // Measured from the kernel: nft's `meta mark set jhash ... mod 4093 seed 0x5eed` for these
  // connections from 10.1.1.1 to 10.1.1.7:80, recorded in a dynamic set and read with `nft -j`.
  it.each([
    [40001, 927],
    [40002, 975],
    [40003, 3416],
    [51234, 63],
    [60000, 1753],
  ])('puts source port %i in the bucket the kernel chose (%i)', (sport, bucket) => {
    expect(flowBucket({ saddr: '10.1.1.1', sport, daddr: '10.1.1.7', dport: 80 }, 4093, 0x5eed)).toBe(bucket);
  });

  it('refuses what is not an IPv4 address', () => {
    expect(() => flowBucket({ saddr: '2001:db8::1', sport: 1, daddr: '10.1.1.7', dport: 80 }, 7, 0)).toThrow(
      RangeError,
    );
  });
});
