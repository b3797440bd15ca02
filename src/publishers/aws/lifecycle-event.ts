import { z } from 'zod';
import { candidateStates, eniIdSchema, instanceIdSchema } from '../../sources/aws/candidacy.js';

/*
 * The LB pod lifecycle event: what a sidecar without EC2 write permission publishes to EventBridge
 * so that a function records its candidacy and programs the routes. Shared by the publisher and
 * the function so that both sides agree on one shape.
 */

export const LIFECYCLE_SOURCE = 'portlb.sidecar';
export const LIFECYCLE_DETAIL_TYPE = 'portlb LB Lifecycle';

export const lifecycleDetailSchema = z.strictObject({
  version: z.literal(1),
  owner: z.string().min(1).max(63),
  node: z.string().min(1).max(253),
  /** The LB pod, `namespace/name`: a node may host several, and each reports for itself. */
  pod: z.string().min(1).max(317),
  instanceId: instanceIdSchema,
  /** The node's ENI when the sidecar knows it; the function looks it up otherwise. */
  eni: eniIdSchema.optional(),
  /** The node's IP, to pick the right ENI on a multi-ENI node. */
  nodeIp: z.string().min(1).optional(),
  state: z.enum(candidateStates),
  /** Unix milliseconds of the report (the sidecar's clock): orders redelivered and reordered events. */
  at: z.number().int().positive(),
});

export type LifecycleDetail = z.infer<typeof lifecycleDetailSchema>;
