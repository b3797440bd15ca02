import { describe, expect, it } from 'vitest';
import type { PodView } from '../../../src/kube/objects.js';
import { type Candidacy, podId, toCandidates } from '../../../src/sources/aws/candidacy.js';
import { kubernetesVeto, UNKNOWN_POD_GRACE_MS } from '../../../src/sources/aws/kube-veto.js';

const now = 1_764_000_000_000;
const report = (name: string, at = now): Candidacy => ({
  instanceId: 'i-0123456789abcdef0',
  pod: podId(`portlb/${name}`),
  podName: `portlb/${name}`,
  eni: 'eni-0123456789abcdef0',
  state: 'ready',
  at,
  node: 'n1',
});
const pod = (name: string, ready: boolean, terminating = false): PodView => ({
  namespace: 'portlb',
  name,
  uid: name,
  podIps: [],
  ready,
  terminating,
  annotations: {},
});

describe('kubernetesVeto', () => {
  const veto = (pods: PodView[], synced = true) =>
    kubernetesVeto({ pods: () => pods, synced: () => synced, now: () => now });

  it.each([
    ['a Ready pod', [pod('lb-a', true)], report('lb-a'), undefined],
    ['a pod that is not Ready', [pod('lb-a', false)], report('lb-a'), /lb-a is not Ready/],
    ['a terminating pod', [pod('lb-a', true, true)], report('lb-a'), /lb-a is terminating/],
    [
      'a pod Kubernetes does not list, reported long ago',
      [],
      report('lb-a', now - UNKNOWN_POD_GRACE_MS - 1),
      /lists no LB pod portlb\/lb-a/,
    ],
    ['a pod Kubernetes does not list yet (just started)', [], report('lb-a', now - 5_000), undefined],
  ])('%s', (_name, pods, candidacy, expected) => {
    const reason = veto(pods)(candidacy);
    if (expected === undefined) expect(reason).toBeUndefined();
    else expect(reason).toMatch(expected);
  });

  it('has no opinion before the informers listed once', () => {
    expect(veto([], false)(report('lb-a', now - 600_000))).toBeUndefined();
  });

  it('overrules a ready report in the candidates, with the reason', () => {
    const [candidate] = toCandidates([report('lb-a')], {
      now,
      staleSeconds: 180,
      veto: veto([pod('lb-a', false)]),
    });
    expect(candidate).toMatchObject({ healthy: false, reason: expect.stringMatching(/not Ready/) });
  });
});
