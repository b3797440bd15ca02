import { describe, expect, it } from 'vitest';
import { decodeConfig } from '../../src/config/text.js';
import { parseYaml } from '../../src/config/yaml.js';
import { ConfigError, type Problem } from '../../src/errors.js';

function yamlProblems(text: string): Problem[] {
  try {
    parseYaml(text, 'test.yaml');
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

function decodeProblem(bytes: Uint8Array): string | undefined {
  try {
    decodeConfig(bytes, 'test.yaml');
  } catch (error) {
    if (error instanceof ConfigError) return error.problems[0]?.message;
    throw error;
  }
  return undefined;
}

/** `a: &a [x x x ...]`, each level nine aliases of the one before: 9^levels values. */
function aliasBomb(levels: number): string {
  const names = 'abcdefghijklmnop';
  const lines = [`a: &a [${Array(9).fill('"lol"').join(', ')}]`];
  for (let i = 1; i <= levels; i++) {
    lines.push(
      `${names[i]}: &${names[i]} [${Array(9)
        .fill(`*${names[i - 1]}`)
        .join(', ')}]`,
    );
  }
  return `${lines.join('\n')}\nservices: *${names[levels]}\n`;
}

describe('parseYaml', () => {
  it('reads a plain document, with aliases', () => {
    expect(parseYaml('a: &x [1, 2]\nb: *x\nc: "0x10"\nd: 0x10\n', 't')).toEqual({
      a: [1, 2],
      b: [1, 2],
      c: '0x10',
      d: 16,
    });
  });

  it.each<[string, string, string, string]>([
    ['a duplicate key, by its path', 'mode: bgp\nmode: aws\n', 'mode', 'duplicate key "mode"'],
    [
      'a nested duplicate key, by its path',
      'bgp:\n  peers:\n    - address: 10.0.0.1\n      as: 1\n      as: 2\n',
      'bgp.peers[0].as',
      'duplicate key "as"',
    ],
    ['a duplicate quoted key', 'bgp: {"holdTime": 3, holdTime: 4}\n', 'bgp.holdTime', 'duplicate key'],
    ['a custom tag', 'mode: !env MODE\n', 'mode', 'unknown tag !env'],
    ['a non-core standard tag', 'services: [!!binary aGk=]\n', 'services[0]', 'unknown tag !!binary'],
    ['a tag on a mapping', 'bgp: !peer {localAs: 1}\n', 'bgp', 'unknown tag !peer'],
    ['a complex key', '? [a, b]\n: 1\n', '(root)', 'complex keys'],
    ['two documents', 'mode: bgp\n---\nmode: aws\n', '(root)', '2 YAML documents'],
    ['a syntax error, by line', 'mode: bgp\nservices: [\n', 'line', ''],
    ['nesting past any config', `${'['.repeat(200)}${']'.repeat(200)}\n`, 'line 1', 'maxDepth'],
    ['an undefined alias', 'a: *nowhere\n', 'a', 'unidentified alias'],
    ['a cycle', 'a: &x\n  b: *x\n', '(root)', 'cycle'],
    ['an alias bomb', aliasBomb(9), '(root)', 'alias bomb'],
  ])('refuses %s', (_name, text, path, message) => {
    const [problem, ...rest] = yamlProblems(text);
    expect(rest).toEqual([]);
    expect(problem?.path.startsWith(path)).toBe(true);
    expect(problem?.message).toContain(message);
  });

  it('refuses a bomb of 9^12 values without expanding it (the fuzz script times it)', () => {
    expect(yamlProblems(aliasBomb(12))[0]?.message).toContain('alias bomb');
  });

  it('reads an empty file as null, which parseConfig then refuses', () => {
    expect(parseYaml('', 't')).toBeNull();
    expect(parseYaml('# only a comment\n', 't')).toBeNull();
  });
});

describe('decodeConfig', () => {
  const utf16le = (text: string) => new Uint8Array(Buffer.from(`\ufeff${text}`, 'utf16le'));
  it.each<[string, Uint8Array, string]>([
    ['UTF-16 with a byte order mark', utf16le('mode: bgp\n'), 'UTF-16 (little-endian)'],
    ['UTF-16 big-endian', new Uint8Array([0xfe, 0xff, 0, 0x6d]), 'UTF-16 (big-endian)'],
    ['UTF-32', new Uint8Array([0xff, 0xfe, 0, 0, 0x6d, 0, 0, 0]), 'UTF-32'],
    [
      'UTF-16 without a byte order mark',
      new Uint8Array(Buffer.from('mode: bgp\n', 'utf16le')),
      'UTF-16 text without',
    ],
    ['a binary file', new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0]), 'not a text file'],
    ['invalid UTF-8', new Uint8Array([0x6d, 0x3a, 0x0a, 0x20, 0xc3, 0x28]), 'not valid UTF-8 (line 2)'],
  ])('refuses %s', (_name, bytes, message) => {
    expect(decodeProblem(bytes)).toContain(message);
  });

  it('reads UTF-8, with or without a byte order mark', () => {
    expect(decodeConfig(new Uint8Array(Buffer.from('mode: bgp # é\n')), 't')).toBe('mode: bgp # é\n');
    expect(parseYaml(decodeConfig(new Uint8Array(Buffer.from('\ufeffmode: bgp\n')), 't'), 't')).toEqual({
      mode: 'bgp',
    });
  });
});
