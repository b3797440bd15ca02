import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';

const base = (kubernetes: unknown) => ({
  mode: 'bgp',
  allowedVipPools: ['10.1.0.0/16'],
  services: [
    { name: 'web', vip: '10.1.1.0/24', ports: [{ port: 80 }], backends: { kubernetes: { service: 'web' } } },
  ],
  bgp: { localAs: 65000, peers: [{ address: '10.99.0.2', as: 65000 }] },
  kubernetes,
});

function problemsOf(doc: unknown): string[] {
  try {
    parseConfig(doc, {});
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems.map((p) => `${p.path}: ${p.message}`);
  }
}

describe('the kubernetes config section', () => {
  it('fills the defaults: 5 min relist, a 15/10/2 s Lease, Events on', () => {
    const config = parseConfig(base({ lbPodSelector: 'app=web-lb' }), { POD_NAMESPACE: 'web' });
    expect(config.kubernetes).toEqual({
      lbPodSelector: 'app=web-lb',
      resyncSeconds: 300,
      lease: { durationSeconds: 15, renewSeconds: 10, retrySeconds: 2 },
      events: { enabled: true },
    });
  });

  it.each([
    [{}, 'kubernetes.lbPodSelector'],
    [
      { lbPodSelector: 'a=b', lease: { durationSeconds: 5, renewSeconds: 5, retrySeconds: 1 } },
      'retrySeconds < renewSeconds < durationSeconds',
    ],
    [{ lbPodSelector: 'a=b', candidates: 'some' }, 'kubernetes.candidates'],
    [{ lbPodSelector: 'a=b', namespace: 'Not_A_Label' }, 'kubernetes.namespace'],
    [{ lbPodSelector: 'a=b', leader: true }, 'leader'],
  ])('refuses %j, naming the field', (kubernetes, expected) => {
    expect(problemsOf(base(kubernetes)).join('\n')).toContain(expected);
  });
});

describe('the nodeAgent config section', () => {
  const withAgent = (nodeAgent?: unknown) => ({
    ...base({ lbPodSelector: 'app=web-lb', namespace: 'web' }),
    ...(nodeAgent !== undefined && { nodeAgent }),
  });

  it('defaults: routes marked proto 202, the own netns, health on :9403, blackholes held 10 s', () => {
    expect(parseConfig(withAgent(), {}).nodeAgent).toEqual({
      routeProtocol: 202,
      listen: '0.0.0.0:9403',
      blackholeSeconds: 10,
    });
    expect(
      parseConfig(withAgent({ routeProtocol: 250, netns: 'lab', blackholeSeconds: 0 }), {}).nodeAgent,
    ).toEqual({
      routeProtocol: 250,
      netns: 'lab',
      listen: '0.0.0.0:9403',
      blackholeSeconds: 0,
    });
  });

  it.each<[unknown, string]>([
    [4, 'nodeAgent.routeProtocol: must be 5-255: 0-4 are unspec, redirect, kernel, boot and static'],
    [256, 'nodeAgent.routeProtocol: Too big: expected number to be <=255'],
    [20.5, 'nodeAgent.routeProtocol: Invalid input: expected int, received number'],
  ])('refuses routeProtocol %s', (routeProtocol, problem) => {
    expect(problemsOf(withAgent({ routeProtocol }))).toEqual([problem]);
  });
});
