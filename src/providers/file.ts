import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { cidr, name } from '../config/fields.js';
import { formatPath, parseYaml } from '../config/load.js';
import { decodeConfig } from '../config/text.js';
import type { ObservedRoute } from '../core/model.js';
import type { Provider } from '../core/ports.js';
import { ConfigError, type Problem } from '../errors.js';
import { createMemoryProvider } from './memory.js';

/*
 * A routes file: the observed routes `portlb plan --observed` diffs against, and the state
 * `sidecar --state` keeps. A YAML or JSON list, one route per entry:
 *
 *   - { table: bgp, vip: 10.1.1.0/24, target: 10.99.0.11, owner: lab }
 *   - { table: bgp, vip: 10.1.9.0/24, target: 10.99.0.50, owner: someone-else, state: blackhole }
 *
 * Every entry is checked with the config's own field schemas, and one bad entry refuses the whole
 * file, each problem named by index and field (`[3].vip`): a route the planner cannot read must
 * not silently drop out of the diff, nor a target it could never write be planned for deletion.
 */

/** What a routes file must hold for the config and mode it is read with. */
export interface RoutesFileRules {
  /** The tables the config manages; a route elsewhere is refused (the plan could not see it). */
  readonly tables?: readonly string[] | undefined;
  /** The mode's target ids (its descriptor's `targetField`); any non-empty text when absent. */
  readonly target?: z.ZodType<string> | undefined;
}

/** Far beyond any real table (EC2 allows 1,000 routes per table); a larger file is not a routes file. */
const MAX_FILE_BYTES = 64 * 1024 * 1024;

/** Text a provider reports as a handle (a GCP route name, AWS's record-only marker): bounded, printable. */
const handle = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[!-~]+$/, 'must be printable ASCII without spaces');

const anyTarget = handle;

const hasControl = (text: string) => [...text].some((c) => c.charCodeAt(0) < 0x20 || c === '\x7f');

function entrySchema(rules: RoutesFileRules) {
  const tables = rules.tables;
  const target = rules.target ?? anyTarget;
  return z
    .strictObject({
      table: z
        .string()
        .min(1)
        .max(2048)
        .refine((t) => (tables === undefined ? !hasControl(t) : tables.includes(t)), {
          error: (issue) =>
            tables === undefined
              ? 'must not contain control characters'
              : `"${String(issue.input)}" is not a table this config manages (${tables.join(', ') || 'none'})`,
        }),
      vip: cidr,
      /** Empty only for a blackhole whose target is gone (checked below, with the state). */
      target: z
        .string()
        .max(255)
        .superRefine((value, ctx) => {
          const checked = value === '' ? undefined : target.safeParse(value);
          for (const issue of checked?.success === false ? checked.error.issues : [])
            ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
        }),
      owner: name.optional(),
      state: z.enum(['active', 'blackhole']).default('active'),
      id: handle.optional(),
    })
    .superRefine((route, ctx) => {
      if (route.target === '' && route.state !== 'blackhole')
        ctx.addIssue({
          code: 'custom',
          path: ['target'],
          message: 'is empty; only a blackhole has no target',
        });
    });
}

/** Building a zod schema costs far more than using one: one per rules object. */
const schemas = new WeakMap<RoutesFileRules, z.ZodType<ObservedRoute[]>>();
function schemaFor(rules: RoutesFileRules): z.ZodType<ObservedRoute[]> {
  let schema = schemas.get(rules);
  if (schema === undefined) {
    schema = z.array(entrySchema(rules));
    schemas.set(rules, schema);
  }
  return schema;
}

const FIELDS = 'table, vip, target, owner, state, id';

function kindOf(value: unknown): string {
  if (value === null || value === undefined) return 'empty';
  return Array.isArray(value) ? 'a list' : typeof value === 'object' ? 'a mapping' : `a ${typeof value}`;
}

export type RoutesResult =
  | { readonly ok: true; readonly routes: ObservedRoute[] }
  | { readonly ok: false; readonly problems: Problem[] };

/**
 * A parsed routes document (an empty one is no routes) as observed routes, or every problem with
 * its path. Never throws.
 */
export function parseRoutes(document: unknown, rules: RoutesFileRules = {}): RoutesResult {
  if (document === null || document === undefined) return { ok: true, routes: [] };
  if (!Array.isArray(document)) {
    return {
      ok: false,
      problems: [
        {
          path: '(root)',
          message: `a routes file is a list of routes ({${FIELDS}}); this one is ${kindOf(document)}`,
        },
      ],
    };
  }
  const parsed = schemaFor(rules).safeParse(document);
  if (!parsed.success) {
    // An unknown key is named as a field of its own, where zod names only the entry.
    const problems = parsed.error.issues.flatMap((i): Problem[] =>
      i.code === 'unrecognized_keys'
        ? i.keys.map((key) => ({
            path: formatPath([...i.path, key]),
            message: `not a field of a route (${FIELDS})`,
          }))
        : [{ path: formatPath(i.path), message: i.message }],
    );
    return { ok: false, problems };
  }
  return { ok: true, routes: parsed.data };
}

async function readBytes(path: string, missingOk: boolean): Promise<Uint8Array | undefined> {
  const refuse = (message: string, cause?: unknown) =>
    new ConfigError(`cannot read routes file ${path}`, [{ path, message }], { cause });
  try {
    const info = await stat(path);
    if (!info.isFile() && !info.isFIFO()) throw refuse('is not a regular file');
    if (info.size > MAX_FILE_BYTES)
      throw refuse(`is ${info.size} bytes; a routes file is at most ${MAX_FILE_BYTES}`);
    return await readFile(path);
  } catch (cause) {
    if (cause instanceof ConfigError) throw cause;
    if (missingOk && (cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw refuse((cause as Error).message, cause);
  }
}

/**
 * Reads a routes file (YAML or JSON); ConfigError with every problem when it is not one. A missing
 * file is an empty table with `missingOk` (a state file before the first run).
 */
export async function readRoutesFile(
  path: string,
  options: RoutesFileRules & { readonly missingOk?: boolean } = {},
): Promise<ObservedRoute[]> {
  const bytes = await readBytes(path, options.missingOk ?? false);
  if (bytes === undefined) return [];
  let document: unknown;
  try {
    document = parseYaml(decodeConfig(bytes, path), path);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new ConfigError(`cannot read routes file ${path}`, error.problems, { cause: error });
  }
  const result = parseRoutes(document, options);
  if (!result.ok) {
    const count = result.problems.length === 1 ? '1 problem' : `${result.problems.length} problems`;
    throw new ConfigError(`invalid routes file ${path}: ${count}`, result.problems);
  }
  return result.routes;
}

/** A memory provider persisted to a JSON file after every apply (atomically, via rename). */
export async function createFileProvider(options: {
  path: string;
  tables: readonly string[];
  owner: string;
}): Promise<Provider<undefined>> {
  const memory = createMemoryProvider({
    ...options,
    routes: await readRoutesFile(options.path, { missingOk: true }),
  });
  return {
    ...memory,
    name: 'file',
    async apply(changes, context) {
      const results = await memory.apply(changes, context);
      const temp = `${options.path}.tmp-${process.pid}`;
      await writeFile(temp, `${JSON.stringify(memory.routes(), null, 2)}\n`);
      await rename(temp, options.path);
      return results;
    },
  };
}
