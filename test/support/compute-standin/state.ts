import { randomUUID } from 'node:crypto';
import { canonicalText } from '../../../src/core/cidr.js';

/*
 * STAND-IN (Google ships no Compute emulator): the state behind the stand-in server. Shapes follow
 * Compute's v1 REST reference (Route, Operation, Instance resources); only the fields portlb reads
 * or writes are modelled. Behaviour modelled on the documented API: routes are immutable (insert,
 * delete; no update), a write returns an Operation that is PENDING and becomes DONE through
 * `globalOperations.wait`, a write repeated with the same requestId returns the first Operation and
 * changes nothing, a route's next hop that is not RUNNING carries the NEXT_HOP_NOT_RUNNING warning.
 */

export const API_BASE = 'https://www.googleapis.com/compute/v1';

export interface Warning {
  readonly code: string;
  readonly message: string;
  readonly data?: readonly { key: string; value: string }[];
}

export interface RouteJson {
  kind: 'compute#route';
  id: string;
  creationTimestamp: string;
  name: string;
  description?: string;
  network: string;
  destRange: string;
  priority: number;
  nextHopInstance?: string;
  nextHopIp?: string;
  nextHopGateway?: string;
  selfLink: string;
  routeType: 'STATIC';
  warnings?: Warning[];
}

export interface OperationJson {
  kind: 'compute#operation';
  id: string;
  name: string;
  operationType: 'insert' | 'delete';
  targetLink: string;
  status: 'PENDING' | 'RUNNING' | 'DONE';
  progress: number;
  insertTime: string;
  selfLink: string;
  user: string;
  warnings?: Warning[];
  error?: { errors: { code: string; message: string }[] };
  httpErrorStatusCode?: number;
  httpErrorMessage?: string;
  endTime?: string;
}

export interface InstanceState {
  readonly project: string;
  readonly zone: string;
  readonly name: string;
  status: string;
  canIpForward: boolean;
}

interface ProjectState {
  readonly networks: Set<string>;
  readonly routes: Map<string, RouteJson>;
  readonly operations: Map<string, OperationJson & { waitsLeft: number }>;
  /** requestId -> operation name: a repeated request returns the first operation. */
  readonly requests: Map<string, string>;
}

/** An answer the server sends: status + JSON body. */
export interface Reply {
  readonly status: number;
  readonly body: unknown;
}

export function errorReply(status: number, reason: string, message: string): Reply {
  const domain = reason === 'rateLimitExceeded' ? 'usageLimits' : 'global';
  return { status, body: { error: { code: status, message, errors: [{ message, domain, reason }] } } };
}

let nextId = 1000;
const newId = () => String(nextId++);
const now = () => new Date().toISOString();

export function instanceUrl(project: string, zone: string, name: string): string {
  return `${API_BASE}/projects/${project}/zones/${zone}/instances/${name}`;
}

export class ComputeState {
  readonly projects = new Map<string, ProjectState>();
  readonly instances = new Map<string, InstanceState>();
  /** How many `wait` calls an operation needs before it is DONE (1: the first wait finds it DONE). */
  waitsBeforeDone = 1;

  project(project: string): ProjectState | undefined {
    return this.projects.get(project);
  }

  addProject(project: string, networks: readonly string[]): void {
    const existing = this.projects.get(project);
    if (existing) {
      for (const n of networks) existing.networks.add(n);
      return;
    }
    this.projects.set(project, {
      networks: new Set(networks),
      routes: new Map(),
      operations: new Map(),
      requests: new Map(),
    });
  }

  /** The route as Compute would show it now: warnings follow the next hop's current state. */
  view(route: RouteJson): RouteJson {
    const warnings = this.nextHopWarnings(route);
    const { warnings: _stored, ...rest } = route;
    return warnings.length > 0 ? { ...rest, warnings } : rest;
  }

  nextHopWarnings(route: { nextHopInstance?: string }): Warning[] {
    if (route.nextHopInstance === undefined) return [];
    const instance = this.instances.get(route.nextHopInstance);
    if (instance === undefined) {
      return [
        {
          code: 'NEXT_HOP_INSTANCE_NOT_FOUND',
          message: `Next hop instance ${route.nextHopInstance} not found.`,
        },
      ];
    }
    if (instance.status !== 'RUNNING') {
      return [
        {
          code: 'NEXT_HOP_NOT_RUNNING',
          message: `Next hop instance '${instance.name}' is not running.`,
          data: [{ key: 'instance', value: route.nextHopInstance }],
        },
      ];
    }
    return [];
  }

  /** A route put in place directly (someone else's, or a copy made to look like portlb's). */
  seedRoute(
    project: string,
    route: Partial<RouteJson> & { name: string; destRange: string; network: string },
  ): void {
    const state = this.project(project);
    if (!state) throw new Error(`unknown project ${project}`);
    state.routes.set(route.name, this.newRoute(project, route));
  }

  newRoute(
    project: string,
    body: Partial<RouteJson> & { name: string; destRange: string; network: string },
  ): RouteJson {
    const network = body.network.includes('/')
      ? `${API_BASE}/projects/${project}/global/networks/${body.network.split('/').pop()}`
      : `${API_BASE}/projects/${project}/global/networks/${body.network}`;
    const parsed = canonicalText(body.destRange);
    return {
      kind: 'compute#route',
      id: newId(),
      creationTimestamp: now(),
      name: body.name,
      ...(body.description !== undefined && { description: body.description }),
      network,
      destRange: parsed.ok ? parsed.text : body.destRange,
      priority: body.priority ?? 1000,
      ...(body.nextHopInstance !== undefined && {
        nextHopInstance: this.fullInstanceUrl(body.nextHopInstance),
      }),
      ...(body.nextHopIp !== undefined && { nextHopIp: body.nextHopIp }),
      ...(body.nextHopGateway !== undefined && { nextHopGateway: body.nextHopGateway }),
      selfLink: `${API_BASE}/projects/${project}/global/routes/${body.name}`,
      routeType: 'STATIC',
    };
  }

  /** Compute accepts full or partial URLs and answers with the full one. */
  fullInstanceUrl(url: string): string {
    const match = /(?:^|\/)projects\/([^/]+)\/zones\/([^/]+)\/instances\/([^/]+)$/.exec(url);
    return match ? instanceUrl(match[1] ?? '', match[2] ?? '', match[3] ?? '') : url;
  }

  /** A new operation, or the one this requestId already started. */
  operation(
    project: string,
    requestId: string | undefined,
    type: 'insert' | 'delete',
    target: string,
    effect: () => { warnings?: Warning[] },
  ): { operation: OperationJson; repeated: boolean } {
    const state = this.project(project);
    if (!state) throw new Error(`unknown project ${project}`);
    const earlier = requestId ? state.requests.get(requestId) : undefined;
    const found = earlier ? state.operations.get(earlier) : undefined;
    if (found) return { operation: strip(found), repeated: true };
    const { warnings } = effect();
    const name = `operation-${Date.now()}-${randomUUID().slice(0, 8)}`;
    const operation: OperationJson & { waitsLeft: number } = {
      kind: 'compute#operation',
      id: newId(),
      name,
      operationType: type,
      targetLink: `${API_BASE}/projects/${project}/global/routes/${target}`,
      status: this.waitsBeforeDone === 0 ? 'DONE' : 'PENDING',
      progress: this.waitsBeforeDone === 0 ? 100 : 0,
      insertTime: now(),
      selfLink: `${API_BASE}/projects/${project}/global/operations/${name}`,
      user: 'portlb-test@standin.iam.gserviceaccount.com',
      ...(warnings && warnings.length > 0 && { warnings }),
      waitsLeft: this.waitsBeforeDone,
    };
    state.operations.set(name, operation);
    if (requestId) state.requests.set(requestId, name);
    return { operation: strip(operation), repeated: false };
  }

  /** One `wait`: moves the operation one step towards DONE. */
  advance(project: string, name: string): OperationJson | undefined {
    const operation = this.project(project)?.operations.get(name);
    if (!operation) return undefined;
    if (operation.waitsLeft > 0) operation.waitsLeft--;
    if (operation.waitsLeft === 0) {
      operation.status = 'DONE';
      operation.progress = 100;
      operation.endTime ??= now();
    } else {
      operation.status = 'RUNNING';
      operation.progress = 50;
    }
    return strip(operation);
  }
}

function strip(operation: OperationJson & { waitsLeft: number }): OperationJson {
  const { waitsLeft: _left, ...rest } = operation;
  return { ...rest };
}
