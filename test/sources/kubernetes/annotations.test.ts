import { describe, expect, it } from 'vitest';
import { parseAnnotations } from '../../../src/sources/kubernetes/annotations.js';

const KNOWN = ['web', 'api'];
const said = (annotations: Record<string, string>) => {
  const result = parseAnnotations(annotations, KNOWN);
  return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
};

describe('parseAnnotations', () => {
  it.each([
    [{}, { disabled: false }],
    [{ 'app.kubernetes.io/name': 'lb', 'example.com/x': '!!' }, { disabled: false }],
    [
      { 'portlb.io/services': ' web , api', 'portlb.io/rank': '01', 'portlb.io/disabled': 'false' },
      { services: ['web', 'api'], rank: '01', disabled: false },
    ],
    [{ 'portlb.io/disabled': 'true' }, { disabled: true }],
  ])('%o reads as %o', (annotations, value) => {
    expect(parseAnnotations(annotations, KNOWN)).toEqual({ ok: true, value: expect.objectContaining(value) });
  });

  it.each<[Record<string, string>, string[]]>([
    [
      { 'portlb.io/services': 'web,nope' },
      ['portlb.io/services: item 2 names service "nope", which is not configured'],
    ],
    [
      { 'portlb.io/services': 'web,,api' },
      ['portlb.io/services: item 2 is empty: a comma-separated list of service names'],
    ],
    [{ 'portlb.io/services': '' }, ['portlb.io/services: is empty: a comma-separated list of service names']],
    [{ 'portlb.io/services': 'web,web' }, ['portlb.io/services: item 2 names service "web" twice']],
    [{ 'portlb.io/services': 'Web' }, ['portlb.io/services: "Web" is not a service name (a DNS label)']],
    [
      { 'portlb.io/services': 'x'.repeat(300_000) },
      ['portlb.io/services: is 300000 characters; annotations hold at most 262144'],
    ],
    [{ 'portlb.io/rank': 'not ok!' }, ['portlb.io/rank: must be 1-63 letters, digits, "-", "_" or "."']],
    [{ 'portlb.io/rank': 'a'.repeat(64) }, ['portlb.io/rank: must be 1-63 letters, digits, "-", "_" or "."']],
    [{ 'portlb.io/disabled': 'yes' }, ['portlb.io/disabled: must be "true" or "false"']],
    [
      { 'portlb.io/disable': 'true' },
      ['portlb.io/disable: is not an annotation portlb reads; did you mean portlb.io/disabled?'],
    ],
    [
      { 'portlb.io/weight': '3' },
      [
        'portlb.io/weight: is not an annotation portlb reads; portlb reads portlb.io/services, portlb.io/rank, portlb.io/disabled',
      ],
    ],
    [
      { 'portlb.io/rank': '!', 'portlb.io/disabled': 'no', 'portlb.io/service': 'web' },
      [
        'portlb.io/rank: must be 1-63 letters, digits, "-", "_" or "."',
        'portlb.io/disabled: must be "true" or "false"',
        'portlb.io/service: is not an annotation portlb reads; did you mean portlb.io/services?',
      ],
    ],
  ])('refuses %#, naming the annotation', (annotations, problems) => {
    expect(said(annotations)).toEqual(problems);
  });
});
