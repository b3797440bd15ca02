import { z } from 'zod';
import { name } from '../../config/fields.js';
import type { Problem } from '../../errors.js';

/** The annotations an operator may put on an LB pod. */
export const ANNOTATIONS = {
  /** Comma-separated service names this pod serves; every configured service when absent. */
  services: 'portlb.io/services',
  /** Order for single-target choice (lowest wins); the node name when absent. */
  rank: 'portlb.io/rank',
  /** `"true"` takes the pod out of rotation without deleting it (maintenance). */
  disabled: 'portlb.io/disabled',
} as const;

export interface LbAnnotations {
  readonly services?: readonly string[] | undefined;
  readonly rank?: string | undefined;
  readonly disabled: boolean;
}

const PREFIX = 'portlb.io/';

/** The API server's limit on all of an object's annotations together (256 KiB). */
const MAX_VALUE = 256 * 1024;

const keys: readonly string[] = Object.values(ANNOTATIONS);

/** Each problem names its annotation (the path) and, in a list, which item. */
function schema(knownServices: readonly string[]) {
  const known = new Set(knownServices);
  return z.object({
    [ANNOTATIONS.services]: z
      .string()
      .superRefine((text, ctx) => {
        if (text.length > MAX_VALUE) {
          ctx.addIssue({
            code: 'custom',
            message: `is ${text.length} characters; annotations hold at most ${MAX_VALUE}`,
          });
          return;
        }
        const items = text.split(',').map((s) => s.trim());
        const seen = new Set<string>();
        for (const [i, item] of items.entries()) {
          const at = items.length > 1 ? `item ${i + 1} ` : '';
          const problem =
            item === ''
              ? `${at}is empty: a comma-separated list of service names`
              : !name.safeParse(item).success
                ? `${at}"${item.slice(0, 64)}" is not a service name (a DNS label)`
                : !known.has(item)
                  ? `${at}names service "${item}", which is not configured`
                  : seen.has(item)
                    ? `${at}names service "${item}" twice`
                    : undefined;
          seen.add(item);
          if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
        }
      })
      .transform((text) => text.split(',').map((s) => s.trim()))
      .optional(),
    [ANNOTATIONS.rank]: z
      .string()
      .regex(/^[0-9A-Za-z][-0-9A-Za-z_.]{0,62}$/, 'must be 1-63 letters, digits, "-", "_" or "."')
      .optional(),
    [ANNOTATIONS.disabled]: z.enum(['true', 'false'], { error: 'must be "true" or "false"' }).optional(),
  });
}

/** The known annotation a misspelt one most likely means: same words, or one edit away. */
function didYouMean(key: string): string {
  const bare = (k: string) => k.slice(PREFIX.length).replace(/[^a-z]/g, '');
  const words = bare(key);
  const close =
    words === '' ? undefined : keys.find((k) => bare(k).startsWith(words) || words.startsWith(bare(k)));
  return close === undefined ? `portlb reads ${keys.join(', ')}` : `did you mean ${close}?`;
}

export type AnnotationResult =
  | { readonly ok: true; readonly value: LbAnnotations }
  | { readonly ok: false; readonly problems: readonly Problem[] };

const NONE: AnnotationResult = { ok: true, value: { disabled: false } };

// Building a zod schema costs far more than using one, and this runs for every LB pod on every
// change: keep the schema for the last list of services.
let cached: { key: string; schema: ReturnType<typeof schema> } | undefined;
function schemaFor(knownServices: readonly string[]): ReturnType<typeof schema> {
  const key = knownServices.join(',');
  if (cached?.key !== key) cached = { key, schema: schema(knownServices) };
  return cached.schema;
}

/**
 * Parses portlb's annotations on an LB pod (`portlb.io/...`); others are not portlb's business. An
 * unknown `portlb.io/` annotation is refused too: a misspelt `portlb.io/disable` would otherwise
 * leave in rotation a pod its operator took out. Every problem is named by its annotation.
 */
export function parseAnnotations(
  annotations: Readonly<Record<string, string>>,
  knownServices: readonly string[],
): AnnotationResult {
  const own = Object.keys(annotations).filter((k) => k.startsWith(PREFIX));
  if (own.length === 0) return NONE;
  const unknown: Problem[] = own
    .filter((k) => !keys.includes(k))
    .map((k) => ({ path: k.slice(0, 253), message: `is not an annotation portlb reads; ${didYouMean(k)}` }));
  const result = schemaFor(knownServices).safeParse(annotations);
  const problems = [
    ...(result.success
      ? []
      : result.error.issues.map((issue) => ({
          path: String(issue.path[0] ?? '(annotations)'),
          message: issue.message,
        }))),
    ...unknown,
  ];
  if (!result.success || problems.length > 0) return { ok: false, problems };
  const data = result.data;
  return {
    ok: true,
    value: {
      services: data[ANNOTATIONS.services],
      rank: data[ANNOTATIONS.rank],
      disabled: data[ANNOTATIONS.disabled] === 'true',
    },
  };
}
