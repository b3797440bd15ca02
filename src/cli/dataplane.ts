import { Registry } from 'prom-client';
import { type Config, loadConfig } from '../config/load.js';
import { DEFAULT_DATA_PLANE } from '../config/schema.js';
import type { SyncOutcome } from '../dataplane/controller.js';
import { createDataPlane } from '../dataplane/create.js';
import { ConfigError } from '../errors.js';
import { createLogger, type Logger } from '../runtime/logger.js';
import { createMetrics, type Metrics } from '../runtime/metrics.js';
import { createProcess } from '../runtime/process.js';
import { type BackendSource, createStaticBackends } from '../sources/backends.js';

export interface DataPlaneOptions {
  config: string;
  once?: boolean;
  netns?: string;
  json?: boolean;
}

function summary(outcome: SyncOutcome): string {
  const lines = outcome.writers.map(
    ({ writer, outcome: o }) => `${writer}: ${o.action}${o.reason.detail ? ` (${o.reason.detail})` : ''}`,
  );
  for (const s of outcome.model?.services ?? []) {
    lines.push(`service ${s.name}: ${s.backends.length} ready backend(s), ${s.draining.length} draining`);
  }
  return `${lines.join('\n')}\n`;
}

/** The services' backends: the static lists, and with a `kubernetes` section the EndpointSlices. */
async function backendsFor(config: Config, logger: Logger, metrics: Metrics): Promise<BackendSource> {
  const k = config.kubernetes;
  if (k === undefined) return createStaticBackends(config);
  const namespace = k.namespace ?? config.identity.podNamespace;
  if (namespace === undefined) {
    throw new ConfigError('kubernetes.namespace is not set and POD_NAMESPACE is not in the environment', [
      {
        path: 'kubernetes.namespace',
        message: 'name the namespace of the backend Services, or set POD_NAMESPACE',
      },
    ]);
  }
  // Loaded only with a kubernetes section, as in the sidecar: the client is most of the memory.
  const [{ serviceBackends }, { loadKubeConfig }, { kubeMetrics }] = await Promise.all([
    import('../sources/kubernetes/context.js'),
    import('../kube/client.js'),
    import('../kube/metrics.js'),
  ]);
  return serviceBackends({
    config,
    kubeConfig: loadKubeConfig(k.kubeconfig),
    namespace,
    relistMs: k.resyncSeconds * 1000,
    logger,
    metrics: kubeMetrics(metrics.registry),
  });
}

/** `tunnel` with Kubernetes: the other LB pods, where the LBs compare their Maglev tables. */
async function peersFor(config: Config): Promise<{ peers?: () => Promise<readonly string[]> }> {
  const k = config.kubernetes;
  const dataPlane = config.dataPlane ?? DEFAULT_DATA_PLANE;
  if (k === undefined || dataPlane.forwarding !== 'tunnel' || dataPlane.tunnel.peers.length > 0) return {};
  const namespace = k.namespace ?? config.identity.podNamespace;
  if (namespace === undefined) return {};
  const [{ kubernetesPeers }, { loadKubeConfig }] = await Promise.all([
    import('../dataplane/peers-kube.js'),
    import('../kube/client.js'),
  ]);
  const port = Number(dataPlane.listen.slice(dataPlane.listen.lastIndexOf(':') + 1));
  return {
    peers: kubernetesPeers({
      kubeConfig: loadKubeConfig(k.kubeconfig),
      namespace,
      selector: k.lbPodSelector,
      self: config.identity.podName,
      port,
    }),
  };
}

/** `--once`: one sync from the config's static backends, then exit (0 when the rules serve). */
async function once(config: Config, options: DataPlaneOptions): Promise<number> {
  const kube = config.services.flatMap((s, i) => ('kubernetes' in s.backends ? [i] : []));
  if (kube.length > 0) {
    throw new ConfigError(
      '--once reads static backends only',
      kube.map((i) => ({
        path: `services[${i}].backends`,
        message: 'Kubernetes backends need the long-running process (drop --once)',
      })),
    );
  }
  const controller = createDataPlane({
    config,
    backends: createStaticBackends(config),
    logger: createLogger(config.log.level),
    registry: new Registry(),
    netns: options.netns,
  });
  await controller.start();
  const outcome = await controller.sync('once');
  await controller.checked();
  const notReady = controller.notReady();
  if (options.json) {
    const status = controller.status();
    process.stdout.write(`${JSON.stringify({ ...outcome, status, notReady }, null, 2)}\n`);
  } else {
    process.stdout.write(summary(outcome));
    for (const reason of notReady) process.stderr.write(`not ready: ${reason}\n`);
  }
  controller.stop();
  return notReady.length > 0 ? 1 : 0;
}

/**
 * `portlb dataplane`: the LB pod's data-plane container. It keeps the rules equal to the
 * services' ready backends (EndpointSlices with a `kubernetes` section), on the same process
 * harness as the sidecar: level-triggered syncs, a periodic resync, `/readyz` from what can serve.
 * On SIGTERM it stops watching and leaves the rules: they are kernel state in the pod's network
 * namespace and keep serving established flows while the sidecar drains, until the pod is gone.
 */
export async function runDataPlane(options: DataPlaneOptions): Promise<number> {
  const config = await loadConfig(options.config, process.env, { checkFiles: ['kubeconfig'] });
  if (options.once) return once(config, options);
  const logger = createLogger(config.log.level);
  const metrics = createMetrics();
  const dataPlane = config.dataPlane ?? DEFAULT_DATA_PLANE;
  const proc = createProcess({
    logger,
    metrics,
    listen: dataPlane.listen,
    resyncMs: config.reconcile.resyncSeconds * 1000,
    debounceMs: config.reconcile.debounceMs,
  });
  const backends = await backendsFor(config, logger, metrics);
  const controller = createDataPlane({
    config,
    backends,
    logger,
    registry: metrics.registry,
    trigger: proc.trigger,
    netns: options.netns,
    ...(await peersFor(config)),
  });
  return proc.run({
    pass: async (why) => {
      await controller.sync(why);
      return undefined;
    },
    readiness: () => ({ reasons: controller.notReady(), detail: { dataPlane: controller.status() } }),
    start: async () => {
      await backends.start?.();
      await controller.start();
    },
    close: async () => {
      controller.stop();
      await backends.stop?.();
      logger.info({ event: 'stopped' }, 'data plane stopped; its rules stay in place');
    },
  });
}
