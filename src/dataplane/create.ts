import type { Registry } from 'prom-client';
import type { Config } from '../config/load.js';
import { type DataPlaneConfig, DEFAULT_DATA_PLANE } from '../config/schema.js';
import type { Logger } from '../runtime/logger.js';
import type { BackendSource } from '../sources/backends.js';
import { createDataPlaneController, type DataPlaneController } from './controller.js';
import { createMaglevCheck } from './maglev-check.js';
import { createSystem, type DataPlaneSystem } from './system.js';
import { createTunnelCheck } from './tunnel-check.js';
import { cutTunnelFlows } from './tunnel-flows.js';
import { createWriters } from './writers.js';

export interface DataPlaneWiring {
  readonly config: Pick<Config, 'owner' | 'services' | 'dataPlane'>;
  /** Started (initial list done) before the first sync. */
  readonly backends: BackendSource;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly trigger?: (why: string) => void;
  /** Write into this network namespace (`--netns`, the lab) instead of the process's own. */
  readonly netns?: string | undefined;
  /** Instead of the real machine (tests that inject a fault). */
  readonly system?: DataPlaneSystem;
  /** Overrides on top of `config.dataPlane`. */
  readonly dataPlane?: Partial<DataPlaneConfig>;
  /** `tunnel`: the other LBs' data-plane listeners (HOST:PORT); `dataPlane.tunnel.peers` when absent. */
  readonly peers?: () => Promise<readonly string[]>;
}

/** The data-plane controller with the writers its kind needs, on the real machine: what a process runs. */
export function createDataPlane(wiring: DataPlaneWiring): DataPlaneController {
  const dataPlane = { ...(wiring.config.dataPlane ?? DEFAULT_DATA_PLANE), ...wiring.dataPlane };
  const system = wiring.system ?? createSystem({ netns: wiring.netns });
  const tunnel = dataPlane.forwarding === 'tunnel' && dataPlane.kind === 'nftables';
  const { logger, registry } = wiring;
  const peers = wiring.peers ?? (async () => dataPlane.tunnel.peers);
  return createDataPlaneController({
    config: wiring.config,
    dataPlane,
    backends: wiring.backends,
    writers: createWriters(dataPlane, system),
    system,
    logger,
    registry,
    ...(wiring.trigger && { trigger: wiring.trigger }),
    ...(tunnel && {
      cut: (service, backend) => cutTunnelFlows(system.run, service, backend),
      // The per-backend check pings through the tunnel from the LB itself: without ownTraffic
      // its packets are not sent there (and would be dropped as VIP traffic), so there is none.
      checks: [
        ...(dataPlane.tunnel.ownTraffic ? [createTunnelCheck({ run: system.run, logger, registry })] : []),
        createMaglevCheck({ peers, logger, registry }),
      ],
    }),
  });
}
