import { describe, expect, it } from 'vitest';
import {
  decodeRecords,
  packRecords,
  peakTags,
  recordKey,
  recordStep,
  tagLimitMessage,
} from '../../../src/registry/aws/records.js';

const owner = 'portlb';
const ipv4 = Array.from({ length: 40 }, (_, i) => `100.64.${i}.0/24`);
const ipv6 = ['2001:db8::/64', '2001:db8:1::/48', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00/120', '::/0'];
/** The tags a table would carry for these record chunks. */
const asTags = (packed: ReadonlyMap<string, string>) => Object.fromEntries(packed);
const decodedChunks = (packed: ReadonlyMap<string, string>) => decodeRecords(asTags(packed), owner).chunks;

describe('route records', () => {
  it.each([
    ['one IPv4 VIP', ['192.0.2.0/24']],
    ['forty IPv4 VIPs', ipv4],
    ['IPv6 VIPs, the longest text included', ipv6],
    ['both families', [...ipv4.slice(0, 5), ...ipv6]],
    ['nothing', []],
  ])('%s: pack, tag, decode gives the same set back, within EC2 tag limits', (_name, vips) => {
    // act
    const packed = packRecords(owner, new Set(vips), new Map());
    const back = decodeRecords({ Name: 'main', ...asTags(packed) }, owner);
    // assess
    expect([...back.vips].sort()).toEqual([...vips].sort());
    expect(back.problems).toEqual([]);
    for (const [key, value] of packed) {
      expect(key).toMatch(/^portlb\.io\/routes\/portlb\/[0-9a-f]{12}$/);
      expect(key).toBe(recordKey(owner, value));
      expect(value.length).toBeLessThanOrEqual(256);
      expect(value).toMatch(/^[0-9a-f.:/ ]+$/); // CIDR text and spaces: allowed by every AWS tag checker
    }
  });

  it('keeps the key within 128 characters for the longest owner', () => {
    expect(recordKey('o'.repeat(63), '192.0.2.0/24').length).toBeLessThanOrEqual(128);
  });

  it('packs densely: 40 /24s in 3 tags', () => {
    expect(packRecords(owner, new Set(ipv4), new Map()).size).toBe(3);
  });

  it('reads canonical text, ignores other owners and unreadable tags (reported)', () => {
    // act
    const decoded = decodeRecords(
      {
        'portlb.io/routes/portlb/aaaaaaaaaaaa': '2001:DB8:0::/64 192.0.2.0/24',
        'portlb.io/routes/other/bbbbbbbbbbbb': '198.51.100.0/24',
        'portlb.io/routes/portlb/cccccccccccc': '10.1.1.5/24',
        'portlb.io/candidate/portlb/i-0123456789abcdef0/0a1b2c3d': 'eni-0123456789abcdef0 ready 1 n p',
      },
      owner,
    );
    // assess
    expect([...decoded.vips].sort()).toEqual(['192.0.2.0/24', '2001:db8::/64']);
    expect(decoded.problems).toEqual([
      { key: 'portlb.io/routes/portlb/cccccccccccc', message: expect.stringMatching(/host bits/) },
    ]);
  });

  it('adding a VIP leaves full tags alone and writes one new tag', () => {
    // prepare
    const before = packRecords(owner, new Set(ipv4), new Map());
    // act
    const after = packRecords(owner, new Set([...ipv4, '192.0.2.0/24']), decodedChunks(before));
    const step = recordStep(before, after);
    // assess
    expect(step.create).toHaveLength(1);
    expect(step.remove.length).toBeLessThanOrEqual(1); // the small tail tag is merged into the new one
    expect(decodeRecords(asTags(after), owner).vips.size).toBe(41);
  });

  it('removing a VIP rewrites only the tag that held it', () => {
    // prepare
    const before = packRecords(owner, new Set(ipv4), new Map());
    // act
    const after = packRecords(owner, new Set(ipv4.slice(1)), decodedChunks(before));
    const step = recordStep(before, after);
    // assess
    expect(step.remove.length).toBeGreaterThanOrEqual(1);
    expect(step.remove.length).toBeLessThanOrEqual(2);
    expect(decodeRecords(asTags(after), owner).vips.has(ipv4[0]!)).toBe(false);
    expect(decodeRecords(asTags(after), owner).vips.size).toBe(39);
  });

  it('is deterministic: the same view and target give the same tags', () => {
    const existing = decodedChunks(packRecords(owner, new Set(ipv4.slice(0, 20)), new Map()));
    const target = new Set([...ipv4.slice(5), ...ipv6]);
    expect([...packRecords(owner, target, existing)]).toEqual([...packRecords(owner, target, existing)]);
  });

  it('rewrites a hand-edited tag (its key no longer matches its value)', () => {
    const edited = new Map([['portlb.io/routes/portlb/000000000000', ipv4.slice(0, 20)]]);
    const packed = packRecords(owner, new Set(ipv4.slice(0, 20)), edited);
    expect(recordStep(edited, packed).remove).toEqual(['portlb.io/routes/portlb/000000000000']);
  });

  it('counts the peak (new tags go in before old ones come out) and names the numbers when over', () => {
    const step = {
      create: [
        { Key: 'a', Value: 'x' },
        { Key: 'b', Value: 'y' },
      ],
      remove: ['c'],
    };
    expect(peakTags(49, step)).toBe(51);
    expect(tagLimitMessage('rtb-1', 49, step, 'the routes of 192.0.2.0/24')).toMatch(
      /route table rtb-1 has 49 tags and recording the routes of 192\.0\.2\.0\/24 needs 2 more before 1 can go \(51 > 50, the EC2 limit per resource\)/,
    );
  });
});
