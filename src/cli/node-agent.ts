import { agentKubernetes, createNodeAgent } from '../agent/agent.js';
import { createRouteTable } from '../agent/iproute.js';
import { agentListen } from '../agent/listen.js';
import { loadConfig } from '../config/load.js';
import { ConfigError } from '../errors.js';
import { loadKubeConfig } from '../kube/client.js';
import { createLogger } from '../runtime/logger.js';
import { createMetrics } from '../runtime/metrics.js';
import { createProcess } from '../runtime/process.js';

export interface NodeAgentOptions {
  config: string;
  netns?: string;
}

/**
 * The node agent's composition root: config, the node's route table, the agent, the process
 * harness. SIGTERM stops watching and exits; it never removes a route, so the node keeps
 * forwarding VIP traffic while the DaemonSet rolls (the next agent reconciles from what `ip` shows).
 */
export async function runNodeAgent(options: NodeAgentOptions): Promise<number> {
  const config = await loadConfig(options.config, process.env, { checkFiles: ['kubeconfig'] });
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
  const proc = createProcess({
    logger,
    metrics,
    listen,
    resyncMs: config.reconcile.resyncSeconds * 1000,
    debounceMs: config.reconcile.debounceMs,
  });
  const agent = createNodeAgent({
    config,
    nodeName,
    kubeConfig: loadKubeConfig(kubernetes.kubeconfig),
    table,
    logger,
    metrics,
    trigger: proc.trigger,
  });
  logger.info(
    { event: 'node_agent', node: nodeName, routeProtocol: table.protocol, netns: netns ?? '(own)' },
    `node agent for ${nodeName}`,
  );
  return proc.run({
    pass: (why) => agent.pass(why),
    readiness: () => ({ reasons: agent.notReady(), detail: agent.status() }),
    start: () => agent.start(),
    close: async () => {
      await agent.stop();
      logger.info({ event: 'stopped' }, 'node agent stopped; routes left in place');
    },
  });
}
