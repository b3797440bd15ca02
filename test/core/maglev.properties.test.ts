import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  backendAt,
  buildMaglevTable,
  DEFAULT_TABLE_SIZE,
  entriesPerBackend,
  type MaglevTable,
  movedFraction,
} from '../../src/core/maglev.js';

/*
 * Properties of the Maglev table over random backend sets, seeds and prime sizes: balance within
 * one entry, determinism, and bounded disruption on a single add or removal. The disruption bound
 * (1/N + 5%) needs M >> N (the paper: M > 100 N): at M = 251 a fair share of random sets of up to
 * 25 backends break it (two backends that draw the same skip walk the same permutation and trade
 * entries), at M = 4093 a few in a thousand do (worst seen 1/N + 5.1%), at 16381 (the default)
 * none of 1,000 did (worst 1/N + 3.5%). So the bound is checked at the default size and above.
 */

const SIZES = [DEFAULT_TABLE_SIZE, 65_537];
const SMALL_SIZES = [251, 1021, 4093];
const backendSet = fc.uniqueArray(
  fc
    .tuple(fc.integer({ min: 1, max: 254 }), fc.integer({ min: 1, max: 254 }))
    .map(([a, b]) => `10.98.${a}.${b}:8080`),
  { minLength: 2, maxLength: 24 },
);
const seed = fc.integer({ min: 0, max: 2 ** 32 - 1 });
const params = fc.record({ backends: backendSet, seed, size: fc.constantFrom(...SIZES) });
const anySize = fc.record({ backends: backendSet, seed, size: fc.constantFrom(...SMALL_SIZES) });

/** Share of buckets that moved from one backend to another, neither of them `changed`. */
function collateral(before: MaglevTable, after: MaglevTable, changed: string): number {
  let moved = 0;
  for (let bucket = 0; bucket < before.size; bucket++) {
    const was = backendAt(before, bucket);
    const now = backendAt(after, bucket);
    if (was !== now && was !== changed && now !== changed) moved++;
  }
  return moved / before.size;
}

describe('Maglev table properties', () => {
  it('balances every backend within one entry and fills every bucket', () => {
    fc.assert(
      fc.property(anySize, ({ backends, seed, size }) => {
        const counts = entriesPerBackend(buildMaglevTable(backends, size, seed));
        expect(counts.reduce((a, b) => a + b, 0)).toBe(size);
        expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
      }),
    );
  });

  it('depends on the list, the seed and the size only', () => {
    fc.assert(
      fc.property(anySize, ({ backends, seed, size }) => {
        expect(buildMaglevTable([...backends], size, seed).entries).toEqual(
          buildMaglevTable(backends, size, seed).entries,
        );
      }),
    );
  });

  it('moves at most 1/N + 5% of the buckets when one backend is added or removed', () => {
    fc.assert(
      fc.property(params, fc.nat(), fc.nat(), ({ backends, seed, size }, at, pick) => {
        // The data plane keeps backends in canonical order, so a new one lands anywhere in the list.
        const all = [...backends].sort();
        const extra = all[at % all.length]!;
        const rest = all.filter((b) => b !== extra);
        const before = buildMaglevTable(rest, size, seed);
        const added = buildMaglevTable(all, size, seed);
        expect(movedFraction(before, added)).toBeLessThanOrEqual(1 / rest.length + 0.05);
        if (rest.length < 2) return;
        const gone = rest[pick % rest.length]!;
        const removed = buildMaglevTable(
          rest.filter((b) => b !== gone),
          size,
          seed,
        );
        expect(movedFraction(before, removed)).toBeLessThanOrEqual(1 / rest.length + 0.05);
        // What moves is mostly the changed backend's own share: flows between survivors stay put.
        expect(collateral(before, added, extra)).toBeLessThanOrEqual(0.05);
        expect(collateral(before, removed, gone)).toBeLessThanOrEqual(0.05);
      }),
      { numRuns: 60 },
    );
  });
});
