import type { Config } from '../config/load.js';
import type { Mode } from '../core/mode.js';
import type { Candidate, DesiredRoute } from '../core/model.js';
import type { Source } from '../providers/types.js';

/** The target id a static target contributes in a mode: its address for BGP, its cloud id otherwise. */
export function staticCandidate(target: Config['targets'][number], mode: Mode): Candidate {
  if (mode === 'bgp') {
    return {
      target: target.address,
      rank: target.node,
      healthy: target.healthy,
      ...(!target.healthy && { reason: 'marked unhealthy' }),
    };
  }
  if (target.cloudTarget === undefined) {
    return {
      target: `${target.node}:no-cloud-target`,
      healthy: false,
      reason: `targets entry ${target.node} has no cloudTarget`,
    };
  }
  return {
    target: target.cloudTarget,
    rank: target.node,
    healthy: target.healthy,
    ...(!target.healthy && { reason: 'marked unhealthy' }),
  };
}

/** Desired routes from the config file alone: bare-metal LB boxes, the lab, and `portlb plan`. */
export function createStaticSource(config: Config, mode: Mode): Source {
  const candidates = config.targets.map((t) => staticCandidate(t, mode));
  const routes: DesiredRoute[] = config.services.map((s) => ({ vip: s.vip, service: s.name, candidates }));
  return { desired: async () => routes };
}

/** The tables a mode writes to, as far as the config alone knows them. */
export function configuredTables(config: Config, mode: Mode): string[] {
  if (mode === 'bgp') return ['bgp'];
  if (mode === 'gcp') return config.gcp ? [config.gcp.network] : [];
  const tables = config.aws?.routeTables;
  if (tables === undefined) return [];
  if ('ids' in tables) return [...tables.ids];
  return [
    Object.entries(tables.tags)
      .map(([k, v]) => `tag:${k}=${v}`)
      .join(','),
  ];
}

export function cardinalityOf(mode: Mode): 'single' | 'multi' {
  return mode === 'aws' ? 'single' : 'multi';
}
