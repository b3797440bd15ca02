import { instanceUrl } from '../../config/fields.js';
import { gceInstanceUrl, parseProviderId } from '../../core/provider-id.js';
import { cloudChangeEvent, cloudStaticCandidate } from '../events.js';
import type { ModeDescriptor } from '../types.js';
import { gcpPlanning } from './planning.js';

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
  staticCandidate: cloudStaticCandidate,
  targetOf: (_pod, node) => {
    const instance = parseProviderId(node.providerId);
    return instance?.cloud === 'gce' ? gceInstanceUrl(instance) : undefined;
  },
  changeEvent: cloudChangeEvent,
  create: async (deps) => (await import('./sidecar.js')).createGcpModeFromConfig(deps),
};
