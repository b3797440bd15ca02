import { describe, expect, it } from 'vitest';
import { tagRoom } from '../../../src/providers/aws/tables.js';
import {
  type Candidacy,
  candidateTag,
  decodeCandidacies,
  newestCandidacies,
  podId,
  supersedes,
  toCandidates,
} from '../../../src/sources/aws/candidacy.js';

const base: Candidacy = {
  instanceId: 'i-0123456789abcdef0',
  pod: podId('portlb/lb-a'),
  podName: 'portlb/lb-a',
  eni: 'eni-0123456789abcdef0',
  state: 'ready',
  at: 1_764_000_000_000,
  node: 'ip-10-0-1-5.ec2.internal',
};

describe('candidacy tags', () => {
  it('round-trips through a tag and stays within EC2 limits for the longest names', () => {
    // prepare
    const owner = 'o'.repeat(63);
    const podName = `${'s'.repeat(63)}/${'p'.repeat(253)}`;
    const long = { ...base, node: 'n'.repeat(253), pod: podId(podName), podName };
    // act
    const tag = candidateTag(owner, long);
    const back = decodeCandidacies({ [tag.Key]: tag.Value }, owner);
    // assess
    expect(tag.Key.length).toBeLessThanOrEqual(128);
    expect(tag.Value.length).toBeLessThanOrEqual(256);
    expect(back.problems).toEqual([]);
    expect(back.candidacies[0]).toMatchObject({
      instanceId: long.instanceId,
      eni: long.eni,
      state: 'ready',
      at: base.at,
    });
  });

  it.each([
    ['a bad instance id', 'i-xyz/0a1b2c3d', 'eni-0123456789abcdef0 ready 1000 n p'],
    ['no pod in the key', 'i-0123456789abcdef0', 'eni-0123456789abcdef0 ready 1000 n p'],
    ['a bad pod id', 'i-0123456789abcdef0/lb-1', 'eni-0123456789abcdef0 ready 1000 n p'],
    ['a bad ENI', 'i-0123456789abcdef0/0a1b2c3d', 'eni-zz ready 1000 n p'],
    ['an unknown state', 'i-0123456789abcdef0/0a1b2c3d', 'eni-0123456789abcdef0 sleeping 1000 n p'],
    ['no timestamp', 'i-0123456789abcdef0/0a1b2c3d', 'eni-0123456789abcdef0 ready'],
    [
      'a timestamp that is not a number',
      'i-0123456789abcdef0/0a1b2c3d',
      'eni-0123456789abcdef0 ready soon n p',
    ],
  ])('reports %s as a problem and never trusts it', (_name, rest, value) => {
    const decoded = decodeCandidacies({ [`portlb.io/candidate/portlb/${rest}`]: value }, 'portlb');
    expect(decoded.candidacies).toEqual([]);
    expect(decoded.problems).toHaveLength(1);
  });

  it("ignores other owners' and unrelated tags", () => {
    const decoded = decodeCandidacies(
      { Name: 'main', [candidateTag('other', base).Key]: candidateTag('other', base).Value },
      'portlb',
    );
    expect(decoded).toEqual({ candidacies: [], problems: [] });
  });

  const draining = { ...base, state: 'draining' as const };
  it.each([
    ['a newer report', { ...base, at: base.at + 1 }, base, true],
    ['an older report', { ...base, at: base.at - 1 }, base, false],
    ['the same report (a replay)', base, base, false],
    ['draining in the same second as ready', draining, base, true],
    ['ready in the same second as draining', base, draining, false],
    ['anything, when nothing is held', base, undefined, true],
  ])('%s: supersedes is %s', (_name, next, held, expected) => {
    expect(supersedes(next, held)).toBe(expected);
  });

  it('keeps the newest report per instance across tables', () => {
    const newer = { ...base, state: 'draining' as const, at: base.at + 5000 };
    expect(newestCandidacies([[base], [newer], []])).toEqual([newer]);
  });

  it.each([
    ['ready and fresh', base, undefined, true, undefined],
    ['draining', { ...base, state: 'draining' as const }, undefined, false, /is draining/],
    ['stale', { ...base, at: base.at - 500_000 }, undefined, false, /500 s old \(stale after 180 s\)/],
    ['on an instance known to be going away', base, 'instance is terminated', false, /terminated/],
  ])('a candidacy that is %s', (_name, candidacy, down, healthy, reason) => {
    const [candidate] = toCandidates([candidacy], {
      now: base.at,
      staleSeconds: 180,
      down: down ? new Map([[base.instanceId, down]]) : undefined,
    });
    expect(candidate?.healthy).toBe(healthy);
    if (reason) expect(candidate?.reason).toMatch(reason);
  });

  it('keeps a node a candidate while any of its LB pods is ready (one drains during a rolling update)', () => {
    // prepare
    const other = { ...base, pod: podId('portlb/lb-b'), podName: 'portlb/lb-b', state: 'draining' as const };
    // act
    const both = toCandidates([base, other], { now: base.at, staleSeconds: 180 });
    const neither = toCandidates([{ ...base, state: 'draining' }, other], {
      now: base.at,
      staleSeconds: 180,
    });
    // assess
    expect(both).toEqual([{ target: base.eni, rank: base.eni, healthy: true }]);
    expect(neither).toHaveLength(1);
    expect(neither[0]?.healthy).toBe(false);
    expect(neither[0]?.reason).toMatch(/lb-a is draining; LB portlb\/lb-b is draining/);
  });

  it('keeps one report per pod when merging tables', () => {
    const other = { ...base, pod: podId('portlb/lb-b'), podName: 'portlb/lb-b' };
    expect(newestCandidacies([[base, other], [base]])).toHaveLength(2);
  });

  it('counts the room left under the 50-tag limit', () => {
    const tags = Object.fromEntries(Array.from({ length: 48 }, (_, i) => [`k${i}`, 'v']));
    expect(tagRoom(tags)).toBe(2);
  });
});
