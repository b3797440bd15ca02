// The three clients' own modules, not the package index: that loads every Compute client of every
// API version and a 31 MB protos.js, for the sidecar and into the functions' bundle.
import { GlobalOperationsClient } from '@google-cloud/compute/build/src/v1/global_operations_client.js';
import { InstancesClient } from '@google-cloud/compute/build/src/v1/instances_client.js';
import { RoutesClient } from '@google-cloud/compute/build/src/v1/routes_client.js';
import { ConfigError, TransientError } from '../../errors.js';
import type { ComputePort, OperationResource } from './port.js';

type SdkOptions = NonNullable<ConstructorParameters<typeof RoutesClient>[0]>;

/** An auth client the SDK accepts (`google-auth-library`'s AuthClient): ADC when absent. */
export type ComputeAuth = NonNullable<SdkOptions['authClient']>;

export interface ComputeClientOptions {
  readonly project: string;
  /**
   * Another endpoint than compute.googleapis.com: a Private Service Connect address, or the
   * stand-in in tests (`http://127.0.0.1:PORT`).
   */
  readonly endpoint?: string | undefined;
  /** Credentials; the SDK's Application Default Credentials (the function's or node's service account) when absent. */
  readonly auth?: ComputeAuth | undefined;
  /** Per call; a hung connection must not hold a reconcile or a SIGTERM past its budget. */
  readonly callTimeoutMs?: number;
  /** `globalOperations.wait` blocks on the server for up to about two minutes. */
  readonly waitTimeoutMs?: number;
}

export interface ComputeClients {
  readonly port: ComputePort;
  close(): Promise<void>;
}

/** `http://127.0.0.1:8085` -> the SDK's `apiEndpoint`, `port` and `protocol`. */
function endpointOptions(endpoint: string | undefined): Partial<SdkOptions> {
  if (endpoint === undefined) return {};
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch (error) {
    throw new ConfigError(
      `gcp.endpoint ${endpoint} is not a URL`,
      [{ path: 'gcp.endpoint', message: 'must be a URL' }],
      {
        cause: error,
      },
    );
  }
  const protocol = url.protocol.replace(/:$/, '');
  const port = url.port === '' ? (protocol === 'http' ? 80 : 443) : Number(url.port);
  return { apiEndpoint: url.hostname, port, protocol, fallback: true };
}

function latestOperation(answer: unknown): OperationResource {
  // The SDK wraps a Compute Operation as `{latestResponse: Operation, ...}` (its "DIREGAPIC" LRO).
  const latest =
    typeof answer === 'object' && answer !== null ? Reflect.get(answer, 'latestResponse') : undefined;
  if (typeof latest !== 'object' || latest === null)
    throw new TransientError('Compute answered without an Operation');
  return latest as OperationResource;
}

/**
 * The only place real Compute clients are built (called by the composition roots: the sidecar's
 * mode factory and the Cloud Functions' module scope). REST transport (`fallback`), the SDK's own
 * retries off: retrying is the adapter's (same requestId) and the loop's job, in one place each.
 */
export function createComputeClients(options: ComputeClientOptions): ComputeClients {
  const sdk: SdkOptions = {
    projectId: options.project,
    fallback: true,
    ...endpointOptions(options.endpoint),
    ...(options.auth && { authClient: options.auth }),
  };
  const routes = new RoutesClient(sdk);
  const operations = new GlobalOperationsClient(sdk);
  const instances = new InstancesClient(sdk);
  const call = { timeout: options.callTimeoutMs ?? 30_000, retry: null };
  const wait = { timeout: options.waitTimeoutMs ?? 130_000, retry: null };
  const port: ComputePort = {
    async listRoutes(request) {
      const [items, , raw] = await routes.list(
        {
          project: request.project,
          filter: request.filter,
          maxResults: request.maxResults,
          ...(request.pageToken && { pageToken: request.pageToken }),
        },
        { ...call, autoPaginate: false },
      );
      return { items, nextPageToken: raw?.nextPageToken ?? undefined };
    },
    async getRoute(request) {
      const [route] = await routes.get({ project: request.project, route: request.route }, call);
      return route;
    },
    async insertRoute(request) {
      const [operation] = await routes.insert(
        { project: request.project, requestId: request.requestId, routeResource: request.route },
        call,
      );
      return latestOperation(operation);
    },
    async deleteRoute(request) {
      const [operation] = await routes.delete(
        { project: request.project, route: request.route, requestId: request.requestId },
        call,
      );
      return latestOperation(operation);
    },
    async waitOperation(request) {
      const [operation] = await operations.wait(
        { project: request.project, operation: request.operation },
        wait,
      );
      return operation;
    },
    async getInstance(request) {
      const [instance] = await instances.get(
        { project: request.project, zone: request.zone, instance: request.instance },
        call,
      );
      return instance;
    },
  };
  return {
    port,
    async close() {
      await Promise.all([routes.close(), operations.close(), instances.close()]);
    },
  };
}
