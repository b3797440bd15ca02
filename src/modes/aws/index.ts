import { networkInterfaceId } from '../../config/fields.js';
import { parseProviderId } from '../../core/provider-id.js';
import { cloudChangeEvent, cloudStaticCandidate } from '../events.js';
import type { ModeDescriptor } from '../types.js';
import { awsPlanning } from './planning.js';

/**
 * `aws`: one route per managed route table to the ENI of one healthy LB node (VPC route tables
 * have no ECMP), written by the Lease holder or by the lifecycle function.
 */
export const awsMode: ModeDescriptor = {
  name: 'aws',
  ...awsPlanning,
  writers: 'leader',
  candidates: 'all',
  awaitOwnReady: () => false,
  configuredTables(config) {
    const tables = config.aws?.routeTables;
    if (tables === undefined) return [];
    if ('ids' in tables) return [...tables.ids];
    return [
      Object.entries(tables.tags)
        .map(([k, v]) => `tag:${k}=${v}`)
        .join(','),
    ];
  },
  // VPC routes go to an LB node's network interface.
  targetField: networkInterfaceId,
  staticCandidate: cloudStaticCandidate,
  // No Kubernetes object names the ENI: the instance id, which the AWS source maps to the ENI.
  targetOf: (_pod, node) => {
    const instance = parseProviderId(node.providerId);
    return instance?.cloud === 'aws' ? instance.instanceId : undefined;
  },
  changeEvent: cloudChangeEvent,
  create: async (deps) => (await import('./sidecar.js')).createAwsModeFromConfig(deps),
};
