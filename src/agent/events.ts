import type { ObjectEvent, PodRef } from '../kube/events.js';
import type { RouteChange } from './diff.js';
import type { SkippedPod } from './routes.js';

/*
 * What `kubectl describe pod` shows for the node agent: the LB pod became a next hop of a VIP on
 * its node (Routed), stopped being one (Unrouted), or the change failed (Failed). Pure.
 */

export interface ChangeStory {
  readonly change: RouteChange;
  /** Undefined when the change was applied. */
  readonly error?: string | undefined;
}

export function changeEvents(
  story: ChangeStory,
  context: {
    readonly nodeName: string;
    /** Who has which IP: this pass's pods, and the last pass's for pods deleted since. */
    readonly podByIp: ReadonlyMap<string, PodRef>;
    readonly skipped: readonly SkippedPod[];
  },
): ObjectEvent[] {
  const { change, error } = story;
  const { nodeName, podByIp } = context;
  const now = change.kind === 'replace' ? change.nexthops : [];
  const events: ObjectEvent[] = [];
  const on = (ip: string, event: Omit<ObjectEvent, 'regarding'>) => {
    const pod = podByIp.get(ip);
    if (pod) events.push({ regarding: pod, ...event });
  };
  if (error !== undefined) {
    for (const ip of now.length > 0 ? now : change.from) {
      on(ip, {
        type: 'Warning',
        reason: 'Failed',
        action: change.kind === 'replace' ? 'Route' : 'Unroute',
        note: `node ${nodeName}: ${change.kind} of the route to ${change.vip} failed: ${error}`,
      });
    }
    return events;
  }
  for (const ip of now) {
    if (change.from.includes(ip)) continue;
    on(ip, {
      type: 'Normal',
      reason: 'Routed',
      action: 'Route',
      note: `node ${nodeName} routes ${change.vip} to this pod (${ip}), ECMP over ${now.length} pod${now.length === 1 ? '' : 's'}`,
    });
  }
  for (const ip of change.from) {
    if (now.includes(ip)) continue;
    const name = podByIp.get(ip)?.name;
    const why = context.skipped.find((s) => s.vip === change.vip && s.pod === name)?.reason ?? change.reason;
    on(ip, {
      type: 'Normal',
      reason: 'Unrouted',
      action: 'Unroute',
      note: `node ${nodeName} no longer routes ${change.vip} to this pod (${ip}): ${why}`,
    });
  }
  return events;
}
