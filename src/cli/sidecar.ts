import { loadConfig } from '../config/load.js';
import type { Change } from '../core/model.js';
import { modeDescriptor, resolveMode } from '../modes/index.js';
import { modePipeline } from '../modes/pipeline.js';
import type { ModeParts } from '../modes/types.js';
import { createFileProvider } from '../providers/file.js';
import { ownAsStored } from '../registry/simple.js';
import { createController, type RunOutcome } from '../runtime/controller.js';
import { createLogger } from '../runtime/logger.js';
import { createMetrics } from '../runtime/metrics.js';
import { createProcess } from '../runtime/process.js';
import type { RoutePlan } from '../runtime/route-pipeline.js';
import { createStaticSource } from '../sources/static.js';
import { formatPlan, planJson } from './format.js';
import { requireModeSection } from './mode-section.js';

export interface SidecarOptions {
  config: string;
  once?: boolean;
  state?: string;
  providerId?: string;
  json?: boolean;
}

function printOutcome(outcome: RunOutcome<Change, RoutePlan>, json: boolean | undefined): void {
  const { plan, applied, failed } = outcome;
  if (json) {
    const body = {
      plan: planJson(plan),
      applied: planJson({ changes: applied, skipped: [] }).changes,
      failed: failed.map((f) => ({
        change: planJson({ changes: [f.change], skipped: [] }).changes[0],
        error: f.error,
      })),
      desired: plan.desired,
    };
    process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    return;
  }
  const header = `reconciled: ${applied.length} applied, ${failed.length} failed`;
  process.stdout.write(`${formatPlan(plan, header)}\n`);
}

/** The sidecar's composition root: config, the mode's parts, the controller, the process harness. */
export async function runSidecar(options: SidecarOptions): Promise<number> {
  // The sidecar reads the speakers' keys (exabgp) and a kubeconfig, never the router's key.
  const config = await loadConfig(options.config, process.env, { checkFiles: ['tcp-md5-key', 'kubeconfig'] });
  const logger = createLogger(config.log.level);
  const metrics = createMetrics();
  const { nodeName } = config.identity;
  // Loaded only with a kubernetes section: it adds ~40 MB of RSS (bench:kube prints both).
  const kube = config.kubernetes ? await import('../sources/kubernetes/context.js') : undefined;
  // `auto` with Kubernetes: the own Node's providerID says which cloud this is.
  const providerId =
    options.providerId ??
    (config.mode === 'auto' && kube && nodeName
      ? await kube.readProviderId(config.kubernetes?.kubeconfig, nodeName)
      : undefined);
  const resolved = resolveMode(config.mode, providerId);
  // auto on a cloud node whose section is missing would start and route nothing there.
  requireModeSection(
    config,
    resolved.mode,
    config.mode === 'auto' ? `auto: ${resolved.reason}` : resolved.reason,
  );
  const mode = modeDescriptor(resolved.mode);
  logger.info({ event: 'mode', mode: mode.name, reason: resolved.reason }, `mode ${mode.name}`);

  const proc = createProcess({
    logger,
    metrics,
    listen: config.server.listen,
    resyncMs: config.reconcile.resyncSeconds * 1000,
    debounceMs: config.reconcile.debounceMs,
  });
  const kubernetes = kube
    ? kube.createKubernetesContext({ config, mode, logger, metrics, trigger: proc.trigger })
    : undefined;
  const parts: ModeParts = options.state
    ? {
        source: kubernetes?.source ?? createStaticSource(config, mode),
        ...(kubernetes?.elector && { canWrite: () => kubernetes.elector?.isLeader() ?? true }),
        registry: ownAsStored(
          await createFileProvider({
            path: options.state,
            tables: mode.configuredTables(config),
            owner: config.owner,
          }),
          config.owner,
        ),
      }
    : await mode.create({ config, logger, metrics, trigger: proc.trigger, kubernetes, providerId });
  const controller = createController(
    modePipeline(mode, { source: parts.source, registry: parts.registry, policy: config.reconcile.policy }),
    {
      logger,
      metrics,
    },
  );
  const start = async () => {
    await kubernetes?.start();
    await parts.start?.();
  };
  const close = async () => {
    await parts.close?.();
    await kubernetes?.stop();
  };

  if (options.once) {
    try {
      await start();
      // Writes only where the loop would: not without the Lease, never in a topology whose
      // sidecar holds no write permission (EventBridge, Pub/Sub). Otherwise the plan is printed.
      const apply = parts.canWrite?.() ?? true;
      if (!apply)
        process.stderr.write('portlb: this sidecar is not the writer now: planned only, nothing applied\n');
      const outcome = await controller.runOnce('once', { apply });
      printOutcome(outcome, options.json);
      return outcome.failed.length > 0 ? 1 : 0;
    } finally {
      await close();
    }
  }

  return proc.run({
    pass: async (why) => {
      // Not ours to write now: an old failure says nothing any more.
      if (parts.canWrite && !parts.canWrite()) return undefined;
      const outcome = await controller.runOnce(why);
      kubernetes?.recordChanges(outcome.applied, outcome.failed);
      if (outcome.error) throw outcome.error;
      return undefined;
    },
    readiness: () => ({
      reasons: [...(parts.notReady?.() ?? []), ...(kubernetes?.notReady() ?? [])],
      detail: { mode: mode.name, ...parts.status?.(), ...kubernetes?.status() },
    }),
    start,
    shutdown: async () => {
      // Hand the Lease over before draining, so another LB's sidecar writes while this one drains.
      await kubernetes?.elector?.stop({ release: true });
      await parts.shutdown?.();
    },
    close,
  });
}
