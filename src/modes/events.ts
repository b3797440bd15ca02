import type { Change } from '../core/model.js';
import { reasonText } from '../core/reasons.js';
import type { ChangeEvent } from './types.js';

/** A route change in a cloud route table, as it reads on the LB pod (aws, gcp). */
export function cloudChangeEvent(change: Change): ChangeEvent {
  if (change.kind === 'replace') {
    return {
      reason: 'Failover',
      action: 'Program',
      note: `moved ${change.vip} in ${change.table} from ${change.from} to ${change.target}: ${reasonText(change.reason)}`,
    };
  }
  return change.kind === 'delete'
    ? {
        reason: 'Withdrawn',
        action: 'Withdraw',
        note: `removed ${change.vip} -> ${change.target} from ${change.table}`,
      }
    : {
        reason: 'Programmed',
        action: 'Program',
        note: `routed ${change.vip} -> ${change.target} in ${change.table}`,
      };
}

/** A static `targets` entry in a cloud mode: its cloud target, or unhealthy saying it has none. */
export function cloudStaticCandidate(target: {
  node: string;
  cloudTarget?: string | undefined;
  healthy: boolean;
}) {
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
