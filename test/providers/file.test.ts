import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { awsMode } from '../../src/modes/aws/index.js';
import { bgpMode } from '../../src/modes/bgp/index.js';
import { gcpMode } from '../../src/modes/gcp/index.js';
import { parseRoutes, readRoutesFile } from '../../src/providers/file.js';

const bgp = { tables: ['bgp'], target: bgpMode.targetField };
const route = (extra: Record<string, unknown> = {}) => ({
  table: 'bgp',
  vip: '10.1.1.0/24',
  target: '10.99.0.11',
  owner: 'lab',
  ...extra,
});

const problems = (document: unknown, rules = bgp) => {
  const result = parseRoutes(document, rules);
  return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
};

describe('parseRoutes', () => {
  it('reads routes, with state active unless given', () => {
    expect(parseRoutes([route(), route({ owner: undefined, state: 'blackhole', id: 'r-1' })], bgp)).toEqual({
      ok: true,
      routes: [
        { ...route(), state: 'active' },
        { table: 'bgp', vip: '10.1.1.0/24', target: '10.99.0.11', state: 'blackhole', id: 'r-1' },
      ],
    });
  });

  it.each([null, undefined])('an empty file (%s) is no routes', (document) => {
    expect(parseRoutes(document, bgp)).toEqual({ ok: true, routes: [] });
  });

  it('a blackhole may have lost its target; nothing else may', () => {
    expect(problems([route({ target: '', state: 'blackhole' })])).toEqual([]);
    expect(problems([route({ target: '' })])).toEqual([
      '[0].target: is empty; only a blackhole has no target',
    ]);
  });

  it.each<[string, unknown, string[]]>([
    ['a mapping', { routes: [] }, ['(root): a routes file is a list of routes']],
    ['a scalar', 'bgp', ['(root): a routes file is a list of routes']],
    ['an entry that is not a mapping', [route(), 'x'], ['[1]: Invalid input: expected object']],
    ['vip: banana', [route({ vip: 'banana' })], ['[0].vip: "banana" is not a CIDR']],
    [
      'host bits',
      [route({ vip: '10.1.1.5/24' })],
      ['[0].vip: "10.1.1.5/24" has host bits set; did you mean 10.1.1.0/24?'],
    ],
    [
      'a non-canonical IPv6 VIP',
      [route({ vip: '2001:DB8::/64' })],
      ['[0].vip: "2001:DB8::/64" is not in canonical form; did you mean 2001:db8::/64?'],
    ],
    ['a number as VIP', [route({ vip: 10 })], ['[0].vip: Invalid input: expected string']],
    ['target: not-an-ip', [route({ target: 'not-an-ip' })], ['[0].target: not an IPv4 or IPv6 address']],
    [
      'a multicast next hop',
      [route({ target: '224.0.0.5' })],
      ['[0].target: 224.0.0.5 is in 224.0.0.0/4 (multicast)'],
    ],
    [
      'an unknown table',
      [route({ table: 'rib' })],
      ['[0].table: "rib" is not a table this config manages (bgp)'],
    ],
    ['an unknown state', [route({ state: 'up' })], ['[0].state: Invalid option']],
    ['an owner that is not an owner id', [route({ owner: 'Some One' })], ['[0].owner: must be a DNS label']],
    [
      'an unknown field',
      [route({ nexthop: 'x' })],
      ['[0].nexthop: not a field of a route (table, vip, target, owner, state, id)'],
    ],
    [
      'a missing field',
      [{ table: 'bgp', vip: '10.1.1.0/24' }],
      ['[0].target: Invalid input: expected string'],
    ],
  ])('refuses %s, naming index and field', (_what, document, expected) => {
    const found = problems(document);
    expect(found).toHaveLength(expected.length);
    for (const [i, prefix] of expected.entries()) expect(found[i]).toContain(prefix);
  });

  it('lists every bad entry, not the first', () => {
    expect(
      problems([route(), route({ vip: 'banana' }), route(), route({ target: 'x', state: 'gone' })]).map(
        (p) => p.split(':')[0],
      ),
    ).toEqual(['[1].vip', '[3].target', '[3].state']);
  });

  it.each([
    ['aws', awsMode, 'eni-0123456789abcdef0', '10.0.1.5', 'must be a network interface id'],
    [
      'gcp',
      gcpMode,
      'projects/p-1234/zones/europe-west1-b/instances/lb-1',
      'eni-0123456789abcdef0',
      'must be an instance URL',
    ],
    ['bgp', bgpMode, '2001:db8::11', 'eni-0123456789abcdef0', 'not an IPv4 or IPv6 address'],
  ])('takes the target form from the mode descriptor: %s', (_name, mode, good, bad, message) => {
    const rules = { tables: ['t'], target: mode.targetField };
    expect(problems([route({ table: 't', target: good })], rules)).toEqual([]);
    expect(problems([route({ table: 't', target: bad })], rules)).toEqual(
      [`[0].target: ${message}`].map((m) => expect.stringContaining(m)),
    );
  });
});

describe('readRoutesFile', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portlb-routes-'));
  });

  const refusal = async (path: string) => {
    const error = await readRoutesFile(path, bgp).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  };

  it('reads YAML and JSON', async () => {
    const yaml = join(dir, 'routes.yaml');
    const json = join(dir, 'routes.json');
    await writeFile(yaml, '- { table: bgp, vip: 10.1.1.0/24, target: 10.99.0.11, owner: lab }\n');
    await writeFile(json, JSON.stringify([route()]));
    expect(await readRoutesFile(yaml, bgp)).toEqual(await readRoutesFile(json, bgp));
  });

  it('names the file and counts the problems', async () => {
    const path = join(dir, 'bad.yaml');
    await writeFile(path, '- { table: bgp, vip: banana, target: x }\n');
    const error = await refusal(path);
    expect(error.message).toBe(`invalid routes file ${path}: 2 problems`);
  });

  it('refuses YAML it would only warn about, a UTF-16 file, a directory and a missing file', async () => {
    const dup = join(dir, 'dup.yaml');
    await writeFile(dup, '- { table: bgp, table: bgp, vip: 10.1.1.0/24, target: 10.99.0.11 }\n');
    expect((await refusal(dup)).problems[0]?.message).toMatch(/duplicate key "table"/);
    const utf16 = join(dir, 'utf16.yaml');
    await writeFile(utf16, Buffer.from('\ufeff- {}\n', 'utf16le'));
    expect((await refusal(utf16)).problems[0]?.message).toMatch(/UTF-16/);
    expect((await refusal(dir)).problems[0]?.message).toMatch(/not a regular file/);
    expect((await refusal(join(dir, 'nope.yaml'))).message).toMatch(/cannot read routes file/);
    expect(await readRoutesFile(join(dir, 'nope.yaml'), { missingOk: true })).toEqual([]);
  });
});
