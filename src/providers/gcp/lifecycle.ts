import { z } from 'zod';
import { canonicalInstanceUrl } from '../../core/provider-id.js';

/*
 * The LB pod lifecycle message on Pub/Sub: what a sidecar without Compute write permission
 * publishes so that the lifecycle function writes its routes (the least-privilege topology, as
 * EventBridge is on AWS). Shared by the publisher and the function so both agree on one shape.
 * Versioned: a function meeting a version it does not know ignores the message with a reason.
 */

export const LIFECYCLE_KIND = 'portlb.lifecycle';
export const SWEEP_KIND = 'portlb.sweep';

export const lifecycleStates = ['ready', 'draining', 'gone'] as const;

const instanceUrl = z.string().transform((value, ctx) => {
  const url = canonicalInstanceUrl(value);
  if (url === undefined) {
    ctx.addIssue({ code: 'custom', message: 'must be an instance URL: projects/P/zones/Z/instances/N' });
    return z.NEVER;
  }
  return url;
});

export const gcpLifecycleSchema = z.strictObject({
  kind: z.literal(LIFECYCLE_KIND),
  version: z.literal(1),
  owner: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/)
    .max(63),
  node: z.string().min(1).max(253),
  /** The LB pod, `namespace/name`: a node may host several, and each reports for itself. */
  pod: z.string().min(1).max(317),
  /** The node's instance (from its `gce://` providerID), as the route's next hop. */
  instance: instanceUrl,
  state: z.enum(lifecycleStates),
  /** Unix milliseconds of the report (the sidecar's clock): orders redelivered and reordered messages. */
  at: z.number().int().positive(),
});

export type GcpLifecycle = z.output<typeof gcpLifecycleSchema>;

/** The scheduled sweep's message body (Cloud Scheduler publishes it as configured in deploy/gcp). */
export const sweepSchema = z.strictObject({ kind: z.literal(SWEEP_KIND), version: z.literal(1) });
