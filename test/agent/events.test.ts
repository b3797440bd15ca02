import { describe, expect, it } from 'vitest';
import { changeEvents } from '../../src/agent/events.js';

const VIP = '203.0.113.0/28';
const podByIp = new Map([
  ['10.244.1.5', { namespace: 'lb', name: 'a' }],
  ['10.244.1.6', { namespace: 'lb', name: 'b' }],
]);
const context = { nodeName: 'n1', podByIp, skipped: [{ vip: VIP, pod: 'b', reason: 'pod b is not Ready' }] };

const summary = (events: ReturnType<typeof changeEvents>) =>
  events.map((e) => `${e.regarding.name} ${e.type} ${e.reason}: ${e.note}`);

describe('changeEvents', () => {
  it('a pod that joins a route is Routed; one that leaves is Unrouted with its own reason', () => {
    const change = {
      kind: 'replace',
      vip: VIP,
      nexthops: ['10.244.1.5'],
      from: ['10.244.1.6'],
      create: false,
      reason: 'next hops changed for web',
    } as const;
    expect(summary(changeEvents({ change }, context))).toEqual([
      `a Normal Routed: node n1 routes ${VIP} to this pod (10.244.1.5), ECMP over 1 pod`,
      `b Normal Unrouted: node n1 no longer routes ${VIP} to this pod (10.244.1.6): pod b is not Ready`,
    ]);
  });

  it('a deleted route tells every pod it had; unchanged hops say nothing', () => {
    const change = { kind: 'delete', vip: VIP, metric: 0, from: ['10.244.1.5'], reason: 'gone' } as const;
    expect(summary(changeEvents({ change }, context))).toEqual([
      `a Normal Unrouted: node n1 no longer routes ${VIP} to this pod (10.244.1.5): gone`,
    ]);
    const same = {
      kind: 'replace',
      vip: VIP,
      nexthops: ['10.244.1.5'],
      from: ['10.244.1.5'],
      create: false,
      reason: 'x',
    } as const;
    expect(changeEvents({ change: same }, context)).toEqual([]);
  });

  it('a route turned blackhole tells every pod it had', () => {
    const change = {
      kind: 'replace',
      vip: VIP,
      nexthops: [],
      from: ['10.244.1.5'],
      create: false,
      reason: 'blackholed',
    } as const;
    expect(summary(changeEvents({ change }, context))).toEqual([
      `a Normal Unrouted: node n1 no longer routes ${VIP} to this pod (10.244.1.5): blackholed`,
    ]);
  });

  it('a failed change is a Warning on the pods it was for', () => {
    const change = {
      kind: 'replace',
      vip: VIP,
      nexthops: ['10.244.1.5', '10.244.1.9'],
      from: [],
      create: true,
      reason: 'new',
    } as const;
    expect(summary(changeEvents({ change, error: 'invalid gateway' }, context))).toEqual([
      `a Warning Failed: node n1: replace of the route to ${VIP} failed: invalid gateway`,
    ]);
  });
});
