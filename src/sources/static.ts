import type { Config } from '../config/load.js';
import type { DesiredRoute } from '../core/model.js';
import type { Source } from '../core/ports.js';
import type { ModeDescriptor } from '../modes/types.js';

/** Desired routes from the config file alone: bare-metal LB boxes, the lab, and `portlb plan`. */
export function createStaticSource(
  config: Config,
  mode: Pick<ModeDescriptor, 'staticCandidate'>,
): Source & { desired(): Promise<DesiredRoute[]> } {
  const candidates = config.targets.map((t) => mode.staticCandidate(t));
  const routes: DesiredRoute[] = config.services.map((s) => ({ vip: s.vip, service: s.name, candidates }));
  return { desired: async () => routes };
}
