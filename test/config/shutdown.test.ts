import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';

/* bgp.shutdown: the SIGTERM wait for the router (docs/bgp.md), its bound and its command. */

const withShutdown = (shutdown: unknown) => ({
  mode: 'bgp',
  allowedVipPools: ['10.1.0.0/16'],
  services: [
    {
      name: 'web',
      vip: '10.1.1.0/24',
      ports: [{ port: 80 }],
      backends: { static: [{ address: '10.98.0.21', port: 8080 }] },
    },
  ],
  bgp: { localAs: 65000, peers: [{ address: '10.99.0.2', as: 65000 }], shutdown },
});

function paths(document: unknown): string[] {
  try {
    parseConfig(document, {});
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => p.path);
    throw error;
  }
}

describe('bgp.shutdown', () => {
  it('waits at most 10 s and asks no one by default', () => {
    const config = parseConfig(withShutdown(undefined), {});
    expect(config.bgp?.shutdown).toEqual({ nextHopWaitSeconds: 10 });
  });

  it('takes a command, polled every 200 ms unless told', () => {
    const config = parseConfig(
      withShutdown({ nextHopWaitSeconds: 5, confirm: { command: ['/bin/true'] } }),
      {},
    );
    expect(config.bgp?.shutdown).toEqual({
      nextHopWaitSeconds: 5,
      confirm: { command: ['/bin/true'], intervalMs: 200 },
    });
  });

  it.each([
    ['a wait longer than the chart allows', { nextHopWaitSeconds: 601 }, 'bgp.shutdown.nextHopWaitSeconds'],
    ['a negative wait', { nextHopWaitSeconds: -1 }, 'bgp.shutdown.nextHopWaitSeconds'],
    ['an empty command', { confirm: { command: [] } }, 'bgp.shutdown.confirm.command'],
    [
      'an interval under 10 ms',
      { confirm: { command: ['x'], intervalMs: 1 } },
      'bgp.shutdown.confirm.intervalMs',
    ],
    ['the old timeoutSeconds', { confirm: { command: ['x'], timeoutSeconds: 10 } }, 'bgp.shutdown.confirm'],
  ])('refuses %s', (_name, shutdown, path) => {
    expect(paths(withShutdown(shutdown))).toEqual([path]);
  });
});
