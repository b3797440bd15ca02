import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createTunnelCheck, probeTarget } from '../../src/dataplane/tunnel-check.js';
import { silentLogger } from '../../src/runtime/logger.js';
import { CommandError } from '../../src/system/exec.js';
import { v4, webModel } from './fixtures.js';

/** A runner where `ping` answers only for the given targets (`mark@target` through the tunnel). */
function pinger(answers: string[]) {
  const seen: string[] = [];
  const run = async (argv: readonly string[]) => {
    const target = argv.at(-1)!;
    const mark = argv.includes('-m') ? argv[argv.indexOf('-m') + 1] : undefined;
    const key = mark === undefined ? target : `${mark}@${target}`;
    seen.push(key);
    if (!answers.includes(key)) throw new CommandError(argv, 1, '');
    return { stdout: '', stderr: '' };
  };
  return { run, seen };
}

const model = webModel({ backends: [v4('10.98.0.21'), v4('10.98.0.22')] }, { forwarding: 'tunnel' });
const be1 = `${0x0a620015}@10.1.1.1`;
const be2 = `${0x0a620016}@10.1.1.1`;

describe('probeTarget', () => {
  it.each([
    ['10.1.1.0/24', '10.1.1.1'],
    ['10.1.2.0/28', '10.1.2.1'],
    ['10.1.3.7/32', '10.1.3.7'],
  ])('probes %s at %s', (vip, target) => {
    expect(probeTarget(vip)).toBe(target);
  });
});

describe('tunnel check', () => {
  it('sends each backend an echo with its mark, and passes those that answer', async () => {
    const { run, seen } = pinger([be1, be2]);
    const registry = new Registry();
    const check = createTunnelCheck({ run, logger: silentLogger(), registry });
    await check.run(model);
    expect(seen.sort()).toEqual([be1, be2].sort());
    expect([check.notReady(), check.degraded()]).toEqual([[], []]);
    expect(await registry.getSingleMetricAsString('portlb_dataplane_tunnel_backend_up')).toContain(
      'portlb_dataplane_tunnel_backend_up{service="web",backend="10.98.0.21:8080"} 1',
    );
  });

  it('says which backend fails and why: reachable but no decapsulation side, or not reachable at all', async () => {
    const { run } = pinger([be1, '10.98.0.22']);
    const check = createTunnelCheck({ run, logger: silentLogger(), registry: new Registry() });
    await check.run(model);
    expect(check.degraded()).toEqual([
      'service web: backend 10.98.0.22:8080 fails the tunnel check: answers at 10.98.0.22 but not through the tunnel (VXLAN 4242, UDP 4789, MAC 02:70:0a:62:00:16) for 10.1.1.0/24: no decapsulating plbvx0 there, or 10.1.1.0/24 not local, or rp_filter drops it; run portlb backend-setup on it',
    ]);
    expect(check.notReady()).toEqual([]);
    const gone = pinger([]);
    const down = createTunnelCheck({ run: gone.run, logger: silentLogger(), registry: new Registry() });
    await down.run(model);
    expect(down.degraded()[0]).toContain('does not answer at 10.98.0.21 either: unreachable or down');
    expect(down.notReady()).toEqual(['service web: none of its 2 backend(s) answers through the tunnel']);
    expect(down.status()).toMatchObject({ backends: { 'web/10.98.0.21:8080': { ok: false } } });
  });

  it('says when ping itself cannot run, instead of blaming the backends', async () => {
    const run = async (argv: readonly string[]) => {
      throw new CommandError(argv, 2, 'ping: socket: Operation not permitted');
    };
    const check = createTunnelCheck({ run, logger: silentLogger(), registry: new Registry() });
    await check.run(model);
    expect(check.degraded()[0]).toContain(
      'cannot run ping in the LB: ping -n -q -c 1 -W 1 -m 174194709 10.1.1.1: ping: socket: Operation not permitted',
    );
    expect(check.degraded()[0]).not.toContain('unreachable or down');
  });
});
