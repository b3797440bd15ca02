import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { mutation, validConfig } from '../../fuzz/config-arbitraries.js';
import { parseConfig } from '../../src/config/load.js';
import { parseYaml } from '../../src/config/yaml.js';
import { ConfigError, type Problem } from '../../src/errors.js';

/*
 * The config parser as a whole: whatever valid document it is given (every mode, most options)
 * it accepts, also after a trip through YAML; whatever a mutation breaks, it refuses with a
 * ConfigError (what the CLI turns into exit 2) whose problems name the broken field.
 */

function outcome(document: unknown): { ok: true } | { ok: false; problems: readonly Problem[] } {
  try {
    parseConfig(document, {});
    return { ok: true };
  } catch (error) {
    if (error instanceof ConfigError) return { ok: false, problems: error.problems };
    throw error; // anything else would be a crash with a stack trace
  }
}

describe('parseConfig on generated documents', () => {
  it('accepts every valid config, as an object and as YAML text, to the same result', () => {
    fc.assert(
      fc.property(validConfig, (document) => {
        expect(outcome(document)).toEqual({ ok: true });
        const again = parseYaml(stringify(document), 'generated.yaml');
        expect(parseConfig(again, {})).toEqual(parseConfig(document, {}));
      }),
      { numRuns: 300 },
    );
  });

  it('refuses every mutated config, naming the field that was broken', () => {
    const mutated = validConfig.chain((document) => mutation(document));
    fc.assert(
      fc.property(mutated, ({ document, path, what }) => {
        const result = outcome(document);
        expect(result.ok, what).toBe(false);
        if (result.ok) return;
        const named = result.problems.filter(
          (p) => p.path === path || p.path.startsWith(`${path}.`) || p.path.startsWith(`${path}[`),
        );
        expect(named, `${what} at ${path}: ${JSON.stringify(result.problems)}`).not.toEqual([]);
        for (const problem of result.problems) expect(problem.message.length).toBeGreaterThan(0);
      }),
      { numRuns: 1000 },
    );
  });
});
