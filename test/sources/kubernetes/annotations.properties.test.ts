import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { brokenAnnotations, validAnnotations } from '../../../fuzz/annotation-arbitraries.js';
import { parseAnnotations } from '../../../src/sources/kubernetes/annotations.js';

/*
 * The annotations edge: any string map reads without throwing; a well-formed set reads as what it
 * says (services in order, rank, disabled); one broken annotation refuses the set, naming it.
 */

describe('parseAnnotations', () => {
  it('never throws on any string map', () => {
    const key = fc.oneof(
      fc.string(),
      fc.string().map((s) => `portlb.io/${s}`),
    );
    fc.assert(
      fc.property(
        fc.dictionary(key, fc.string()),
        fc.array(fc.string(), { maxLength: 4 }),
        (annotations, known) => {
          const result = parseAnnotations(annotations, known);
          if (!result.ok) for (const p of result.problems) expect(p.path.startsWith('portlb.io/')).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('reads every well-formed set as what it says', () => {
    fc.assert(
      fc.property(validAnnotations, ({ known, annotations, value }) => {
        expect(parseAnnotations(annotations, known)).toEqual({ ok: true, value });
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a set with one broken annotation, naming that annotation', () => {
    fc.assert(
      fc.property(brokenAnnotations, ({ known, annotations, annotation, what }) => {
        const result = parseAnnotations(annotations, known);
        expect(result.ok, what).toBe(false);
        const named = result.ok ? [] : [...new Set(result.problems.map((p) => p.path))];
        expect(named, what).toEqual([annotation]);
      }),
      { numRuns: 500 },
    );
  });
});
