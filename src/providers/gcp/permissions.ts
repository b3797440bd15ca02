import type { ComputeMethod } from './port.js';

/*
 * The IAM permissions behind every Compute call portlb makes, in one place: the custom role in
 * deploy/gcp is compared with this list by a test, and error messages name the permission of the
 * call that was refused. Source: the Compute Engine audit-logging reference, which lists the
 * permissions each method checks (routes.insert checks two: the route and the network's policy).
 */
export const methodPermissions: Readonly<Record<ComputeMethod, readonly string[]>> = {
  'routes.list': ['compute.routes.list'],
  'routes.get': ['compute.routes.get'],
  'routes.insert': ['compute.routes.create', 'compute.networks.updatePolicy'],
  'routes.delete': ['compute.routes.delete'],
  'globalOperations.wait': ['compute.globalOperations.get'],
  'instances.get': ['compute.instances.get'],
};

/** Every permission the Compute adapter needs, sorted: exactly what the custom role grants. */
export const computePermissions: readonly string[] = [
  ...new Set(Object.values(methodPermissions).flat()),
].sort();
