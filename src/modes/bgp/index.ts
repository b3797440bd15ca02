import { address } from '../../config/fields.js';
import { reasonText } from '../../core/reasons.js';
import { nodeAddress } from '../../kube/objects.js';
import { BGP_TABLE } from '../../providers/bgp/provider.js';
import type { ModeDescriptor } from '../types.js';

/**
 * `bgp`: each LB pod's exabgp announces the VIP with its own node (or pod) as next hop; the
 * router spreads flows over every announcing LB (ECMP). Each speaker writes only itself.
 */
export const bgpMode: ModeDescriptor = {
  name: 'bgp',
  cardinality: 'multi',
  // A speaker must not announce what it cannot serve.
  whenNoneHealthy: 'withdraw',
  writers: 'each',
  candidates: 'self',
  // With the node as next hop the node agent forwards to this pod only once it is Ready.
  awaitOwnReady: (config) => (config.bgp?.nextHop ?? 'node') === 'node',
  configuredTables: () => [BGP_TABLE],
  // A next hop: the node (or pod) address exabgp announces.
  targetField: address,
  staticCandidate: (target) => ({
    target: target.address,
    rank: target.node,
    healthy: target.healthy,
    ...(!target.healthy && { reason: 'marked unhealthy' }),
  }),
  targetOf: (pod, node) => pod.hostIp ?? nodeAddress(node),
  changeEvent: (change) =>
    change.kind === 'delete'
      ? {
          reason: 'Withdrawn',
          action: 'Withdraw',
          note: `withdrew ${change.vip} next-hop ${change.target}: ${reasonText(change.reason)}`,
        }
      : {
          reason: 'Announced',
          action: 'Announce',
          note: `announced ${change.vip} next-hop ${change.target}: ${reasonText(change.reason)}`,
        },
  create: async (deps) => (await import('./sidecar.js')).createBgpMode(deps),
};
