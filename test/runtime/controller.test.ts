import { describe, expect, it } from 'vitest';
import type { Change, DesiredRoute, ObservedRoute } from '../../src/core/model.js';
import type { Provider } from '../../src/core/ports.js';
import { TransientError } from '../../src/errors.js';
import { createMemoryProvider } from '../../src/providers/memory.js';
import { ownAsStored } from '../../src/registry/simple.js';
import { createController } from '../../src/runtime/controller.js';
import { createLogger, silentLogger } from '../../src/runtime/logger.js';
import { createMetrics } from '../../src/runtime/metrics.js';
import { createRoutePipeline } from '../../src/runtime/route-pipeline.js';

const desired: DesiredRoute[] = [
  {
    vip: '10.1.1.0/24',
    service: 'web',
    candidates: [
      { target: 'a', healthy: true },
      { target: 'b', healthy: false },
    ],
  },
];

function setup(provider: Provider, logger = silentLogger(), options: { quietRepeats?: boolean } = {}) {
  const metrics = createMetrics({ defaults: false });
  const pipeline = createRoutePipeline({
    source: { desired: async () => desired },
    registry: ownAsStored(provider, 'me'),
    cardinality: 'multi',
    whenNoneHealthy: 'withdraw',
  });
  return { controller: createController(pipeline, { logger, metrics, ...options }), metrics };
}

function flaky(tables: string[]): Provider {
  const memory = createMemoryProvider({ tables, owner: 'me' });
  return {
    ...memory,
    async apply(changes: readonly Change[]) {
      return changes.map((change) =>
        change.table === 't1' ? { change, error: new TransientError('RequestLimitExceeded') } : { change },
      );
    },
  };
}

describe('createController with the route pipeline', () => {
  it('applies the plan and a second pass changes nothing', async () => {
    const stale: ObservedRoute = {
      table: 't',
      vip: '10.1.1.0/24',
      target: 'b',
      owner: 'me',
      state: 'active',
    };
    const provider = createMemoryProvider({ tables: ['t'], owner: 'me', routes: [stale] });
    const { controller, metrics } = setup(provider);

    const first = await controller.runOnce('test');
    const second = await controller.runOnce('test');

    expect(first.applied.map((c) => `${c.kind} ${c.target}`)).toEqual(['create a', 'delete b']);
    expect(second.applied).toEqual([]);
    expect(provider.routes().map((r) => r.target)).toEqual(['a']);
    expect((await metrics.reconciles.get()).values).toEqual([{ labels: { result: 'ok' }, value: 2 }]);
  });

  it('plans without applying when apply is false', async () => {
    const provider = createMemoryProvider({ tables: ['t'], owner: 'me' });
    const { controller } = setup(provider);
    const outcome = await controller.runOnce('plan', { apply: false });
    expect(outcome.plan.changes).toHaveLength(1);
    expect(provider.routes()).toEqual([]);
  });

  it('applies every change it can and then reports the first failure, typed', async () => {
    const { controller, metrics } = setup(flaky(['t1', 't2']));
    const outcome = await controller.runOnce('test');
    expect(outcome.error).toBeInstanceOf(TransientError);
    expect(outcome.failed.map((f) => f.change.table)).toEqual(['t1']);
    const counted = (await metrics.changes.get()).values.map((v) => `${v.labels.result}:${v.value}`);
    expect(counted.sort()).toEqual(['error:1', 'ok:1']);
    expect((await metrics.reconciles.get()).values).toEqual([
      { labels: { result: 'transient_error' }, value: 1 },
    ]);
  });

  it('with quietRepeats, warns once about a failure that repeats, and again when it changes', async () => {
    const lines: { level: string; msg: string }[] = [];
    const logger = createLogger('debug', { write: (line: string) => void lines.push(JSON.parse(line)) });
    const { controller } = setup(flaky(['t1']), logger, { quietRepeats: true });
    await controller.runOnce('first');
    await controller.runOnce('second');
    const failures = lines.filter((l) => l.msg === 'route create failed').map((l) => l.level);
    expect(failures).toEqual(['warn', 'debug']);
  });

  it('never lets a change touch a route the owner does not hold', async () => {
    const foreign: ObservedRoute = {
      table: 't',
      vip: '10.1.1.0/24',
      target: 'x',
      owner: 'other',
      state: 'active',
    };
    const provider = createMemoryProvider({ tables: ['t'], owner: 'me', routes: [foreign] });
    const registry = ownAsStored(provider, 'me');
    const observation = await registry.observe();
    const [result] = await registry.apply(
      [{ kind: 'delete', table: 't', vip: '10.1.1.0/24', target: 'x', reason: { code: 'not_desired' } }],
      { observation, next: [] },
    );
    expect(String(result?.error)).toMatch(/not owned by me/);
    expect(provider.routes()).toEqual([foreign]);
  });
});
