import type { Config } from '../config/load.js';
import type { Logger } from '../runtime/logger.js';
import type { BackendSource } from '../sources/backends.js';
import { probeTargets } from './endpoints.js';
import type { GateState } from './gate.js';
import { createHealthMetrics, createHealthMonitor, type HealthMonitor } from './monitor.js';
import { createProbe, realProbeDeps } from './probe.js';

export interface ServiceGates {
  gateOf(service: string): GateState;
  /** Healthy only when every service's gate passes; the reason names the first that does not. */
  overall(): GateState;
  start(): void;
  stop(): Promise<void>;
}

/**
 * One health monitor per configured service (rise/fall gate over its probe), built from the
 * config the way every mode needs it; a service that cannot be probed is unhealthy with the reason.
 */
export function createServiceGates(options: {
  config: Config;
  backends: BackendSource;
  hasKubernetes: boolean;
  registry: Parameters<typeof createHealthMetrics>[0];
  logger: Logger;
  onChange: (service: string) => void;
}): ServiceGates {
  const { config, logger } = options;
  const metrics = createHealthMetrics(options.registry);
  const probe = createProbe({
    type: config.health.probe.type,
    path: config.health.probe.path,
    timeoutMs: config.health.timeoutSeconds * 1000,
  });
  const gates = new Map<string, HealthMonitor | GateState>();
  for (const service of config.services) {
    const targets = probeTargets(service, config.health, options.backends, options.hasKubernetes);
    if ('unavailable' in targets) {
      logger.error({ event: 'health', service: service.name, reason: targets.unavailable }, 'cannot probe');
      gates.set(service.name, { healthy: false, reason: targets.unavailable });
      continue;
    }
    gates.set(
      service.name,
      createHealthMonitor({
        name: service.name,
        endpoints: targets.endpoints,
        probe,
        rise: config.health.rise,
        fall: config.health.fall,
        intervalMs: config.health.intervalSeconds * 1000,
        logger,
        metrics,
        onChange: () => options.onChange(service.name),
        sleep: realProbeDeps.sleep,
      }),
    );
  }
  const monitors = [...gates.values()].filter((g): g is HealthMonitor => 'start' in g);
  const gateOf = (name: string): GateState => {
    const gate = gates.get(name);
    if (gate === undefined) return { healthy: false, reason: 'no health gate' };
    return 'state' in gate ? gate.state() : gate;
  };
  return {
    gateOf,
    overall() {
      for (const service of config.services) {
        const gate = gateOf(service.name);
        if (!gate.healthy) return { healthy: false, reason: `service ${service.name}: ${gate.reason}` };
      }
      return { healthy: true, reason: 'every service passes its health check' };
    },
    start() {
      for (const monitor of monitors) monitor.start();
    },
    async stop() {
      await Promise.all(monitors.map((m) => m.stop()));
    },
  };
}
