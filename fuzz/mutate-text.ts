import fc from 'fast-check';

/*
 * Text-level mutations of a YAML file: what a bad edit, a truncated copy or a hostile file does to
 * it. Each is a list of edits drawn by fast-check, so a seed reproduces it.
 */

/** Fragments that mean something to YAML, or to portlb's parsers. */
const TOKENS = [
  ':',
  ': ',
  '- ',
  '[',
  ']',
  '{',
  '}',
  ',',
  '#',
  '&a ',
  '*a',
  '!tag ',
  '!!binary ',
  '<<: ',
  '? ',
  '|',
  '>',
  '"',
  "'",
  '\t',
  '\n',
  '\r',
  '\0',
  '\ufeff',
  '\u2028',
  '%YAML 1.1\n',
  '---\n',
  '...\n',
  '~',
  '.inf',
  '.nan',
  '1e400',
  '-0',
  '0x10',
  '0o17',
  '99999999999999999999',
  '::ffff:',
  '/0',
  '/33',
  '/128',
  '127.0.0.1',
  '169.254.169.254',
  '255.255.255.255',
  '__proto__: ',
  'constructor: ',
  '\ud800',
];

type Edit =
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'replace'; at: number; text: string }
  | { kind: 'duplicate-line'; at: number }
  | { kind: 'indent'; at: number; by: number }
  | { kind: 'truncate'; at: number };

const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    text: fc.oneof(fc.constantFrom(...TOKENS), fc.string({ maxLength: 8 })),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 20 }) }),
  fc.record({
    kind: fc.constant('replace' as const),
    at: fc.nat(),
    text: fc.oneof(fc.constantFrom(...TOKENS), fc.string({ unit: 'binary', maxLength: 4 })),
  }),
  fc.record({ kind: fc.constant('duplicate-line' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('indent' as const), at: fc.nat(), by: fc.integer({ min: -4, max: 4 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);

function apply(text: string, e: Edit): string {
  if (text.length === 0) return e.kind === 'insert' ? e.text : text;
  const at = e.at % (text.length + 1);
  const lineStart = text.lastIndexOf('\n', at - 1) + 1;
  const lineEnd = text.indexOf('\n', at) < 0 ? text.length : text.indexOf('\n', at);
  switch (e.kind) {
    case 'insert':
      return text.slice(0, at) + e.text + text.slice(at);
    case 'delete':
      return text.slice(0, at) + text.slice(at + e.length);
    case 'replace':
      return text.slice(0, at) + e.text + text.slice(at + e.text.length);
    case 'duplicate-line':
      return `${text.slice(0, lineEnd)}\n${text.slice(lineStart, lineEnd)}${text.slice(lineEnd)}`;
    case 'indent': {
      const line = text.slice(lineStart, lineEnd);
      const moved = e.by > 0 ? ' '.repeat(e.by) + line : line.replace(new RegExp(`^ {0,${-e.by}}`), '');
      return text.slice(0, lineStart) + moved + text.slice(lineEnd);
    }
    case 'truncate':
      return text.slice(0, at);
  }
}

/** The text after one to six edits. */
export function mutatedText(text: string): fc.Arbitrary<string> {
  return fc.array(edit, { minLength: 1, maxLength: 6 }).map((edits) => edits.reduce(apply, text));
}

/** A nest of aliases that would expand to 9^levels values. */
export function aliasBomb(levels: number): string {
  const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i <= levels; i++) {
    lines.push(
      `a${i}: &a${i} [${Array(9)
        .fill(`*a${i - 1}`)
        .join(', ')}]`,
    );
  }
  return `${lines.join('\n')}\nservices: *a${levels}\n`;
}

/** Inputs no mutation reaches by chance: bombs, depth, size, encodings, binary. */
export const hostileText: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  fc.integer({ min: 3, max: 20 }).map(aliasBomb),
  fc
    .integer({ min: 50, max: 100_000 })
    .map((depth) => `services: ${'['.repeat(depth)}${']'.repeat(depth)}\n`),
  fc
    .integer({ min: 50, max: 10_000 })
    .map((depth) => `${Array.from({ length: depth }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n')} 1\n`),
  fc.integer({ min: 1, max: 4_000_000 }).map((n) => `mode: ${'b'.repeat(n)}\n`),
  fc
    .integer({ min: 1, max: 200_000 })
    .map((n) => `allowedVipPools: [${Array(n).fill('10.0.0.0/8').join(', ')}]\n`),
  fc.uint8Array({ minLength: 0, maxLength: 4096 }),
  fc.string().map((s) => new Uint8Array(Buffer.from(`\ufeffmode: bgp\n${s}`, 'utf16le'))),
  fc.constantFrom('', '\n', '~\n', '[]\n', '"just a string"\n', '42\n', '---\n---\n', 'a: 1\n---\nb: 2\n'),
);
