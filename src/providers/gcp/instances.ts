import { gceInstanceUrl } from '../../core/provider-id.js';
import { PermanentError } from '../../errors.js';
import { call } from './errors.js';
import type { ComputePort } from './port.js';

/*
 * GCE instances as route targets. The target id portlb plans with is the instance's full Compute
 * URL (`gceInstanceUrl`, what routes report as `nextHopInstance`), built from the Node's
 * `gce://project/zone/name` providerID by src/kube/objects.ts `parseProviderId` (the lead unifies
 * the AWS and GCE parsers into one module; this file only reads URLs back).
 */

export interface InstanceRef {
  readonly project: string;
  readonly zone: string;
  readonly name: string;
}

const INSTANCE_PATH =
  /(?:^|\/)projects\/([a-z0-9.:-]+)\/zones\/([a-z0-9-]+)\/instances\/([a-z]([-a-z0-9]*[a-z0-9])?)$/;

/** An instance URL in any of the forms Compute accepts (full, `projects/...`), or undefined. */
export function parseInstanceUrl(url: string): InstanceRef | undefined {
  const match = INSTANCE_PATH.exec(url);
  if (match === null) return undefined;
  return { project: match[1] ?? '', zone: match[2] ?? '', name: match[3] ?? '' };
}

/** The one spelling of an instance URL portlb compares: the full `https://www.googleapis.com/...` form. */
export function canonicalInstanceUrl(url: string): string | undefined {
  const ref = parseInstanceUrl(url);
  return ref && gceInstanceUrl(ref);
}

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
