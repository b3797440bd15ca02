import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { GateState } from '../../src/health/gate.js';
import { createHealthMetrics, createHealthMonitor } from '../../src/health/monitor.js';
import type { Probe, ProbeResult } from '../../src/health/probe.js';
import { silentLogger } from '../../src/runtime/logger.js';

function scripted(results: boolean[]): Probe {
  return {
    once: async () => ({ ok: true, detail: 'x' }),
    any: async (): Promise<ProbeResult> => {
      const ok = results.shift() ?? false;
      return { ok, detail: ok ? 'connected' : 'refused' };
    },
  };
}

describe('health monitor', () => {
  it('flips the gate with rise/fall, tells the mode, and exports it', async () => {
    // prepare
    const registry = new Registry();
    const flips: GateState[] = [];
    const monitor = createHealthMonitor({
      name: 'web',
      endpoints: () => [{ host: '10.0.0.1', port: 80 }],
      probe: scripted([true, true, false, true, false, false]),
      rise: 2,
      fall: 2,
      intervalMs: 1000,
      logger: silentLogger(),
      metrics: createHealthMetrics(registry),
      onChange: (s) => flips.push(s),
      sleep: async () => {},
    });
    // act
    for (let i = 0; i < 6; i++) await monitor.step();
    // assess
    expect(flips.map((f) => f.healthy)).toEqual([true, false]);
    expect(monitor.state()).toEqual({ healthy: false, reason: '2 probe(s) failed: refused' });
    const text = await registry.metrics();
    expect(text).toContain('portlb_health_healthy{service="web"} 0');
    expect(text).toContain('portlb_health_probes_total{service="web",result="ok"} 3');
    expect(text).toContain('portlb_health_transitions_total{service="web",to="healthy"} 1');
  });

  it('runs on its own clock until stopped', async () => {
    let sleeps = 0;
    const monitor = createHealthMonitor({
      name: 'web',
      endpoints: () => [],
      probe: scripted([true, true, true]),
      rise: 1,
      fall: 1,
      intervalMs: 5,
      logger: silentLogger(),
      metrics: createHealthMetrics(new Registry()),
      onChange: () => {},
      sleep: (ms, signal) =>
        new Promise((resolve) => {
          sleeps += 1;
          const t = setTimeout(resolve, ms);
          signal.addEventListener('abort', () => {
            clearTimeout(t);
            resolve();
          });
        }),
    });
    monitor.start();
    await new Promise((r) => setTimeout(r, 50));
    await monitor.stop();
    const after = sleeps;
    await new Promise((r) => setTimeout(r, 30));
    expect(after).toBeGreaterThan(1);
    expect(sleeps).toBe(after);
    expect(monitor.state().healthy).toBe(false); // the script ran out: refused
  });

  describe('with many endpoints', () => {
    const endpoints = Array.from({ length: 1000 }, (_, i) => ({
      host: `10.0.${i >> 8}.${i & 255}`,
      port: 80,
    }));

    /** A probe over real endpoint lists: `up` says which answer; every round's list is kept. */
    function recording(up: (host: string) => boolean) {
      const rounds: string[][] = [];
      const probe: Probe = {
        once: async () => ({ ok: true, detail: 'x' }),
        any: async (list) => {
          rounds.push(list.map((e) => e.host));
          const endpoint = list.find((e) => up(e.host));
          return endpoint ? { ok: true, detail: 'connected', endpoint } : { ok: false, detail: 'refused' };
        },
      };
      return { probe, rounds };
    }

    const monitorOf = (probe: Probe) =>
      createHealthMonitor({
        name: 'web',
        endpoints: () => endpoints,
        probe,
        rise: 1,
        fall: 1,
        intervalMs: 1000,
        logger: silentLogger(),
        metrics: createHealthMetrics(new Registry()),
        onChange: () => {},
        sleep: async () => {},
      });

    it('probes only the endpoint that answered last, once healthy', async () => {
      const { probe, rounds } = recording(() => true);
      const monitor = monitorOf(probe);
      for (let i = 0; i < 5; i++) await monitor.step();
      expect(rounds[0]).toHaveLength(1000);
      expect(rounds.slice(1)).toEqual(Array(4).fill(['10.0.0.0']));
      expect(monitor.state().healthy).toBe(true);
    });

    it('probes all the others when the last good one stops answering: one answer keeps it healthy', async () => {
      let up = (_host: string) => true;
      const { probe, rounds } = recording((host) => up(host));
      const monitor = monitorOf(probe);
      await monitor.step();
      // Everything but the last backend is down (and still listed as ready).
      up = (host) => host === '10.0.3.231';
      await monitor.step();
      expect(rounds.slice(1).map((r) => r.length)).toEqual([1, 999]);
      expect(monitor.state().healthy).toBe(true);
      await monitor.step();
      expect(rounds.at(-1)).toEqual(['10.0.3.231']);
    });

    it('fails only when no endpoint answers', async () => {
      const { probe, rounds } = recording(() => false);
      const monitor = monitorOf(probe);
      await monitor.step();
      await monitor.step();
      expect(rounds.map((r) => r.length)).toEqual([1000, 1000]);
      expect(monitor.state()).toEqual({ healthy: false, reason: 'failing: refused' });
    });
  });
});
