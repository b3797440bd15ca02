import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { canonicalText } from '../../../src/core/cidr.js';
import { methodPermissions } from '../../../src/providers/gcp/permissions.js';
import type { ComputeMethod } from '../../../src/providers/gcp/port.js';
import { matches, parseFilter } from './filter.js';
import {
  ComputeState,
  errorReply,
  type InstanceState,
  instanceUrl,
  type Reply,
  type RouteJson,
} from './state.js';

/*
 * STAND-IN for the Google Compute Engine API. Google ships no Compute emulator, so this local HTTP
 * server answers the documented REST subset portlb calls, in the JSON shapes of Compute's v1
 * reference, and is driven through the real `@google-cloud/compute` client (REST transport, a
 * static-token auth client): `projects/{p}/global/routes` (list with filter and pages, get,
 * insert, delete), `projects/{p}/global/operations/{op}/wait`, `projects/{p}/zones/{z}/instances/{i}`
 * (get). Errors are Compute's: 404 notFound, 409 alreadyExists, 403 rateLimitExceeded, 403 with
 * "Required '<permission>' permission for '<resource>'", 400 invalid. Faults can be injected and
 * every call is counted. Test and bench infrastructure only: never on the product's import path.
 */

export interface Fault {
  /** The call to fail; `*` for any. */
  readonly method: ComputeMethod | '*';
  readonly status: number;
  readonly reason: string;
  readonly message?: string;
  /** How many calls to fail (default 1). */
  times?: number;
  /** Apply the write, then answer with the error (the answer is lost on the way: a retry must not double it). */
  readonly afterEffect?: boolean;
}

export interface CallRecord {
  readonly method: ComputeMethod | 'unknown';
  readonly path: string;
  readonly query: Record<string, string>;
  readonly status: number;
}

export interface ComputeStandin {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  readonly state: ComputeState;
  addProject(project: string, networks: readonly string[]): void;
  setInstance(instance: InstanceState): string;
  removeInstance(project: string, zone: string, name: string): void;
  routes(project: string): RouteJson[];
  fault(fault: Fault): void;
  /** Every call needing this permission answers 403 naming it, until `allow`. */
  deny(permission: string): void;
  allow(permission: string): void;
  calls(): readonly CallRecord[];
  count(method: ComputeMethod): number;
  resetCalls(): void;
  close(): Promise<void>;
}

const ROUTES = /^\/compute\/v1\/projects\/([^/]+)\/global\/routes(?:\/([^/]+))?$/;
const WAIT = /^\/compute\/v1\/projects\/([^/]+)\/global\/operations\/([^/]+)\/wait$/;
const INSTANCE = /^\/compute\/v1\/projects\/([^/]+)\/zones\/([^/]+)\/instances\/([^/]+)$/;
const NAME = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const MAX_PAGE = 500;

function methodOf(verb: string, path: string): ComputeMethod | 'unknown' {
  const routes = ROUTES.exec(path);
  if (routes) {
    if (verb === 'GET') return routes[2] ? 'routes.get' : 'routes.list';
    if (verb === 'POST' && !routes[2]) return 'routes.insert';
    if (verb === 'DELETE' && routes[2]) return 'routes.delete';
  }
  if (verb === 'POST' && WAIT.test(path)) return 'globalOperations.wait';
  if (verb === 'GET' && INSTANCE.test(path)) return 'instances.get';
  return 'unknown';
}

async function readBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text === '') return {};
  return JSON.parse(text) as unknown;
}

function send(response: ServerResponse, reply: Reply): void {
  response.writeHead(reply.status, { 'content-type': 'application/json; charset=UTF-8' });
  response.end(JSON.stringify(reply.body));
}

const notFound = (what: string) => errorReply(404, 'notFound', `The resource '${what}' was not found`);

export async function startComputeStandin(): Promise<ComputeStandin> {
  const state = new ComputeState();
  const faults: Fault[] = [];
  const denied = new Set<string>();
  const log: CallRecord[] = [];

  function takeFault(method: ComputeMethod): Fault | undefined {
    const index = faults.findIndex((f) => f.method === method || f.method === '*');
    if (index < 0) return undefined;
    const fault = faults[index]!;
    fault.times = (fault.times ?? 1) - 1;
    if (fault.times <= 0) faults.splice(index, 1);
    return fault;
  }

  function faultReply(fault: Fault): Reply {
    const message =
      fault.message ??
      (fault.reason === 'rateLimitExceeded' ? 'Rate Limit Exceeded' : `injected ${fault.reason}`);
    return errorReply(fault.status, fault.reason, message);
  }

  function listRoutes(project: string, query: Record<string, string>): Reply {
    const clauses = parseFilter(query.filter ?? '');
    if (!Array.isArray(clauses)) return errorReply(400, 'invalid', clauses.error);
    const max = Math.min(Number(query.maxResults ?? MAX_PAGE) || MAX_PAGE, MAX_PAGE);
    const all = [...(state.project(project)?.routes.values() ?? [])]
      .map((r) => state.view(r))
      .filter((r) => matches(r as unknown as Record<string, unknown>, clauses))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    const start = query.pageToken ? Number(Buffer.from(query.pageToken, 'base64url').toString()) : 0;
    const items = all.slice(start, start + max);
    const more = start + max < all.length;
    return {
      status: 200,
      body: {
        kind: 'compute#routeList',
        id: `projects/${project}/global/routes`,
        items,
        selfLink: `https://www.googleapis.com/compute/v1/projects/${project}/global/routes`,
        ...(more && { nextPageToken: Buffer.from(String(start + max)).toString('base64url') }),
      },
    };
  }

  function insertRoute(project: string, query: Record<string, string>, body: Record<string, unknown>): Reply {
    const name = typeof body.name === 'string' ? body.name : '';
    if (!NAME.test(name) || name.length > 63) {
      return errorReply(
        400,
        'invalid',
        `Invalid value for field 'resource.name': '${name}'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'`,
      );
    }
    const network = typeof body.network === 'string' ? (body.network.split('/').pop() ?? '') : '';
    if (!state.project(project)?.networks.has(network)) {
      return notFound(`projects/${project}/global/networks/${network}`);
    }
    const dest = typeof body.destRange === 'string' ? canonicalText(body.destRange) : undefined;
    if (!dest?.ok)
      return errorReply(
        400,
        'invalid',
        `Invalid value for field 'resource.destRange': '${String(body.destRange)}'.`,
      );
    const hop =
      typeof body.nextHopInstance === 'string' ? state.fullInstanceUrl(body.nextHopInstance) : undefined;
    if (hop === undefined)
      return errorReply(400, 'invalid', 'Exactly one of the next hop fields must be set.');
    const instance = state.instances.get(hop);
    if (instance === undefined) return notFound(hop.replace(/^.*\/projects\//, 'projects/'));
    const existing = state.project(project)?.routes.get(name);
    const requestId = query.requestId;
    const earlier = requestId ? state.project(project)?.requests.get(requestId) : undefined;
    if (existing && earlier === undefined) {
      return errorReply(
        409,
        'alreadyExists',
        `The resource 'projects/${project}/global/routes/${name}' already exists`,
      );
    }
    const { operation } = state.operation(project, requestId, 'insert', name, () => {
      const route = state.newRoute(project, {
        name,
        network,
        destRange: dest.text,
        priority: typeof body.priority === 'number' ? body.priority : 1000,
        nextHopInstance: hop,
        ...(typeof body.description === 'string' && { description: body.description }),
      });
      state.project(project)?.routes.set(name, route);
      return { warnings: state.nextHopWarnings(route) };
    });
    return { status: 200, body: operation };
  }

  function deleteRoute(project: string, name: string, query: Record<string, string>): Reply {
    const requestId = query.requestId;
    const earlier = requestId ? state.project(project)?.requests.get(requestId) : undefined;
    if (!state.project(project)?.routes.has(name) && earlier === undefined) {
      return notFound(`projects/${project}/global/routes/${name}`);
    }
    const { operation } = state.operation(project, requestId, 'delete', name, () => {
      state.project(project)?.routes.delete(name);
      return {};
    });
    return { status: 200, body: operation };
  }

  function getInstance(project: string, zone: string, name: string): Reply {
    const instance = state.instances.get(instanceUrl(project, zone, name));
    if (!instance) return notFound(`projects/${project}/zones/${zone}/instances/${name}`);
    return {
      status: 200,
      body: {
        kind: 'compute#instance',
        id: String(Math.abs(hashCode(name))),
        name,
        zone: `https://www.googleapis.com/compute/v1/projects/${project}/zones/${zone}`,
        status: instance.status,
        canIpForward: instance.canIpForward,
        selfLink: instanceUrl(project, zone, name),
      },
    };
  }

  async function handle(request: IncomingMessage): Promise<{
    method: ComputeMethod | 'unknown';
    reply: Reply;
    query: Record<string, string>;
    path: string;
  }> {
    const url = new URL(request.url ?? '/', 'http://standin');
    const query = Object.fromEntries(url.searchParams);
    const path = url.pathname;
    const method = methodOf(request.method ?? 'GET', path);
    const answer = (reply: Reply) => ({ method, reply, query, path });
    if (!/^Bearer \S+/.test(request.headers.authorization ?? '')) {
      return answer(errorReply(401, 'required', 'Request is missing required authentication credential.'));
    }
    if (method === 'unknown')
      return answer(errorReply(404, 'notFound', `stand-in: no such call ${request.method} ${path}`));
    const project = decodeURIComponent(/^\/compute\/v1\/projects\/([^/]+)/.exec(path)?.[1] ?? '');
    if (!state.project(project)) return answer(notFound(`projects/${project}`));
    const permission = methodPermissions[method].find((p) => denied.has(p));
    if (permission) {
      return answer(
        errorReply(
          403,
          'forbidden',
          `Required '${permission}' permission for 'projects/${project}${path.replace(/^\/compute\/v1\/projects\/[^/]+/, '')}'`,
        ),
      );
    }
    const fault = takeFault(method);
    if (fault && !fault.afterEffect) return answer(faultReply(fault));
    const body = request.method === 'POST' ? ((await readBody(request)) as Record<string, unknown>) : {};
    let reply: Reply;
    const routes = ROUTES.exec(path);
    const wait = WAIT.exec(path);
    const instance = INSTANCE.exec(path);
    if (method === 'routes.list') reply = listRoutes(project, query);
    else if (method === 'routes.get') {
      const route = state.project(project)?.routes.get(routes?.[2] ?? '');
      reply = route
        ? { status: 200, body: state.view(route) }
        : notFound(`projects/${project}/global/routes/${routes?.[2]}`);
    } else if (method === 'routes.insert') reply = insertRoute(project, query, body);
    else if (method === 'routes.delete') reply = deleteRoute(project, routes?.[2] ?? '', query);
    else if (method === 'globalOperations.wait') {
      const operation = state.advance(project, wait?.[2] ?? '');
      reply = operation
        ? { status: 200, body: operation }
        : notFound(`projects/${project}/global/operations/${wait?.[2]}`);
    } else reply = getInstance(project, instance?.[2] ?? '', instance?.[3] ?? '');
    return answer(fault ? faultReply(fault) : reply);
  }

  const server = createServer((request, response) => {
    handle(request).then(
      ({ method, reply, query, path }) => {
        log.push({ method, path, query, status: reply.status });
        send(response, reply);
      },
      (error: unknown) => send(response, errorReply(500, 'backendError', String(error))),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    state,
    addProject: (project, networks) => state.addProject(project, networks),
    setInstance(instance) {
      const url = instanceUrl(instance.project, instance.zone, instance.name);
      state.instances.set(url, { ...instance });
      return url;
    },
    removeInstance(project, zone, name) {
      state.instances.delete(instanceUrl(project, zone, name));
    },
    routes: (project) => [...(state.project(project)?.routes.values() ?? [])].map((r) => state.view(r)),
    fault: (fault) => faults.push({ ...fault }),
    deny: (permission) => denied.add(permission),
    allow: (permission) => denied.delete(permission),
    calls: () => log,
    count: (method) => log.filter((c) => c.method === method).length,
    resetCalls: () => {
      log.length = 0;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function hashCode(text: string): number {
  let h = 0;
  for (const c of text) h = (h * 31 + c.charCodeAt(0)) | 0;
  return h;
}
