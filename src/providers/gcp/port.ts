import type { protos } from '@google-cloud/compute';

export type RouteResource = protos.google.cloud.compute.v1.IRoute;
export type OperationResource = protos.google.cloud.compute.v1.IOperation;
export type InstanceResource = protos.google.cloud.compute.v1.IInstance;

export interface RoutePage {
  readonly items: readonly RouteResource[];
  readonly nextPageToken?: string | undefined;
}

/**
 * The only Compute calls portlb makes, one method each: `routes.list/get/insert/delete`,
 * `globalOperations.wait` and `instances.get`. The adapter takes this, never an SDK client, so tests
 * hand in the real client pointed at the stand-in, a counting wrapper or a fake; only
 * `createComputePort` (client.ts), called by a composition root, builds the real clients.
 * Every name in permissions.ts maps to one of these.
 */
export interface ComputePort {
  /** One page of `routes.list`; the caller follows `nextPageToken`. */
  listRoutes(request: {
    readonly project: string;
    readonly filter: string;
    readonly maxResults: number;
    readonly pageToken?: string | undefined;
  }): Promise<RoutePage>;
  getRoute(request: { readonly project: string; readonly route: string }): Promise<RouteResource>;
  /** Starts the insert; the Operation may still be PENDING or RUNNING. */
  insertRoute(request: {
    readonly project: string;
    readonly requestId: string;
    readonly route: RouteResource;
  }): Promise<OperationResource>;
  deleteRoute(request: {
    readonly project: string;
    readonly route: string;
    readonly requestId: string;
  }): Promise<OperationResource>;
  /** `globalOperations.wait`: returns when the operation is DONE or a server-side timeout passed. */
  waitOperation(request: {
    readonly project: string;
    readonly operation: string;
  }): Promise<OperationResource>;
  getInstance(request: {
    readonly project: string;
    readonly zone: string;
    readonly instance: string;
  }): Promise<InstanceResource>;
}

export type ComputeMethod =
  | 'routes.list'
  | 'routes.get'
  | 'routes.insert'
  | 'routes.delete'
  | 'globalOperations.wait'
  | 'instances.get';
