import fc from 'fast-check';

/*
 * portlb's annotations on an LB pod (src/sources/kubernetes/annotations.ts): well-formed sets for
 * a list of configured services, and one annotation broken. Shared by the property tests and the
 * fuzz script.
 */

const label = fc.stringMatching(/^[a-z]([-a-z0-9]{0,12}[a-z0-9])?$/);

/** Configured services, the annotations of a pod, and what they must read as. */
export const validAnnotations = fc.uniqueArray(label, { minLength: 1, maxLength: 6 }).chain((known) =>
  fc
    .record(
      {
        services: fc.subarray(known, { minLength: 1 }),
        separator: fc.constantFrom(',', ', ', ' , '),
        rank: fc.stringMatching(/^[0-9A-Za-z][-0-9A-Za-z_.]{0,20}$/),
        disabled: fc.boolean(),
        other: fc.dictionary(
          fc.stringMatching(/^[a-z]{1,8}\.io\/[a-z]{1,8}$/),
          fc.string({ maxLength: 20 }),
          {
            maxKeys: 3,
          },
        ),
      },
      { requiredKeys: ['separator', 'other'] },
    )
    .map((a) => ({
      known,
      annotations: {
        ...Object.fromEntries(Object.entries(a.other).filter(([k]) => !k.startsWith('portlb.io/'))),
        ...(a.services && { 'portlb.io/services': a.services.join(a.separator) }),
        ...(a.rank !== undefined && { 'portlb.io/rank': a.rank }),
        ...(a.disabled !== undefined && { 'portlb.io/disabled': String(a.disabled) }),
      } as Record<string, string>,
      value: { services: a.services, rank: a.rank, disabled: a.disabled ?? false },
    })),
);

/** The same, one annotation broken: the problem must name `annotation`. */
export const brokenAnnotations = validAnnotations.chain(({ known, annotations }) =>
  fc
    .constantFrom<[string, string, string]>(
      ['portlb.io/services', `${known[0]},not-configured-zz`, 'a service not configured'],
      ['portlb.io/services', `${known[0]},,${known[0]}`, 'an empty item'],
      ['portlb.io/services', `${known[0]},${known[0]}`, 'a service twice'],
      ['portlb.io/services', known[0]!.toUpperCase(), 'not a DNS label'],
      ['portlb.io/services', '', 'empty'],
      ['portlb.io/services', 'a,'.repeat(140_000), 'longer than annotations can be'],
      ['portlb.io/rank', 'not ok!', 'a rank with a space'],
      ['portlb.io/rank', 'r'.repeat(64), 'a rank of 64 characters'],
      ['portlb.io/disabled', 'yes', 'disabled: yes'],
      ['portlb.io/disabled', 'TRUE', 'disabled: TRUE'],
      ['portlb.io/disable', 'true', 'a misspelt annotation'],
      ['portlb.io/weight', '3', 'an annotation portlb does not read'],
    )
    .map(([annotation, value, what]) => ({
      known,
      annotations: { ...annotations, [annotation]: value },
      annotation,
      what,
    })),
);
