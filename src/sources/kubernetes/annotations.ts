import { z } from 'zod';
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

const label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function schema(knownServices: readonly string[]) {
  return z.object({
    [ANNOTATIONS.services]: z
      .string()
      .transform((text) => text.split(',').map((s) => s.trim()))
      .pipe(
        z
          .array(
            z
              .string()
              .regex(label, 'must be a comma-separated list of service names')
              .refine((s) => knownServices.includes(s), {
                error: (issue) => `names service "${String(issue.input)}", which is not configured`,
              }),
          )
          .min(1),
      )
      .optional(),
    [ANNOTATIONS.rank]: z
      .string()
      .regex(/^[0-9A-Za-z][-0-9A-Za-z_.]{0,62}$/, 'must be 1-63 letters, digits, "-", "_" or "."')
      .optional(),
    [ANNOTATIONS.disabled]: z.enum(['true', 'false'], { error: 'must be "true" or "false"' }).optional(),
  });
}

export type AnnotationResult =
  | { readonly ok: true; readonly value: LbAnnotations }
  | { readonly ok: false; readonly problems: readonly Problem[] };

/** Parses portlb's annotations on an LB pod; other annotations are ignored. Problems name the annotation. */
const NONE: AnnotationResult = { ok: true, value: { disabled: false } };
const keys: readonly string[] = Object.values(ANNOTATIONS);

// Building a zod schema costs far more than using one, and this runs for every LB pod on every
// change: keep the schema for the last list of services.
let cached: { key: string; schema: ReturnType<typeof schema> } | undefined;
function schemaFor(knownServices: readonly string[]): ReturnType<typeof schema> {
  const key = knownServices.join(',');
  if (cached?.key !== key) cached = { key, schema: schema(knownServices) };
  return cached.schema;
}

export function parseAnnotations(
  annotations: Readonly<Record<string, string>>,
  knownServices: readonly string[],
): AnnotationResult {
  if (!keys.some((k) => k in annotations)) return NONE;
  const result = schemaFor(knownServices).safeParse(annotations);
  if (!result.success) {
    return {
      ok: false,
      problems: result.error.issues.map((issue) => ({
        path: String(issue.path[0] ?? '(annotations)'),
        message: issue.message,
      })),
    };
  }
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
