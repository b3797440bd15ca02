import { instanceUrl } from '../../config/fields.js';
import { canonicalInstanceUrl, gceInstanceUrl, parseProviderId } from '../../core/provider-id.js';
import { cloudChangeEvent, cloudStaticCandidate } from '../events.js';
import type { ModeDescriptor } from '../types.js';
import { gcpPlanning } from './planning.js';

/** An instance URL in the full form Compute reports; anything else as it is. */
const canonical = (target: string): string => canonicalInstanceUrl(target) ?? target;

/**
 * `gcp`: one equal-priority route per healthy LB node (GCP spreads flows over them); every LB
 * writes only the routes to its own instance.
 */
export const gcpMode: ModeDescriptor = {
  name: 'gcp',
  ...gcpPlanning,
  writers: 'each',
  candidates: 'self',
  awaitOwnReady: () => false,
  configuredTables: (config) => (config.gcp ? [config.gcp.network] : []),
  // nextHopInstance.
  targetField: instanceUrl,
  // Compute reports full URLs; a config or an observed file may give `projects/...`.
  canonicalTarget: canonical,
  staticCandidate: (target) => {
    const candidate = cloudStaticCandidate(target);
    return { ...candidate, target: canonical(candidate.target) };
  },
  targetOf: (_pod, node) => {
    const instance = parseProviderId(node.providerId);
    return instance?.cloud === 'gce' ? gceInstanceUrl(instance) : undefined;
  },
  changeEvent: cloudChangeEvent,
  create: async (deps) => (await import('./sidecar.js')).createGcpModeFromConfig(deps),
};
