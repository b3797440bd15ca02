import { agentKubernetes, createNodeAgent } from '../agent/agent.js';
import { createRouteTable } from '../agent/iproute.js';
import { agentListen } from '../agent/listen.js';
import { loadConfig } from '../config/load.js';
import { ConfigError, errorMessage, isTransient } from '../errors.js';
import { loadKubeConfig } from '../kube/client.js';
import { createLogger } from '../runtime/logger.js';
import { createLoop } from '../runtime/loop.js';
import { createMetrics } from '../runtime/metrics.js';
import { startHealthServer } from '../runtime/server.js';
import { onShutdown } from '../runtime/shutdown.js';

export interface NodeAgentOptions {
  config: string;
  netns?: string;
}

/**
 * The node agent's composition root: config, the node's route table, the agent, the loop, the
 * health server and signals. SIGTERM stops watching and exits; it never removes a route, so the
 * node keeps forwarding VIP traffic while the DaemonSet rolls (the next agent reconciles from
 * what `ip` shows).
 */
export async function runNodeAgent(options: NodeAgentOptions): Promise<number> {
  const config = await loadConfig(options.config);
  const nodeName = config.identity.nodeName;
  if (nodeName === undefined) {
    throw new ConfigError('NODE_NAME is not in the environment', [
      { path: 'env.NODE_NAME', message: 'set it from the Downward API (fieldPath: spec.nodeName)' },
    ]);
  }
  const kubernetes = agentKubernetes(config);
  const listen = agentListen(config.nodeAgent.listen, config.identity);
  const logger = createLogger(config.log.level);
  const metrics = createMetrics();
  const netns = options.netns ?? config.nodeAgent.netns;
  const table = createRouteTable({ protocol: config.nodeAgent.routeProtocol, netns });
  let trigger: (why: string) => void = () => {};
  const agent = createNodeAgent({
    config,
    nodeName,
    kubeConfig: loadKubeConfig(kubernetes.kubeconfig),
    table,
    logger,
    metrics,
    trigger: (why) => trigger(why),
  });
  logger.info(
    { event: 'node_agent', node: nodeName, routeProtocol: table.protocol, netns: netns ?? '(own)' },
    `node agent for ${nodeName}`,
  );

  let lastError: string | undefined;
  let fatal: unknown;
  let failedPasses = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  const resyncMs = config.reconcile.resyncSeconds * 1000;
  const loop = createLoop({
    run: async (why) => {
      const outcome = await agent.reconcile(why);
      clearTimeout(retryTimer);
      const first = outcome.failed[0];
      if (first === undefined) {
        failedPasses = 0;
        lastError = undefined;
        return;
      }
      failedPasses += 1;
      lastError = `${outcome.failed.length} route change(s) failed: ${first.error}`;
      // A retry of its own, not the loop's: the loop's retry would hold every other VIP's update.
      if (outcome.retry) {
        const delay = Math.min(resyncMs, 500 * 2 ** Math.min(failedPasses - 1, 12));
        retryTimer = setTimeout(() => loop.trigger('retry failed route changes'), delay);
        retryTimer.unref();
      }
    },
    resyncMs,
    debounceMs: config.reconcile.debounceMs,
    onError: (error, { attempt, willRetry }) => {
      lastError = errorMessage(error);
      if (willRetry) metrics.retries.inc();
      logger[isTransient(error) ? 'warn' : 'error'](
        { event: 'reconcile_failed', attempt, willRetry, err: lastError },
        'node agent reconcile failed',
      );
      if (error instanceof ConfigError) fatal = error;
    },
  });
  trigger = (why) => loop.trigger(why);
  const server = await startHealthServer({
    listen,
    registry: metrics.registry,
    live: () => fatal === undefined,
    readiness: () => {
      const reasons = agent.notReady();
      return {
        ready: reasons.length === 0,
        reasons,
        detail: { ...agent.status(), ...(lastError && { lastError }) },
      };
    },
  });
  logger.info(
    { event: 'listening', address: `${server.address.address}:${server.address.port}` },
    'health server up',
  );

  const stopped = new Promise<number>((resolve) => {
    onShutdown(logger, async () => {
      await loop.stop();
      clearTimeout(retryTimer);
      await agent.stop();
      await server.close();
      logger.info({ event: 'stopped' }, 'node agent stopped; routes left in place');
      resolve(0);
    });
  });
  try {
    await agent.start();
  } catch (error) {
    await loop.stop();
    await agent.stop();
    await server.close();
    throw error;
  }
  loop.start();
  return stopped;
}
