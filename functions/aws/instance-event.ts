import { stuckAnnouncer } from './announce.js';
import { functionDeps } from './compose.js';
import { isDownState } from './events.js';
import { createHandler } from './handler.js';

/**
 * EC2 Instance State-change Notification (stopping, stopped, shutting-down, terminated) and EC2
 * Spot Instance Interruption Warning: moves every managed route off that instance at once, without
 * waiting for a Lease to expire. Other states are logged and ignored.
 */
export const handler = createHandler(
  'instance-event',
  (event) => {
    if (event.kind === 'instance-state') {
      return isDownState(event.state)
        ? {
            kind: 'instance-down',
            instanceId: event.instanceId,
            why: `instance ${event.instanceId} is ${event.state}`,
          }
        : { ignore: `instance ${event.instanceId} is ${event.state}: nothing to move` };
    }
    if (event.kind === 'spot-warning') {
      return {
        kind: 'instance-down',
        instanceId: event.instanceId,
        why: `spot instance ${event.instanceId} will ${event.action} in two minutes`,
      };
    }
    return { ignore: `${event.kind} events go to another function` };
  },
  functionDeps(process.env, stuckAnnouncer),
);
