import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { createBgpMode, exabgpEnv } from '../../src/modes/bgp.js';
import { silentLogger } from '../../src/runtime/logger.js';
import { createMetrics } from '../../src/runtime/metrics.js';

const doc = {
  mode: 'bgp',
  owner: 'lab',
  allowedVipPools: ['10.1.0.0/16'],
  services: [
    {
      name: 'web',
      vip: '10.1.1.0/24',
      ports: [{ port: 80 }],
      backends: { static: [{ address: '10.98.0.21', port: 8080 }] },
    },
  ],
  bgp: {
    localAs: 65000,
    peers: [{ address: '10.99.0.2', as: 65000 }],
    exabgp: { env: { 'exabgp.api.ack': 'false' } },
  },
};

async function mode(env: NodeJS.ProcessEnv) {
  const config = parseConfig(doc, env);
  return createBgpMode({
    config,
    logger: silentLogger(),
    metrics: createMetrics({ defaults: false }),
    trigger: () => {},
  });
}

describe('bgp mode', () => {
  it('wants only itself: each VIP to this node, unhealthy until its gate opens', async () => {
    const runtime = await mode({ HOST_IP: '10.99.0.11' });
    expect(await runtime.source.desired()).toEqual([
      {
        vip: '10.1.1.0/24',
        service: 'web',
        candidates: [{ target: '10.99.0.11', healthy: false, reason: 'health gate: not probed yet' }],
      },
    ]);
    expect(runtime.provider).toMatchObject({ name: 'bgp', cardinality: 'multi' });
    expect(runtime.canWrite?.()).toBe(false);
    expect(runtime.notReady?.()).toEqual([
      'exabgp is not connected',
      'no BGP session is up: 10.99.0.2 down (exabgp not connected yet)',
      'service web not announced: not probed yet',
    ]);
  });

  it('refuses to start without a next hop', async () => {
    await expect(mode({})).rejects.toBeInstanceOf(ConfigError);
  });

  it('keeps exabgp acks and JSON on whatever the config says', () => {
    const env = exabgpEnv({ 'exabgp.api.ack': 'false', 'exabgp.log.level': 'DEBUG' });
    expect(env).toMatchObject({
      'exabgp.api.ack': 'true',
      'exabgp.api.encoder': 'json',
      'exabgp.log.level': 'DEBUG',
    });
  });
});
