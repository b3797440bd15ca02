import type { Mode } from '../core/mode.js';
import { PermanentError } from '../errors.js';
import type { ModeFactory } from './types.js';

/**
 * Each mode registers a loader here as it lands, e.g.
 * `bgp: async () => (await import('./bgp.js')).createBgpMode`. Loaders are lazy so that
 * `portlb validate` and `plan` do not load the AWS SDK, the Kubernetes client or exabgp plumbing.
 */
const loaders: Partial<Record<Mode, () => Promise<ModeFactory>>> = {
  aws: async () => (await import('./aws.js')).createAwsModeFromConfig,
  bgp: async () => (await import('./bgp.js')).createBgpMode,
};

export async function modeFactory(mode: Mode): Promise<ModeFactory> {
  const load = loaders[mode];
  if (load === undefined) {
    throw new PermanentError(
      `mode ${mode} is not available in this build; use --state FILE to write routes to a file`,
    );
  }
  return load();
}
