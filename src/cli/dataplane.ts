import { Registry } from 'prom-client';
import { loadConfig } from '../config/load.js';
import type { SyncOutcome } from '../dataplane/controller.js';
import { createDataPlane } from '../dataplane/create.js';
import { ConfigError } from '../errors.js';
import { createLogger } from '../runtime/logger.js';
import { createStaticBackends } from '../sources/backends.js';

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

/**
 * `portlb dataplane --once`: one sync of the data plane from the config's static backends, then
 * exit (0 when the rules serve, 1 when they cannot). The long-running process, which follows
 * EndpointSlices and serves /readyz, is wired on the sidecar's harness.
 */
export async function runDataPlane(options: DataPlaneOptions): Promise<number> {
  if (!options.once) {
    throw new ConfigError('portlb dataplane runs with --once only for now', [
      { path: '--once', message: 'missing: the long-running data-plane process is not wired yet' },
    ]);
  }
  const config = await loadConfig(options.config);
  const kube = config.services.flatMap((s, i) => ('kubernetes' in s.backends ? [i] : []));
  if (kube.length > 0) {
    throw new ConfigError(
      '--once reads static backends only',
      kube.map((i) => ({
        path: `services[${i}].backends`,
        message: 'Kubernetes backends need the long-running process',
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
