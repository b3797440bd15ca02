import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createBgpMetrics } from '../../../src/providers/bgp/metrics.js';
import {
  createExabgpSupervisor,
  type ExabgpSupervisor,
  restartDelay,
} from '../../../src/providers/bgp/supervisor.js';
import { silentLogger } from '../../../src/runtime/logger.js';

const fast = { minMs: 20, maxMs: 100, resetAfterMs: 60_000 };
const until = async (check: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

let running: ExabgpSupervisor | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

function supervise(command: string, args: string[]) {
  const registry = new Registry();
  const metrics = createBgpMetrics({ registry });
  running = createExabgpSupervisor({
    command,
    args,
    env: process.env,
    logger: silentLogger(),
    metrics,
    backoff: fast,
    stopTimeoutMs: 500,
  });
  return { supervisor: running, registry };
}

describe('exabgp supervisor', () => {
  it.each([
    [0, 0.5, 500],
    [1, 0.5, 1000],
    [10, 0.5, 30_000],
    [0, 0, 400],
    [0, 1, 600],
  ])('restart delay for attempt %i (random %f) is %i ms', (attempt, random, ms) => {
    expect(restartDelay(attempt, { minMs: 500, maxMs: 30_000, resetAfterMs: 1 }, () => random)).toBe(ms);
  });

  it('says clearly that exabgp is missing, and keeps retrying', async () => {
    const { supervisor, registry } = supervise('/nonexistent/exabgp', []);
    supervisor.start();
    await until(() => supervisor.status().lastError !== undefined);
    expect(supervisor.status().lastError).toMatch(/exabgp not found.*apt-get install exabgp/);
    await until(
      () => (registry.getSingleMetric('portlb_exabgp_starts_total') as { hashMap?: object }) !== undefined,
    );
    await new Promise((r) => setTimeout(r, 150));
    const text = await registry.getSingleMetricAsString('portlb_exabgp_starts_total');
    const errors = Number(/result="spawn_error"} (\d+)/.exec(text)?.[1]);
    expect(errors).toBeGreaterThan(1);
  });

  it('restarts an exabgp that exits', async () => {
    const { supervisor } = supervise('sh', ['-c', 'exit 3']);
    supervisor.start();
    await until(() => supervisor.status().starts >= 3);
    expect(supervisor.status().lastError).toMatch(/code 3|exited/);
  });

  it('stops a running exabgp with SIGTERM and does not restart it', async () => {
    const { supervisor } = supervise('sleep', ['30']);
    supervisor.start();
    await until(() => supervisor.status().running && supervisor.status().starts === 1);
    await supervisor.stop();
    expect(supervisor.status().running).toBe(false);
    await new Promise((r) => setTimeout(r, 100));
    expect(supervisor.status().starts).toBe(1);
  });

  it('kills a hung exabgp on request and starts a new one', async () => {
    const { supervisor } = supervise('sleep', ['30']);
    supervisor.start();
    await until(() => supervisor.status().running && supervisor.status().starts === 1);
    const first = supervisor.status().pid;
    supervisor.restart('it stopped answering');
    await until(() => supervisor.status().starts === 2 && supervisor.status().running);
    expect(supervisor.status().pid).not.toBe(first);
    expect(supervisor.status().lastError).toMatch(/SIGKILL/);
  });

  it('kills one that ignores SIGTERM', async () => {
    const { supervisor } = supervise('sh', ['-c', 'trap "" TERM; sleep 30 & wait; sleep 30']);
    supervisor.start();
    await until(() => supervisor.status().running);
    await new Promise((r) => setTimeout(r, 100)); // let the shell install its trap
    const started = Date.now();
    await supervisor.stop();
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(supervisor.status().running).toBe(false);
  });
});
