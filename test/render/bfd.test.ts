import { describe, expect, it } from 'vitest';
import { renderBfddConfig } from '../../src/render/bfd.js';
import { renderers } from '../../src/render/index.js';
import { expectGolden, topologyConfig, withBgp } from './golden.js';

describe('render bfdd', () => {
  it('one session per route reflector from the session source: single-hop where listed, else multihop', async () => {
    const config = withBgp(await topologyConfig({ HOST_IP: '10.99.0.12', POD_IP: '10.244.2.7' }), {
      bfd: { intervalMs: 250, multiplier: 4, singleHop: ['10.99.0.2'] },
    });
    const { text, self } = renderBfddConfig(config);
    expect(self.localAddress).toBe('10.244.2.7');
    expectGolden('bfdd-pod.conf', text);
  });

  it('is registered, and takes --node like exabgp', async () => {
    const config = withBgp(await topologyConfig(), {
      bfd: { intervalMs: 300, multiplier: 3, singleHop: [] },
    });
    const text = renderers.bfdd?.(config, { node: 'node1' }) ?? '';
    expect(text).toContain(' peer 10.99.0.2 multihop local-address 10.99.0.11');
    expect(text).toContain('  receive-interval 300');
  });

  it('refuses a single-hop route reflector that is not one', async () => {
    const config = withBgp(await topologyConfig(), {
      bfd: { intervalMs: 300, multiplier: 3, singleHop: ['10.99.0.9'] },
    });
    expect(() => renderBfddConfig(config, { node: 'node1' })).toThrow(/bgp.bfd.singleHop names 10.99.0.9/);
  });

  it('refuses without bgp.bfd, since the route reflectors would run none', async () => {
    const config = await topologyConfig();
    expect(() => renderBfddConfig(config, { node: 'node1' })).toThrow(/needs bgp.bfd/);
  });
});
