import { gceInstanceUrl, parseInstanceUrl } from '../../core/provider-id.js';
import { PermanentError } from '../../errors.js';
import { call } from './errors.js';
import type { ComputePort } from './port.js';

/*
 * GCE instances as route targets: the target id portlb plans with is the instance's full Compute
 * URL (src/core/provider-id.ts, what routes report as `nextHopInstance`).
 */

export interface ForwardingCheck {
  /** Throws a PermanentError naming the instance unless it exists with `canIpForward` on. */
  assert(instanceUrl: string): Promise<void>;
}

/**
 * A VM only forwards packets for an address it does not own (the VIP) with `canIpForward`; a route
 * to one without it drops the traffic. Checked with one `instances.get` before the first route to an
 * instance; a passing answer is remembered (the flag can only change while the instance is
 * stopped, which also takes its routes down), a refusal is not, so fixing it needs no restart.
 */
export function createForwardingCheck(compute: ComputePort): ForwardingCheck {
  const verified = new Set<string>();
  return {
    async assert(instanceUrl) {
      const ref = parseInstanceUrl(instanceUrl);
      if (ref === undefined) {
        throw new PermanentError(
          `route target ${instanceUrl} is not a GCE instance URL (projects/P/zones/Z/instances/N)`,
        );
      }
      const url = gceInstanceUrl(ref);
      if (verified.has(url)) return;
      const instance = await call({ method: 'instances.get', project: ref.project, resource: url }, () =>
        compute.getInstance({ project: ref.project, zone: ref.zone, instance: ref.name }),
      );
      if (instance.canIpForward !== true) {
        throw new PermanentError(
          `instance ${ref.name} (zone ${ref.zone}, project ${ref.project}) has canIpForward off: a route to it would drop the VIP's traffic; create the instance with canIpForward (gcloud --can-ip-forward) or set it while the instance is stopped`,
        );
      }
      verified.add(url);
    },
  };
}
