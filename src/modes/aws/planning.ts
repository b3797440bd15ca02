import type { ModeDescriptor } from '../types.js';

/**
 * How `aws` plans, on its own so that the Lambda bundles take it without the sidecar's parts: one
 * target per destination (VPC route tables have no ECMP), and never a delete without a replacement
 * (a stale target may still serve).
 */
export const awsPlanning: Pick<ModeDescriptor, 'cardinality' | 'whenNoneHealthy'> = {
  cardinality: 'single',
  whenNoneHealthy: 'keep',
};
