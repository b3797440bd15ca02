import { describe, expect, it } from 'vitest';
import type { NodeView, PodView } from '../../../src/kube/objects.js';
import type { LbAnnotations } from '../../../src/sources/kubernetes/annotations.js';
import { type LifecycleInput, lifecycleToDesired } from '../../../src/sources/kubernetes/lifecycle.js';

const services = [
  { name: 'web', vip: '10.1.1.0/24' },
  { name: 'api', vip: '10.1.2.0/24' },
];

function pod(name: string, over: Partial<PodView> = {}): PodView {
  return {
    namespace: 'lb',
    name,
    uid: `uid-${name}`,
    nodeName: `node-${name}`,
    podIps: [],
    hostIp: `10.0.0.${name.length}`,
    ready: true,
    terminating: false,
    phase: 'Running',
    annotations: {},
    ...over,
  };
}

function node(name: string, over: Partial<NodeView> = {}): NodeView {
  return {
    name,
    ready: true,
    addresses: [{ type: 'InternalIP', address: `10.9.0.${name.length}` }],
    ...over,
  };
}

function input(pods: PodView[], nodes: NodeView[], over: Partial<LifecycleInput> = {}): LifecycleInput {
  return {
    services,
    pods,
    nodes: new Map(nodes.map((n) => [n.name, n])),
    targetOf: (p) => p.hostIp,
    lastGood: new Map(),
    ...over,
  };
}

const web = (result: ReturnType<typeof lifecycleToDesired>) => result.routes.find((r) => r.service === 'web');

describe('lifecycleToDesired', () => {
  it.each<[string, Partial<PodView>, Partial<NodeView>, boolean, string | undefined]>([
    ['Ready pod on a Ready node', {}, {}, true, undefined],
    ['pod not Ready', { ready: false }, {}, false, 'pod a is not Ready'],
    ['terminating pod, still Ready', { terminating: true }, {}, false, 'pod a is terminating'],
    ['pod Succeeded', { phase: 'Succeeded' }, {}, false, 'pod a is Succeeded'],
    ['pod disabled by annotation', { annotations: { 'portlb.io/disabled': 'true' } }, {}, false, 'disabled'],
    [
      'node NotReady',
      {},
      { ready: false, readyReason: 'NodeStatusUnknown' },
      false,
      'node node-a is NotReady (NodeStatusUnknown)',
    ],
    ['node without Ready condition', {}, { ready: undefined }, false, 'reports no Ready condition'],
  ])('%s', (_name, podOver, nodeOver, healthy, reason) => {
    const result = lifecycleToDesired(input([pod('a', podOver)], [node('node-a', nodeOver)]));
    const candidate = web(result)?.candidates[0];
    expect(candidate).toMatchObject({ target: '10.0.0.1', rank: 'node-a', healthy });
    if (reason) expect(candidate?.reason).toContain(reason);
    else expect(candidate?.reason).toBeUndefined();
  });

  it('an unscheduled pod is no candidate', () => {
    const result = lifecycleToDesired(input([pod('a', { nodeName: undefined })], [node('node-a')]));
    expect(web(result)?.candidates).toEqual([]);
  });

  it('a pod on an unknown node is unhealthy', () => {
    const result = lifecycleToDesired(input([pod('a')], []));
    expect(web(result)?.candidates[0]).toMatchObject({
      healthy: false,
      reason: 'node node-a of pod a is unknown',
    });
  });

  it('a node is a healthy target while any of its LB pods is healthy', () => {
    const a = pod('a', { nodeName: 'n1', hostIp: '10.0.0.1' });
    const b = pod('b', { nodeName: 'n1', hostIp: '10.0.0.1', terminating: true });
    expect(web(lifecycleToDesired(input([a, b], [node('n1')])))?.candidates).toEqual([
      { target: '10.0.0.1', rank: 'n1', healthy: true },
    ]);
    const c = { ...a, ready: false };
    expect(web(lifecycleToDesired(input([c, b], [node('n1')])))?.candidates).toEqual([
      { target: '10.0.0.1', rank: 'n1', healthy: false, reason: 'pod a is not Ready; pod b is terminating' },
    ]);
  });

  it('scope self: only the own pod is a candidate; a missing own pod is a warning', () => {
    const pods = [pod('a'), pod('bb')];
    const nodes = [node('node-a'), node('node-bb')];
    const mine = lifecycleToDesired(input(pods, nodes, { self: { namespace: 'lb', name: 'bb' } }));
    expect(web(mine)?.candidates.map((c) => c.target)).toEqual(['10.0.0.2']);
    const missing = lifecycleToDesired(input(pods, nodes, { self: { namespace: 'lb', name: 'zz' } }));
    expect(web(missing)?.candidates).toEqual([]);
    expect(missing.warnings[0]).toContain('own pod lb/zz is not among the LB pods');
  });

  it('scope self: the own Ready condition is not an input, but terminating, node and annotations are', () => {
    const nodes = [node('node-bb')];
    const self = { self: { namespace: 'lb', name: 'bb' } };
    const candidates = (p: PodView, ns: NodeView[] = nodes) =>
      web(lifecycleToDesired(input([p], ns, self)))?.candidates;
    expect(candidates(pod('bb', { ready: false }))).toEqual([
      { target: '10.0.0.2', rank: 'node-bb', healthy: true },
    ]);
    expect(candidates(pod('bb', { terminating: true }))?.[0]).toMatchObject({
      healthy: false,
      reason: 'pod bb is terminating',
    });
    expect(candidates(pod('bb'), [node('node-bb', { ready: false })])?.[0]).toMatchObject({ healthy: false });
    expect(candidates(pod('bb', { annotations: { 'portlb.io/disabled': 'true' } }))?.[0]).toMatchObject({
      healthy: false,
    });
    expect(candidates(pod('bb', { annotations: { 'portlb.io/services': 'api' } }))).toEqual([]);
  });

  it('scope self with awaitOwnReady: the own pod is a candidate only once it is Ready', () => {
    const nodes = [node('node-bb')];
    const self = { self: { namespace: 'lb', name: 'bb' }, awaitOwnReady: true };
    const candidates = (p: PodView) => web(lifecycleToDesired(input([p], nodes, self)))?.candidates;
    expect(candidates(pod('bb', { ready: false }))).toEqual([
      {
        target: '10.0.0.2',
        rank: 'node-bb',
        healthy: false,
        reason: 'pod bb is not Ready yet (the node agent routes to it once it is)',
      },
    ]);
    expect(candidates(pod('bb'))).toEqual([{ target: '10.0.0.2', rank: 'node-bb', healthy: true }]);
    expect(candidates(pod('bb', { terminating: true }))?.[0]).toMatchObject({
      healthy: false,
      reason: 'pod bb is terminating',
    });
  });

  it('annotations: services restrict, rank orders', () => {
    const a = pod('a', { annotations: { 'portlb.io/services': 'api', 'portlb.io/rank': '01' } });
    const result = lifecycleToDesired(input([a], [node('node-a')]));
    expect(web(result)?.candidates).toEqual([]);
    expect(result.routes.find((r) => r.service === 'api')?.candidates).toEqual([
      { target: '10.0.0.1', rank: '01', healthy: true },
    ]);
  });

  it('a malformed annotation keeps the last good value: no route changes', () => {
    const good: LbAnnotations = { disabled: false, rank: '5' };
    const bad = pod('a', { annotations: { 'portlb.io/rank': 'not ok!', 'portlb.io/disabled': 'yes' } });
    const result = lifecycleToDesired(
      input([bad], [node('node-a')], { lastGood: new Map([['uid-a', good]]) }),
    );
    expect(web(result)?.candidates).toEqual([{ target: '10.0.0.1', rank: '5', healthy: true }]);
    expect(result.refused).toHaveLength(1);
    expect(result.refused[0]?.keptPrevious).toBe(true);
    expect(result.refused[0]?.problems.map((p) => p.path).sort()).toEqual([
      'portlb.io/disabled',
      'portlb.io/rank',
    ]);
    expect(result.accepted.get('uid-a')).toBe(good);
  });

  it('a malformed annotation on a new pod refuses the pod, naming the field', () => {
    const bad = pod('a', { annotations: { 'portlb.io/services': 'web,nope' } });
    const result = lifecycleToDesired(input([bad], [node('node-a')]));
    expect(web(result)?.candidates).toEqual([
      {
        target: 'node-a:refused',
        rank: 'node-a',
        healthy: false,
        reason: 'pod a: annotation portlb.io/services is malformed',
      },
    ]);
    expect(result.refused[0]?.problems[0]?.message).toContain(
      'names service "nope", which is not configured',
    );
    expect(result.accepted.size).toBe(0);
  });

  it('a node without a target id is an unhealthy candidate with the reason', () => {
    const result = lifecycleToDesired(input([pod('a')], [node('node-a')], { targetOf: () => undefined }));
    expect(web(result)?.candidates[0]).toMatchObject({ target: 'node-a:no-target', healthy: false });
  });
});
