import { loadConfig } from '../config/load.js';
import { resolveMode } from '../core/mode.js';
import { ConfigError, errorMessage, isTransient } from '../errors.js';
import { modeFactory } from '../modes/index.js';
import type { ModeRuntime } from '../modes/types.js';
import { createFileProvider } from '../providers/file.js';
import { createLogger } from '../runtime/logger.js';
import { createLoop } from '../runtime/loop.js';
import { createMetrics } from '../runtime/metrics.js';
import { createReconciler, type ReconcileOutcome } from '../runtime/reconcile.js';
import { startHealthServer } from '../runtime/server.js';
import { onShutdown } from '../runtime/shutdown.js';
import { cardinalityOf, configuredTables, createStaticSource } from '../sources/static.js';
import { formatPlan } from './format.js';

export interface SidecarOptions {
  config: string;
  once?: boolean;
  state?: string;
  providerId?: string;
  json?: boolean;
}

function printOutcome(outcome: ReconcileOutcome, json: boolean | undefined): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(outcome, null, 2)}\n`);
    return;
  }
  const header = `reconciled: ${outcome.applied.length} applied, ${outcome.failed.length} failed`;
  process.stdout.write(`${formatPlan(outcome.plan, header)}\n`);
}

/** The sidecar's composition root: config, mode runtime, loop, health server, signals. */
export async function runSidecar(options: SidecarOptions): Promise<number> {
  const config = await loadConfig(options.config);
  const logger = createLogger(config.log.level);
  const metrics = createMetrics();
  const { nodeName } = config.identity;
  // Loaded only with a kubernetes section: it adds ~40 MB of RSS (bench:kube prints both).
  const kube = config.kubernetes ? await import('../sources/kubernetes/runtime.js') : undefined;
  // `auto` with Kubernetes: the own Node's providerID says which cloud this is.
  const providerId =
    options.providerId ??
    (config.mode === 'auto' && kube && nodeName
      ? await kube.readProviderId(config.kubernetes?.kubeconfig, nodeName)
      : undefined);
  const { mode, reason } = resolveMode(config.mode, providerId);
  logger.info({ event: 'mode', mode, reason }, `mode ${mode}`);

  let trigger: (why: string) => void = () => {};
  const kubernetes = kube
    ? kube.createKubernetesRuntime({ config, mode, logger, metrics, trigger: (why) => trigger(why) })
    : undefined;
  const deps = { config, logger, metrics, trigger: (why: string) => trigger(why), kubernetes, providerId };
  const runtime: ModeRuntime = options.state
    ? {
        mode,
        source: kubernetes?.source ?? createStaticSource(config, mode),
        ...(kubernetes?.elector && { canWrite: () => kubernetes.elector?.isLeader() ?? true }),
        provider: await createFileProvider({
          path: options.state,
          tables: configuredTables(config, mode),
          cardinality: cardinalityOf(mode),
          owner: config.owner,
        }),
      }
    : await (await modeFactory(mode))(deps);
  const reconciler = createReconciler({
    source: runtime.source,
    provider: runtime.provider,
    owner: config.owner,
    logger,
    metrics,
  });

  if (options.once) {
    try {
      await kubernetes?.start();
      await runtime.start?.();
      const outcome = await reconciler.reconcile('once');
      printOutcome(outcome, options.json);
      return outcome.failed.length > 0 ? 1 : 0;
    } finally {
      await runtime.close?.();
      await kubernetes?.stop();
    }
  }

  let lastError: string | undefined;
  let fatal: unknown;
  const loop = createLoop({
    run: async (why) => {
      if (runtime.canWrite && !runtime.canWrite()) {
        lastError = undefined; // not ours to write now: an old failure says nothing any more
        return;
      }
      const outcome = await reconciler.reconcile(why);
      kubernetes?.recordChanges(outcome.applied, outcome.failed);
      lastError = undefined;
    },
    resyncMs: config.reconcile.resyncSeconds * 1000,
    debounceMs: config.reconcile.debounceMs,
    onError: (error, { attempt, willRetry }) => {
      lastError = errorMessage(error);
      if (willRetry) metrics.retries.inc();
      const level = isTransient(error) ? 'warn' : 'error';
      logger[level]({ event: 'reconcile_failed', attempt, willRetry, err: lastError }, 'reconcile failed');
      if (error instanceof ConfigError) fatal = error;
    },
  });
  trigger = (why) => loop.trigger(why);
  const server = await startHealthServer({
    listen: config.server.listen,
    registry: metrics.registry,
    live: () => fatal === undefined,
    // A failed reconcile is not a reason to be unready: the pod's Ready condition makes it a route
    // target, so a throttled API call would take a healthy LB out of service. It shows in
    // `detail.lastError` and in the metrics instead.
    readiness: () => {
      const reasons = [...(runtime.notReady?.() ?? []), ...(kubernetes?.notReady() ?? [])];
      return {
        ready: reasons.length === 0,
        reasons,
        detail: { mode, ...(lastError && { lastError }), ...runtime.status?.(), ...kubernetes?.status() },
      };
    },
  });
  logger.info(
    { event: 'listening', address: `${server.address.address}:${server.address.port}` },
    'health server up',
  );

  const teardown = async () => {
    await runtime.close?.();
    await kubernetes?.stop();
    await server.close();
  };
  const stopped = new Promise<number>((resolve) => {
    onShutdown(logger, async () => {
      await loop.stop();
      // Hand the Lease over before draining, so another LB's sidecar writes while this one drains.
      await kubernetes?.elector?.stop({ release: true });
      await runtime.shutdown?.();
      await teardown();
      resolve(0);
    });
  });
  try {
    await kubernetes?.start();
    await runtime.start?.();
  } catch (error) {
    // Without this the open server and informers would keep a process alive that does nothing.
    await loop.stop();
    await teardown();
    throw error;
  }
  loop.start();
  return stopped;
}
