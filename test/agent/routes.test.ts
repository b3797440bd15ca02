import { describe, expect, it } from 'vitest';
import { type NodeRoutesInput, nodeRoutes } from '../../src/agent/routes.js';
import type { NodeView, PodView } from '../../src/kube/objects.js';

const NODE = 'n1';
const services = [
  { name: 'web', vip: '203.0.113.0/28' },
  { name: 'web6', vip: '2001:db8:1::/64' },
];

function pod(name: string, podIp: string | undefined, over: Partial<PodView> = {}): PodView {
  return {
    namespace: 'lb',
    name,
    uid: `uid-${name}`,
    nodeName: NODE,
    podIp,
    podIps: podIp === undefined ? [] : [podIp],
    hostIp: '10.0.0.1',
    phase: 'Running',
    ready: true,
    terminating: false,
    annotations: {},
    ...over,
  };
}

const readyNode: NodeView = {
  name: NODE,
  ready: true,
  addresses: [{ type: 'InternalIP', address: '10.0.0.1' }],
};

function input(pods: PodView[], over: Partial<NodeRoutesInput> = {}): NodeRoutesInput {
  return { services, pods, nodeName: NODE, node: readyNode, lastGood: new Map(), ...over };
}

const hopsOf = (result: ReturnType<typeof nodeRoutes>, vip: string) =>
  result.routes.find((r) => r.vip === vip)?.nexthops ?? [];
const skippedOf = (result: ReturnType<typeof nodeRoutes>, vip: string) =>
  result.skipped.filter((s) => s.vip === vip).map((s) => s.reason);

describe('nodeRoutes', () => {
  it.each<[string, PodView[], Partial<NodeRoutesInput>, string[], string | undefined]>([
    ['one Ready pod', [pod('a', '10.244.1.5')], {}, ['10.244.1.5'], undefined],
    ['pod not Ready', [pod('a', '10.244.1.5', { ready: false })], {}, [], 'pod a is not Ready'],
    [
      'terminating pod, no longer Ready',
      [pod('a', '10.244.1.5', { terminating: true, ready: false })],
      {},
      [],
      'pod a is terminating',
    ],
    [
      'node NotReady',
      [pod('a', '10.244.1.5')],
      { node: { ...readyNode, ready: false, readyReason: 'NodeStatusUnknown' } },
      [],
      'node n1 is NotReady (NodeStatusUnknown)',
    ],
    ['node not known yet', [pod('a', '10.244.1.5')], { node: undefined }, [], 'node n1 of pod a is unknown'],
    [
      'pod disabled by annotation',
      [pod('a', '10.244.1.5', { annotations: { 'portlb.io/disabled': 'true' } })],
      {},
      [],
      'pod a is disabled by annotation portlb.io/disabled',
    ],
    [
      'two Ready pods: ECMP, sorted',
      [pod('b', '10.244.1.6'), pod('a', '10.244.1.5')],
      {},
      ['10.244.1.5', '10.244.1.6'],
      undefined,
    ],
    [
      'one of two pods not Ready',
      [pod('a', '10.244.1.5'), pod('b', '10.244.1.6', { ready: false })],
      {},
      ['10.244.1.5'],
      'pod b is not Ready',
    ],
    ['pod without an IP yet', [pod('a', undefined)], {}, [], 'pod a has no IP yet'],
    ['host-network pod', [pod('a', '10.0.0.1')], {}, [], 'pod a uses the host network (its IP is the node'],
    ['pod Failed', [pod('a', '10.244.1.5', { phase: 'Failed' })], {}, [], 'pod a is Failed'],
    ['pod on another node', [pod('a', '10.244.2.5', { nodeName: 'n2' })], {}, [], undefined],
    [
      'pod serving another service only',
      [pod('a', '10.244.1.5', { annotations: { 'portlb.io/services': 'web6' } })],
      {},
      [],
      undefined,
    ],
  ])('IPv4 VIP: %s', (_name, pods, over, nexthops, reason) => {
    const result = nodeRoutes(input(pods, over));
    expect(hopsOf(result, '203.0.113.0/28')).toEqual(nexthops);
    const vips = [...result.routes.map((r) => r.vip), ...result.unrouted.map((u) => u.vip)].sort();
    expect(vips).toEqual(['2001:db8:1::/64', '203.0.113.0/28']);
    if (nexthops.length === 0) expect(result.unrouted.map((u) => u.vip)).toContain('203.0.113.0/28');
    if (reason) expect(skippedOf(result, '203.0.113.0/28').join('\n')).toContain(reason);
    else expect(skippedOf(result, '203.0.113.0/28')).toEqual([]);
  });

  // A terminating pod still Ready drains: it stays while no other pod on the node serves the VIP.
  const bye = (name: string, ip: string, over: Partial<PodView> = {}) =>
    pod(name, ip, { terminating: true, ...over });
  it.each<[string, PodView[], Partial<NodeRoutesInput>, string[], string[], string | undefined]>([
    [
      'the last pod, terminating, still Ready',
      [bye('a', '10.244.1.5')],
      {},
      ['10.244.1.5'],
      ['a'],
      undefined,
    ],
    [
      'another Ready pod serves: the terminating one leaves at once',
      [bye('a', '10.244.1.5'), pod('b', '10.244.1.6')],
      {},
      ['10.244.1.6'],
      [],
      'pod a is terminating',
    ],
    [
      'the other pod is not Ready: the terminating one stays',
      [bye('a', '10.244.1.5'), pod('b', '10.244.1.6', { ready: false })],
      {},
      ['10.244.1.5'],
      ['a'],
      'pod b is not Ready',
    ],
    [
      'the other pod serves another service only: the terminating one stays',
      [bye('a', '10.244.1.5'), pod('b', '10.244.1.6', { annotations: { 'portlb.io/services': 'web6' } })],
      {},
      ['10.244.1.5'],
      ['a'],
      undefined,
    ],
    [
      'two terminating pods, both still Ready',
      [bye('a', '10.244.1.5'), bye('b', '10.244.1.6')],
      {},
      ['10.244.1.5', '10.244.1.6'],
      ['a', 'b'],
      undefined,
    ],
    [
      'two terminating pods, one no longer Ready',
      [bye('a', '10.244.1.5'), bye('b', '10.244.1.6', { ready: false })],
      {},
      ['10.244.1.5'],
      ['a'],
      'pod b is terminating',
    ],
    [
      'terminating and not Ready',
      [bye('a', '10.244.1.5', { ready: false })],
      {},
      [],
      [],
      'pod a is terminating',
    ],
    [
      'terminating on a NotReady node',
      [bye('a', '10.244.1.5')],
      { node: { ...readyNode, ready: false } },
      [],
      [],
      'pod a is terminating',
    ],
    [
      'terminating and disabled',
      [bye('a', '10.244.1.5', { annotations: { 'portlb.io/disabled': 'true' } })],
      {},
      [],
      [],
      'pod a is terminating',
    ],
    [
      'terminating, serving another service only',
      [bye('a', '10.244.1.5', { annotations: { 'portlb.io/services': 'web6' } })],
      {},
      [],
      [],
      undefined,
    ],
    [
      'terminating, Failed',
      [bye('a', '10.244.1.5', { phase: 'Failed' })],
      {},
      [],
      [],
      'pod a is terminating',
    ],
  ])('drain, IPv4 VIP: %s', (_name, pods, over, nexthops, draining, reason) => {
    const result = nodeRoutes(input(pods, over));
    expect(hopsOf(result, '203.0.113.0/28')).toEqual(nexthops);
    expect(result.draining.filter((d) => d.vip === '203.0.113.0/28').map((d) => d.pod)).toEqual(draining);
    if (nexthops.length === 0) expect(result.unrouted.map((u) => u.vip)).toContain('203.0.113.0/28');
    if (reason) expect(skippedOf(result, '203.0.113.0/28').join('\n')).toContain(reason);
    else expect(skippedOf(result, '203.0.113.0/28')).toEqual([]);
    // A pod kept to drain is not also reported as skipped.
    for (const pod of draining)
      expect(result.skipped.filter((s) => s.vip === '203.0.113.0/28' && s.pod === pod)).toEqual([]);
  });

  it('a draining pod says why it stays', () => {
    const [kept] = nodeRoutes(input([bye('a', '10.244.1.5')])).draining;
    expect(kept?.reason).toBe(
      'pod a is terminating but still Ready, and no other LB pod on this node serves web: it stays a next hop until it is not Ready',
    );
  });

  it.each<[string, PodView[], string[], string | undefined]>([
    [
      'IPv6 pods: ECMP in canonical form',
      [pod('a', 'fd00:244:0:0::5'), pod('b', 'fd00:244::6')],
      ['fd00:244::5', 'fd00:244::6'],
      undefined,
    ],
    ['an IPv4 pod is no next hop for an IPv6 VIP', [pod('a', '10.244.1.5')], [], 'pod a has no IPv6 address'],
    [
      'a terminating IPv4 pod does not drain an IPv6 VIP',
      [pod('a', '10.244.1.5', { terminating: true })],
      [],
      'pod a is terminating',
    ],
    [
      'a terminating IPv6 pod drains',
      [pod('a', 'fd00:244::5', { terminating: true })],
      ['fd00:244::5'],
      undefined,
    ],
    [
      'a dual-stack pod (IPv4 primary) serves it through its IPv6 address',
      [pod('a', '10.244.1.5', { podIps: ['10.244.1.5', 'fd00:244:0::5'] }), pod('b', 'fd00:244::6')],
      ['fd00:244::5', 'fd00:244::6'],
      undefined,
    ],
    [
      'a terminating dual-stack pod drains through its IPv6 address',
      [pod('a', '10.244.1.5', { podIps: ['10.244.1.5', 'fd00:244::5'], terminating: true })],
      ['fd00:244::5'],
      undefined,
    ],
  ])('IPv6 VIP: %s', (_name, pods, nexthops, reason) => {
    const result = nodeRoutes(input(pods));
    expect(hopsOf(result, '2001:db8:1::/64')).toEqual(nexthops);
    if (reason) expect(skippedOf(result, '2001:db8:1::/64').join('\n')).toContain(reason);
    else expect(skippedOf(result, '2001:db8:1::/64')).toEqual([]);
  });

  it('a dual-stack pod routes each family of VIP over its address of that family', () => {
    const result = nodeRoutes(input([pod('a', 'fd00:244::5', { podIps: ['fd00:244::5', '10.244.1.5'] })]));
    expect(hopsOf(result, '203.0.113.0/28')).toEqual(['10.244.1.5']);
    expect(hopsOf(result, '2001:db8:1::/64')).toEqual(['fd00:244::5']);
    expect(result.skipped).toEqual([]);
  });

  it('a malformed annotation keeps the last good one, so the route stays', () => {
    const first = nodeRoutes(
      input([pod('a', '10.244.1.5', { annotations: { 'portlb.io/services': 'web' } })]),
    );
    expect(hopsOf(first, '203.0.113.0/28')).toEqual(['10.244.1.5']);
    const bad = pod('a', '10.244.1.5', { annotations: { 'portlb.io/services': 'nope' } });
    const second = nodeRoutes(input([bad], { lastGood: first.accepted }));
    expect(hopsOf(second, '203.0.113.0/28')).toEqual(['10.244.1.5']);
    expect(second.refused).toHaveLength(1);
    expect(second.refused[0]?.keptPrevious).toBe(true);
    // A pod never seen good is not used.
    const fresh = nodeRoutes(input([bad]));
    expect(fresh.routes).toEqual([]);
  });

  it('a pod that loses its IP keeps its annotations for when it has one again', () => {
    const annotated = { 'portlb.io/services': 'web' };
    const first = nodeRoutes(input([pod('a', '10.244.1.5', { annotations: annotated })]));
    const ipLess = nodeRoutes(
      input([pod('a', undefined, { annotations: annotated })], { lastGood: first.accepted }),
    );
    expect(ipLess.accepted.get('uid-a')).toEqual(first.accepted.get('uid-a'));
  });
});
