import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { DesiredRoute } from '../../src/core/model.js';
import { ConfigError, TransientError } from '../../src/errors.js';
import { bgpMode } from '../../src/modes/bgp/index.js';
import { createBgpMode, exabgpEnv } from '../../src/modes/bgp/sidecar.js';
import { createLogger, silentLogger } from '../../src/runtime/logger.js';
import { createMetrics } from '../../src/runtime/metrics.js';
import { createStaticBackends } from '../../src/sources/backends.js';
import type { KubernetesContext } from '../../src/sources/kubernetes/context.js';

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

async function mode(
  env: NodeJS.ProcessEnv,
  lifecycle?: () => Promise<DesiredRoute[]>,
  logger = silentLogger(),
  overrides: Record<string, unknown> = {},
) {
  const config = parseConfig({ ...doc, ...overrides }, env);
  // Only the two members bgp mode reads; the real runtime is tested on a real API server.
  const kubernetes =
    lifecycle &&
    ({
      source: { desired: lifecycle },
      backends: createStaticBackends(config),
    } as unknown as KubernetesContext);
  return createBgpMode({
    config,
    logger,
    metrics: createMetrics({ defaults: false }),
    trigger: () => {},
    ...(kubernetes && { kubernetes }),
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
    expect(runtime.registry).toMatchObject({ name: 'bgp', owner: 'lab' });
    expect(bgpMode.cardinality).toBe('multi');
    expect(runtime.canWrite?.()).toBe(false);
    expect(runtime.notReady?.()).toEqual([
      'exabgp is not connected',
      'no BGP session is up: 10.99.0.2 down (exabgp not connected yet)',
      'service web not announced: not probed yet',
    ]);
  });

  it('with Kubernetes, also withdraws for its own pod: terminating, not serving, caches not synced', async () => {
    const own = (healthy: boolean, reason?: string): DesiredRoute[] => [
      {
        vip: '10.1.1.0/24',
        service: 'web',
        candidates: [{ target: '10.99.0.11', healthy, ...(reason && { reason }) }],
      },
    ];
    const terminating = await mode({ HOST_IP: '10.99.0.11' }, async () =>
      own(false, 'pod lb-1 is terminating'),
    );
    expect((await terminating.source.desired())[0]?.candidates[0]?.reason).toBe(
      'health gate: not probed yet; pod lb-1 is terminating',
    );
    const notServing = await mode({ HOST_IP: '10.99.0.11' }, async () => [
      { vip: '10.1.1.0/24', service: 'web', candidates: [] },
    ]);
    expect((await notServing.source.desired())[0]?.candidates[0]?.reason).toContain(
      'this LB pod does not serve the service',
    );
    const unsynced = await mode({ HOST_IP: '10.99.0.11' }, async () => {
      throw new TransientError('kubernetes informers not synced yet: lb-pods');
    });
    await expect(unsynced.source.desired()).rejects.toBeInstanceOf(TransientError);
  });

  it('refuses an IPv6 VIP with an IPv4 next hop, before anything is announced', async () => {
    const v6 = {
      ...doc,
      allowedVipPools: ['2001:db8:1::/48'],
      services: [{ ...doc.services[0]!, vip: '2001:db8:1::/64' }],
    };
    const config = parseConfig(v6, { HOST_IP: '10.99.0.11' });
    const deps = {
      config,
      logger: silentLogger(),
      metrics: createMetrics({ defaults: false }),
      trigger: () => {},
    };
    await expect(createBgpMode(deps)).rejects.toThrow(/not of the VIPs' address family/);
  });

  it('says so when it shuts down with exabgp away, instead of claiming acknowledged withdraws', async () => {
    const lines: { msg: string; event?: string }[] = [];
    const logger = createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line)) });
    const runtime = await mode({ HOST_IP: '10.99.0.11' }, undefined, logger, { drain: { seconds: 0 } });
    await runtime.shutdown?.();
    expect(lines.filter((l) => l.event === 'withdrawn').map((l) => l.msg)).toEqual([
      'exabgp is not connected: no session carries our routes',
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
