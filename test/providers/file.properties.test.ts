import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse as parseYamlText, stringify } from 'yaml';
import { anyInput } from '../../fuzz/event-arbitraries.js';
import { brokenRoutes, MODES, validRoutes } from '../../fuzz/routes-arbitraries.js';
import { awsMode } from '../../src/modes/aws/index.js';
import { bgpMode } from '../../src/modes/bgp/index.js';
import { gcpMode } from '../../src/modes/gcp/index.js';
import { parseRoutes } from '../../src/providers/file.js';

/*
 * The observed-routes file's edge (src/providers/file.ts): it reads anything without throwing,
 * accepts every well-formed file and reads it back the same (through JSON and YAML), and refuses
 * every file broken in one entry, naming that entry's index and field.
 */

const rules = new Map(MODES.map((m) => [m, { tables: m.tables, target: m.target }]));
const rulesOf = (m: (typeof MODES)[number]) => rules.get(m)!;

describe('parseRoutes', () => {
  it('uses the target form each mode descriptor declares', () => {
    expect(MODES.map((m) => m.target)).toEqual([
      bgpMode.targetField,
      awsMode.targetField,
      gcpMode.targetField,
    ]);
  });

  it('never throws, whatever it is given', () => {
    fc.assert(
      fc.property(anyInput, fc.constantFrom(...MODES), (input, mode) => {
        const result = parseRoutes(input, rulesOf(mode));
        if (!result.ok) {
          expect(result.problems.length).toBeGreaterThan(0);
          for (const p of result.problems) expect(p.path.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('accepts every well-formed file, and reads it back the same through JSON and YAML', () => {
    fc.assert(
      fc.property(validRoutes, ({ mode, routes }) => {
        const result = parseRoutes(routes, rulesOf(mode));
        expect(result).toEqual({
          ok: true,
          routes: routes.map((r) => ({ ...r, state: r.state ?? 'active' })),
        });
        if (!result.ok) return;
        expect(parseRoutes(JSON.parse(JSON.stringify(result.routes)), rulesOf(mode))).toEqual(result);
        expect(parseRoutes(parseYamlText(stringify(result.routes)), rulesOf(mode))).toEqual(result);
      }),
      { numRuns: 500 },
    );
  });

  it('refuses every file broken in one entry, naming its index and field', () => {
    fc.assert(
      fc.property(brokenRoutes, ({ mode, document, path, what }) => {
        const result = parseRoutes(document, rulesOf(mode));
        expect(result.ok, what).toBe(false);
        if (!result.ok)
          expect(
            result.problems.map((p) => p.path),
            what,
          ).toContain(path);
      }),
      { numRuns: 1000 },
    );
  });
});
