import { randomUUID } from 'node:crypto';
import pRetry from 'p-retry';
import { canonicalText } from '../../core/cidr.js';
import { canonicalInstanceUrl, parseInstanceUrl } from '../../core/provider-id.js';
import { isTransient, PermanentError } from '../../errors.js';
import { ComputePermanentError, call, isAlreadyExists, isMissingProject, isNotFound } from './errors.js';
import { createForwardingCheck } from './instances.js';
import { type OperationWarning, operationWarnings, waitDone } from './operations.js';
import type { ComputePort, RouteResource } from './port.js';

/** A route as portlb reads it back from Compute. */
export interface ComputeRoute {
  readonly name: string;
  /** Canonical CIDR text, or the raw text when it does not parse. */
  readonly destRange: string;
  /** Canonical instance URL; undefined when the next hop is anything else. */
  readonly nextHopInstance?: string | undefined;
  /** True when the route has a next hop other than an instance (IP, gateway, ILB, peering...). */
  readonly otherNextHop: boolean;
  readonly priority: number;
  readonly description: string;
  readonly network: string;
  /** `warnings[].code`, e.g. NEXT_HOP_NOT_RUNNING, NEXT_HOP_INSTANCE_NOT_FOUND. */
  readonly warnings: readonly string[];
  readonly routeStatus?: string | undefined;
}

/** What portlb inserts: always an instance next hop in the managed network. */
export interface RouteSpec {
  readonly name: string;
  readonly destRange: string;
  readonly nextHopInstance: string;
  readonly priority: number;
  readonly description: string;
}

export type WriteOutcome =
  /** The write took effect now. */
  | { readonly kind: 'done'; readonly warnings: readonly OperationWarning[] }
  /** Insert: the same route was already there (read back and compared). */
  | { readonly kind: 'exists'; readonly warnings: readonly OperationWarning[] }
  /** Delete: the route was already gone. */
  | { readonly kind: 'absent'; readonly warnings: readonly OperationWarning[] };

export interface ComputeRoutesOptions {
  readonly compute: ComputePort;
  readonly project: string;
  /** The VPC network's name (or its URL). */
  readonly network: string;
  /** `globalOperations.wait` calls per write before giving up (transient). */
  readonly maxWaits?: number;
  /** Attempts per write on transient failures, all with the same requestId. */
  readonly attempts?: number;
  readonly pageSize?: number;
  readonly maxPages?: number;
  readonly retryDelayMs?: number;
  readonly newRequestId?: () => string;
}

export interface ComputeRoutes {
  readonly project: string;
  readonly network: string;
  readonly networkUrl: string;
  /**
   * One filtered `routes.list` (every page): the routes of this network whose name starts with the
   * prefix and, when given, whose next hop is this instance.
   */
  list(namePrefix: string, nextHopInstance?: string): Promise<ComputeRoute[]>;
  insert(spec: RouteSpec): Promise<WriteOutcome>;
  /** Deleting a route that is not there is done, not an error. */
  delete(name: string): Promise<WriteOutcome>;
  /** Throws unless the instance exists with canIpForward (instances.get, remembered once it passes). */
  assertCanForward(instanceUrl: string): Promise<void>;
}

const NAME = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** The network's name from a name or a `.../projects/P/global/networks/N` URL. */
export function networkName(network: string): string {
  return /(?:^|\/)global\/networks\/([^/]+)$/.exec(network)?.[1] ?? network;
}

export function networkUrl(project: string, network: string): string {
  return `https://www.googleapis.com/compute/v1/projects/${project}/global/networks/${networkName(network)}`;
}

/**
 * Compute's list filter: regular expressions (RE2, whole-value match) with `eq`, one parenthesised
 * expression per field, ANDed. Names are `[a-z0-9-]`, so nothing in them needs escaping.
 */
export function routeFilter(network: string, namePrefix: string, nextHopInstance?: string): string {
  const base = `(network eq ".*/global/networks/${networkName(network)}") (name eq "${namePrefix}.*")`;
  const ref = nextHopInstance && parseInstanceUrl(nextHopInstance);
  return ref ? `${base} (nextHopInstance eq ".*/zones/${ref.zone}/instances/${ref.name}")` : base;
}

function readRoute(route: RouteResource): ComputeRoute {
  const dest = route.destRange ?? '';
  const parsed = canonicalText(dest);
  const instance = route.nextHopInstance ? canonicalInstanceUrl(route.nextHopInstance) : undefined;
  const other =
    (route.nextHopInstance && instance === undefined) ||
    [
      route.nextHopIp,
      route.nextHopGateway,
      route.nextHopIlb,
      route.nextHopNetwork,
      route.nextHopPeering,
      route.nextHopVpnTunnel,
      route.nextHopHub,
    ].some((hop) => typeof hop === 'string' && hop !== '');
  return {
    name: route.name ?? '',
    destRange: parsed.ok ? parsed.text : dest,
    nextHopInstance: instance,
    otherNextHop: Boolean(other),
    priority: route.priority ?? 1000,
    description: route.description ?? '',
    network: networkName(route.network ?? ''),
    warnings: (route.warnings ?? []).map((w) => w.code ?? 'UNKNOWN'),
    routeStatus: route.routeStatus ?? undefined,
  };
}

/** Where an existing route differs from the one portlb would insert; empty when it is the same. */
function differences(have: ComputeRoute, want: RouteSpec, network: string): string[] {
  const out: string[] = [];
  const wantDest = canonicalText(want.destRange);
  if (have.destRange !== (wantDest.ok ? wantDest.text : want.destRange))
    out.push(`destRange ${have.destRange} (want ${want.destRange})`);
  if (have.nextHopInstance !== canonicalInstanceUrl(want.nextHopInstance))
    out.push(`nextHopInstance ${have.nextHopInstance ?? 'none'} (want ${want.nextHopInstance})`);
  if (have.otherNextHop) out.push('a next hop other than an instance');
  if (have.priority !== want.priority) out.push(`priority ${have.priority} (want ${want.priority})`);
  if (have.network !== networkName(network))
    out.push(`network ${have.network} (want ${networkName(network)})`);
  if (have.description !== want.description) out.push(`description "${have.description}"`);
  return out;
}

/**
 * The Compute routes adapter: reads a network's routes with one filtered list, inserts and deletes
 * single routes. Every write carries a requestId (a UUID) that is kept until the write has a
 * definite outcome, so a retry (here, or from the next reconcile) is recognised by Compute as the
 * same request; every write waits on its Operation. It knows nothing about ownership: the registry
 * (src/registry/gcp) decides which routes are portlb's and what they are called.
 */
export function createComputeRoutes(options: ComputeRoutesOptions): ComputeRoutes {
  const { compute, project } = options;
  const network = networkName(options.network);
  const maxWaits = options.maxWaits ?? 10;
  const attempts = options.attempts ?? 3;
  const pageSize = options.pageSize ?? 500;
  const maxPages = options.maxPages ?? 100;
  const newRequestId = options.newRequestId ?? randomUUID;
  const forwarding = createForwardingCheck(compute);
  /** `insert:NAME` / `delete:NAME` -> the requestId of a write whose outcome is not known yet. */
  const pending = new Map<string, string>();

  async function write(
    key: string,
    once: (requestId: string) => Promise<WriteOutcome>,
  ): Promise<WriteOutcome> {
    let requestId = pending.get(key);
    if (requestId === undefined) {
      requestId = newRequestId();
      pending.set(key, requestId);
    }
    const id = requestId;
    try {
      const outcome = await pRetry(() => once(id), {
        retries: attempts - 1,
        minTimeout: options.retryDelayMs ?? 200,
        factor: 2,
        randomize: true,
        shouldRetry: ({ error }) => isTransient(error),
      });
      pending.delete(key);
      return outcome;
    } catch (error) {
      // Only a transient failure leaves the outcome open; a definite refusal starts afresh next time.
      if (!isTransient(error)) pending.delete(key);
      throw error;
    }
  }

  async function compareExisting(spec: RouteSpec, cause: unknown): Promise<WriteOutcome> {
    const existing = readRoute(
      await call({ method: 'routes.get', project, resource: spec.name }, () =>
        compute.getRoute({ project, route: spec.name }),
      ),
    );
    const diff = differences(existing, spec, network);
    if (diff.length > 0) {
      throw new PermanentError(
        `route ${spec.name} already exists and differs from the one portlb would insert: ${diff.join(', ')}`,
        { cause },
      );
    }
    return { kind: 'exists', warnings: [] };
  }

  return {
    project,
    network,
    networkUrl: networkUrl(project, network),
    async list(namePrefix, nextHopInstance) {
      const filter = routeFilter(network, namePrefix, nextHopInstance);
      const routes: ComputeRoute[] = [];
      let pageToken: string | undefined;
      for (let page = 0; page < maxPages; page++) {
        const answer = await call({ method: 'routes.list', project, resource: `network ${network}` }, () =>
          compute.listRoutes({ project, filter, maxResults: pageSize, pageToken }),
        );
        for (const route of answer.items) routes.push(readRoute(route));
        pageToken = answer.nextPageToken || undefined;
        if (pageToken === undefined) return routes;
      }
      throw new PermanentError(`routes.list in network ${network} returned more than ${maxPages} pages`);
    },
    insert(spec) {
      if (!NAME.test(spec.name) || spec.name.length > 63) {
        return Promise.reject(new PermanentError(`invalid route name ${spec.name}`));
      }
      const route: RouteResource = {
        name: spec.name,
        network: networkUrl(project, network),
        destRange: spec.destRange,
        priority: spec.priority,
        nextHopInstance: spec.nextHopInstance,
        description: spec.description,
      };
      const detail = { method: 'routes.insert', project, resource: spec.name } as const;
      return write(`insert:${spec.name}`, async (requestId) => {
        try {
          const started = await call(detail, () => compute.insertRoute({ project, requestId, route }));
          const done = await waitDone(compute, started, detail, maxWaits);
          return { kind: 'done', warnings: operationWarnings(done) };
        } catch (error) {
          if (error instanceof ComputePermanentError && isAlreadyExists(error.failure)) {
            return compareExisting(spec, error);
          }
          throw error;
        }
      });
    },
    delete(name) {
      const detail = { method: 'routes.delete', project, resource: name } as const;
      return write(`delete:${name}`, async (requestId) => {
        try {
          const started = await call(detail, () => compute.deleteRoute({ project, route: name, requestId }));
          const done = await waitDone(compute, started, detail, maxWaits);
          return { kind: 'done', warnings: operationWarnings(done) };
        } catch (error) {
          if (
            error instanceof ComputePermanentError &&
            isNotFound(error.failure) &&
            !isMissingProject(error.failure)
          ) {
            return { kind: 'absent', warnings: [] };
          }
          throw error;
        }
      });
    },
    assertCanForward(instanceUrl) {
      return forwarding.assert(instanceUrl);
    },
  };
}
