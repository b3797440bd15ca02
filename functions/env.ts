import { z } from 'zod';
import { formatPath } from '../src/config/load.js';
import type { Problem } from '../src/errors.js';

/*
 * What the AWS and GCP functions share in reading their environment: the text forms of lists and
 * numbers, blank meaning unset, and problems named `env.NAME` (`env.PORTLB_VIPS[1]`). The values
 * themselves are checked with the config file's field schemas, so that a value the sidecar accepts
 * the functions accept too, and one it refuses they refuse the same way.
 */

export type EnvResult<C> =
  | { readonly ok: true; readonly config: C }
  | { readonly ok: false; readonly problems: Problem[] };

/** A variable set to blank (a template that leaves one empty) counts as not set. */
const blankIsUnset = (value: unknown) =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

/** `a, b,c` -> each item checked with `item` (problems at `NAME[i]`). */
export function commaList<T extends z.ZodType<unknown, string>>(item: T) {
  return z
    .string()
    .transform((text) =>
      text
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    )
    .pipe(z.array(item));
}

/** A number written as text, then checked with `field` (the config's own bounds). */
export function envNumber<T extends z.ZodType<number, number>>(field: T) {
  return z
    .string()
    .trim()
    .regex(/^-?(\d+(\.\d*)?|\.\d+)$/, 'must be a number')
    .transform(Number)
    .pipe(field);
}

/** The problems of one failed parse, each at `env.NAME`, the object itself at `env`. */
function envProblems(error: z.ZodError): Problem[] {
  return error.issues.map((issue) => ({
    path: issue.path.length === 0 ? 'env' : `env.${formatPath(issue.path)}`,
    message: issue.message,
  }));
}

/**
 * Reads an environment with `schema` (an object of variables; blank ones are unset) and builds the
 * function's config from it. Never throws: a bad environment comes back as every problem at once.
 */
export function parseEnv<S extends z.ZodType, C>(
  schema: S,
  env: NodeJS.ProcessEnv,
  build: (values: z.output<S>) => C,
): EnvResult<C> {
  const present = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, blankIsUnset(v)]));
  const parsed = schema.safeParse(present, {
    error: (issue) => (issue.code === 'invalid_type' && issue.input === undefined ? 'is not set' : undefined),
  });
  return parsed.success
    ? { ok: true, config: build(parsed.data) }
    : { ok: false, problems: envProblems(parsed.error) };
}
