import { z } from 'zod';

/*
 * Rules that tie an object's fields together, as zod refinements with messages that name the
 * field and say why (a zod union or record would only say "Invalid input").
 */

/**
 * Exactly one of an object's alternative keys: names the conflict when several are given and the
 * choices when none is, where a zod union would only say "Invalid input".
 */
export function exactlyOne(keys: readonly string[]) {
  return (value: Record<string, unknown>, ctx: z.RefinementCtx) => {
    const given = keys.filter((k) => value[k] !== undefined);
    const choices = keys.map((k) => `"${k}"`).join(' or ');
    if (given.length > 1) ctx.addIssue({ code: 'custom', message: `give ${choices}, not both` });
    if (given.length === 0) ctx.addIssue({ code: 'custom', message: `needs ${choices}` });
  };
}

/** Cross-field rules run once every field passed: no second message about a value already refused. */
export const whenValid = { when: (payload: z.core.ParsePayload) => payload.issues.length === 0 };

/** `first < second` for two fields of one object, reported on the second. */
export function before<K extends string>(first: K, second: K, why: string) {
  return (value: Record<K, number>, ctx: z.RefinementCtx) => {
    if (value[first] >= value[second]) {
      ctx.addIssue({
        code: 'custom',
        path: [second],
        message: `must be above ${first} (${value[second]} <= ${value[first]}): ${why}`,
      });
    }
  };
}

/** `first <= second` for two fields of one object, reported on the first. */
export function atMost<K extends string>(first: K, second: K, why: string) {
  return (value: Record<K, number>, ctx: z.RefinementCtx) => {
    if (value[first] > value[second]) {
      ctx.addIssue({
        code: 'custom',
        path: [first],
        message: `must be at most ${second} (${value[first]} > ${value[second]}): ${why}`,
      });
    }
  };
}

/**
 * A record whose keys must match `pattern`, the bad key named in the path (zod's own key check
 * only says "Invalid key in record").
 */
export function recordWithKeys<V extends z.ZodType>(pattern: RegExp, message: string, value: V) {
  return z.record(z.string(), value).superRefine((entries, ctx) => {
    for (const key of Object.keys(entries)) {
      if (!pattern.test(key)) ctx.addIssue({ code: 'custom', path: [key], message });
    }
  });
}
