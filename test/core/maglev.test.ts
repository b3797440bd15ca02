import { describe, expect, it } from 'vitest';
import {
  backendAt,
  buildMaglevTable,
  checkTableSize,
  entriesPerBackend,
  isPrime,
  movedFraction,
  permutationOf,
  populate,
  tableFingerprint,
} from '../../src/core/maglev.js';

const names = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `10.98.0.${from + i + 1}:8080`);

describe('Maglev population (NSDI 2016, §3.4)', () => {
  // The paper's worked example: three backends, M = 7, permutations
  // B0 = 3 0 4 1 5 2 6, B1 = 0 2 4 6 1 3 5, B2 = 3 4 5 6 0 1 2.
  const B0 = { offset: 3, skip: 4 };
  const B1 = { offset: 0, skip: 2 };
  const B2 = { offset: 3, skip: 1 };

  it.each([
    ['all three', [B0, B1, B2], [1, 0, 1, 0, 2, 2, 0]],
    ['without B1', [B0, B2], [0, 0, 0, 0, 1, 1, 1]],
    ['B0 alone', [B0], [0, 0, 0, 0, 0, 0, 0]],
  ])('fills the table from the permutations in turns: %s', (_name, perms, expected) => {
    expect([...populate(perms, 7)]).toEqual(expected);
  });

  it('is empty without backends', () => {
    const table = buildMaglevTable([], 7, 0);
    expect(backendAt(table, 3)).toBeUndefined();
  });
});

describe('Maglev table', () => {
  it.each([
    [2, 7],
    [3, 251],
    [10, 4093],
    [100, 16381],
    [1000, 65537],
  ])('gives each of %i backends M/N ± 1 of %i entries', (n, size) => {
    const counts = entriesPerBackend(buildMaglevTable(names(n), size, 0x5eed));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(size);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    expect(Math.min(...counts)).toBe(Math.floor(size / n));
  });

  it('is the same for the same list, size and seed, and differs with the seed', () => {
    const a = buildMaglevTable(names(5), 251, 1);
    expect(buildMaglevTable(names(5), 251, 1).entries).toEqual(a.entries);
    expect(tableFingerprint(buildMaglevTable(names(5), 251, 1))).toBe(tableFingerprint(a));
    expect(tableFingerprint(buildMaglevTable(names(5), 251, 2))).not.toBe(tableFingerprint(a));
    expect(tableFingerprint(buildMaglevTable(names(5), 257, 1))).not.toBe(tableFingerprint(a));
  });

  it.each([
    [4, 4093],
    [10, 16381],
    [50, 16381],
    [100, 65537],
  ])('moves about 1/N of the entries when one of %i backends is added or removed (M = %i)', (n, size) => {
    const before = buildMaglevTable(names(n), size, 0x5eed);
    const added = buildMaglevTable(names(n + 1), size, 0x5eed);
    const removed = buildMaglevTable(names(n - 1, 1), size, 0x5eed);
    // The ideal is 1/(N+1) for an add and 1/N for a removal; the goal allows 1/N + 5%.
    expect(movedFraction(before, added)).toBeGreaterThanOrEqual(1 / (n + 1) - 0.001);
    expect(movedFraction(before, added)).toBeLessThanOrEqual(1 / n + 0.05);
    expect(movedFraction(before, removed)).toBeGreaterThanOrEqual(1 / n - 0.001);
    expect(movedFraction(before, removed)).toBeLessThanOrEqual(1 / n + 0.05);
  });

  it('moves, on an add, only entries that go to the new backend', () => {
    const before = buildMaglevTable(names(8), 4093, 7);
    const after = buildMaglevTable(names(9), 4093, 7);
    for (let bucket = 0; bucket < 4093; bucket++) {
      const was = backendAt(before, bucket);
      const now = backendAt(after, bucket);
      // Maglev is not minimally disruptive: a few entries shuffle between old backends too.
      if (was !== now) expect(now === names(9)[8] || names(8).includes(now!)).toBe(true);
    }
    expect(movedFraction(before, after)).toBeLessThan(1 / 8 + 0.05);
  });

  it.each([
    [4, 3, 'Maglev table size 4 is not prime'],
    [7, 7, 'Maglev table size 7 must exceed the number of backends (7)'],
    [1, 0, 'Maglev table size 1 is not prime'],
  ])('refuses size %i for %i backends', (size, n, message) => {
    expect(checkTableSize(size, n)).toBe(message);
    expect(() => buildMaglevTable(names(n), size, 0)).toThrow(message);
  });

  it('refuses the same backend twice', () => {
    expect(() => buildMaglevTable(['a', 'a'], 7, 0)).toThrow('distinct');
  });

  it.each([
    [2, true],
    [7, true],
    [4093, true],
    [16381, true],
    [65537, true],
    [65535, false],
    [1, false],
    [9, false],
  ])('knows whether %i is prime', (n, prime) => {
    expect(isPrime(n)).toBe(prime);
  });

  it('walks every entry from any permutation (skip in 1..M-1)', () => {
    for (const name of names(20)) {
      const { offset, skip } = permutationOf(name, 251, 9);
      expect(skip).toBeGreaterThanOrEqual(1);
      expect(skip).toBeLessThan(251);
      const seen = new Set(Array.from({ length: 251 }, (_, j) => (offset + j * skip) % 251));
      expect(seen.size).toBe(251);
    }
  });
});
