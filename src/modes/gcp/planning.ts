import type { ModeDescriptor } from '../types.js';

/**
 * How `gcp` plans, on its own so that the Cloud Functions' bundle takes it without the sidecar's
 * parts. Every healthy LB is a next hop (equal-priority routes: Compute spreads flows over them).
 * A VIP with no healthy LB has its routes withdrawn: each sidecar's desired state names only its
 * own LB, so "none healthy" there means "this LB cannot serve", and keeping the route would send
 * traffic to it regardless; and a route kept to a stopped or deleted instance carries nothing
 * anyway (Compute skips it), so the last route going sends the VIP where the VPC's other routes
 * say, which is no worse (docs/gcp.md).
 */
export const gcpPlanning: Pick<ModeDescriptor, 'cardinality' | 'whenNoneHealthy'> = {
  cardinality: 'multi',
  whenNoneHealthy: 'withdraw',
};
