import { describe, expect, it } from 'vitest';
import type { Change, DesiredRoute, ObservedRoute } from '../../src/core/model.js';
import { TransientError } from '../../src/errors.js';
import { createMemoryProvider } from '../../src/providers/memory.js';
import type { Provider } from '../../src/providers/types.js';
import { silentLogger } from '../../src/runtime/logger.js';
import { createMetrics } from '../../src/runtime/metrics.js';
import { createReconciler } from '../../src/runtime/reconcile.js';

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

function setup(provider: Provider) {
  const metrics = createMetrics({ defaults: false });
  const reconciler = createReconciler({
    source: { desired: async () => desired },
    provider,
    owner: 'me',
    logger: silentLogger(),
    metrics,
  });
  return { reconciler, metrics };
}

describe('createReconciler', () => {
  it('applies the plan and a second pass changes nothing', async () => {
    const stale: ObservedRoute = {
      table: 't',
      vip: '10.1.1.0/24',
      target: 'b',
      owner: 'me',
      state: 'active',
    };
    const provider = createMemoryProvider({
      tables: ['t'],
      cardinality: 'multi',
      owner: 'me',
      routes: [stale],
    });
    const { reconciler, metrics } = setup(provider);

    const first = await reconciler.reconcile();
    const second = await reconciler.reconcile();

    expect(first.applied.map((c) => `${c.kind} ${c.target}`)).toEqual(['create a', 'delete b']);
    expect(second.applied).toEqual([]);
    expect(provider.routes().map((r) => r.target)).toEqual(['a']);
    expect((await metrics.reconciles.get()).values).toEqual([{ labels: { result: 'ok' }, value: 2 }]);
  });

  it('plans without applying when apply is false', async () => {
    const provider = createMemoryProvider({ tables: ['t'], cardinality: 'multi', owner: 'me' });
    const reconciler = createReconciler({
      source: { desired: async () => desired },
      provider,
      owner: 'me',
      logger: silentLogger(),
      apply: false,
    });
    const outcome = await reconciler.reconcile();
    expect(outcome.plan.changes).toHaveLength(1);
    expect(provider.routes()).toEqual([]);
  });

  it('applies every change it can and then raises the first failure, typed', async () => {
    const memory = createMemoryProvider({ tables: ['t1', 't2'], cardinality: 'multi', owner: 'me' });
    const flaky: Provider = {
      ...memory,
      async apply(changes: readonly Change[]) {
        return changes.map((change) =>
          change.table === 't1' ? { change, error: new TransientError('RequestLimitExceeded') } : { change },
        );
      },
    };
    const { reconciler, metrics } = setup(flaky);
    await expect(reconciler.reconcile()).rejects.toBeInstanceOf(TransientError);
    const counted = (await metrics.changes.get()).values.map((v) => `${v.labels.result}:${v.value}`);
    expect(counted.sort()).toEqual(['error:1', 'ok:1']);
  });
});
