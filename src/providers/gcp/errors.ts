import { PermanentError, TransientError } from '../../errors.js';
import { methodPermissions } from './permissions.js';
import type { ComputeMethod, OperationResource } from './port.js';

/*
 * Every Compute failure is classified here and nowhere else. The SDK (google-gax, REST transport)
 * rejects with a GoogleError carrying the HTTP status (`httpStatusCode`), a gRPC `code` and the
 * raw JSON body, whose `error.errors[].reason` is Compute's own word (`rateLimitExceeded`,
 * `notFound`, `alreadyExists`, `forbidden`); a finished Operation carries its failure in
 * `error.errors[].code` and `httpErrorStatusCode`. Both become one `ComputeFailure`.
 */

export interface ComputeFailure {
  /** HTTP status, when a response arrived (or the Operation reported one). */
  readonly status?: number | undefined;
  /** Compute's reason (`rateLimitExceeded`) or an Operation error code (`RESOURCE_NOT_FOUND`). */
  readonly reason?: string | undefined;
  readonly message: string;
  /** Socket-level code (`ECONNREFUSED`) or gRPC status name when there was no response. */
  readonly code?: string | undefined;
}

export interface ComputeErrorDetail {
  readonly method: ComputeMethod;
  readonly project: string;
  /** What the call acted on: a route name, an instance URL. */
  readonly resource?: string | undefined;
}

export class ComputeTransientError extends TransientError {
  override readonly name: string = 'ComputeTransientError';
  constructor(
    message: string,
    readonly method: ComputeMethod,
    readonly failure: ComputeFailure,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export class ComputePermanentError extends PermanentError {
  override readonly name: string = 'ComputePermanentError';
  constructor(
    message: string,
    readonly method: ComputeMethod,
    readonly failure: ComputeFailure,
    /** The IAM permission that was missing, when that is the failure. */
    readonly permission?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

const RAW_PAYLOAD = Symbol.for('google-gax.rawHttpResponsePayload');

/** gRPC status codes google-gax sets when no HTTP status is known (no response, a deadline). */
const grpcNames: Record<number, string> = {
  1: 'CANCELLED',
  4: 'DEADLINE_EXCEEDED',
  5: 'NOT_FOUND',
  6: 'ALREADY_EXISTS',
  7: 'PERMISSION_DENIED',
  8: 'RESOURCE_EXHAUSTED',
  10: 'ABORTED',
  13: 'INTERNAL',
  14: 'UNAVAILABLE',
  16: 'UNAUTHENTICATED',
};
const grpcStatus: Record<string, number> = {
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  PERMISSION_DENIED: 403,
  RESOURCE_EXHAUSTED: 429,
  UNAUTHENTICATED: 401,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 504,
};

const transientReasons = new Set([
  'rateLimitExceeded',
  'userRateLimitExceeded',
  'backendError',
  'internalError',
  'RATE_LIMIT_EXCEEDED',
  'INTERNAL_ERROR',
  'RESOURCE_NOT_READY',
  'SERVICE_UNAVAILABLE',
]);
const transientCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'CANCELLED',
  'DEADLINE_EXCEEDED',
  'UNAVAILABLE',
  'ABORTED',
  'INTERNAL',
  'RESOURCE_EXHAUSTED',
]);

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** `{error: {code, message, errors: [{reason, message}]}}` from the raw body, when there is one. */
function payloadError(error: Record<string, unknown>): { reason?: string; message?: string; code?: number } {
  const raw = error[RAW_PAYLOAD as unknown as string] ?? (error as Record<symbol, unknown>)[RAW_PAYLOAD];
  if (typeof raw !== 'string') return {};
  try {
    const body = record(record(JSON.parse(raw)).error);
    const first = record(Array.isArray(body.errors) ? body.errors[0] : undefined);
    const out: { reason?: string; message?: string; code?: number } = {};
    const reason = text(first.reason);
    const message = text(body.message) ?? text(first.message);
    if (reason) out.reason = reason;
    if (message) out.message = message;
    if (typeof body.code === 'number') out.code = body.code;
    return out;
  } catch {
    return {};
  }
}

/** What a rejected SDK call says, read defensively: a socket error carries none of the HTTP parts. */
export function computeFailure(error: unknown): ComputeFailure {
  if (error instanceof ComputeTransientError || error instanceof ComputePermanentError) return error.failure;
  const e = record(error);
  const payload = payloadError(e);
  const grpc = typeof e.code === 'number' ? grpcNames[e.code] : undefined;
  const socket = typeof e.code === 'string' ? e.code : text(record(e.cause).code);
  const code = grpc ?? socket;
  const status =
    (typeof e.httpStatusCode === 'number' ? e.httpStatusCode : undefined) ??
    payload.code ??
    (grpc === undefined ? undefined : grpcStatus[grpc]);
  return {
    status,
    reason: payload.reason ?? text(e.reason),
    message: payload.message ?? text(e.message) ?? String(error),
    code,
  };
}

/** The failure of a DONE Operation, or undefined when it succeeded. */
export function operationFailure(operation: OperationResource): ComputeFailure | undefined {
  const errors = operation.error?.errors ?? [];
  if (errors.length === 0) return undefined;
  const first = errors[0];
  return {
    status: operation.httpErrorStatusCode ?? undefined,
    reason: first?.code ?? undefined,
    message:
      errors.map((e) => e.message ?? e.code ?? 'error').join('; ') ||
      (operation.httpErrorMessage ?? 'failed'),
  };
}

/** A 404 about the project itself (unknown project, or Compute not enabled), not about a resource in it. */
export function isMissingProject(failure: ComputeFailure): boolean {
  return /^The resource 'projects\/[^/']+' was not found/.test(failure.message);
}

export function isNotFound(failure: ComputeFailure): boolean {
  return failure.status === 404 || failure.reason === 'notFound' || failure.reason === 'RESOURCE_NOT_FOUND';
}

export function isAlreadyExists(failure: ComputeFailure): boolean {
  return (
    failure.status === 409 ||
    failure.reason === 'alreadyExists' ||
    failure.reason === 'RESOURCE_ALREADY_EXISTS'
  );
}

export function isTransientFailure(failure: ComputeFailure): boolean {
  if (failure.reason !== undefined && transientReasons.has(failure.reason)) return true;
  if (failure.status !== undefined) return failure.status === 429 || failure.status >= 500;
  // No response at all: the request failed on the way (socket, DNS, deadline).
  return failure.code === undefined || transientCodes.has(failure.code);
}

/** `Required 'compute.routes.create' permission for 'projects/p/global/routes/r'`: the real one. */
function missingPermission(failure: ComputeFailure, method: ComputeMethod): string {
  const named = /Required '([A-Za-z0-9_.]+)' permission/.exec(failure.message)?.[1];
  return named ?? (methodPermissions[method] ?? []).join(' and ');
}

/** `projects/p`, `networks/n` or `instances/i` that a 404 names, for a message that says which. */
function missingThing(failure: ComputeFailure, detail: ComputeErrorDetail): string {
  const network = /networks\/([a-z0-9-]+)/.exec(failure.message)?.[1];
  if (network) return `network ${network} does not exist in project ${detail.project}`;
  const instance = /zones\/([a-z0-9-]+)\/instances\/([a-z0-9-]+)/.exec(failure.message);
  if (instance) return `instance ${instance[2]} (zone ${instance[1]}) does not exist`;
  if (isMissingProject(failure)) {
    return `project ${detail.project} does not exist (or the Compute Engine API is not enabled in it)`;
  }
  return `${detail.resource ?? detail.method} was not found`;
}

/**
 * Turns a Compute failure into portlb's typed errors, keeping the original as `cause`: throttling
 * (403 `rateLimitExceeded`, 429), 5xx, `UNAVAILABLE` and socket failures are transient (the loop
 * retries; a function fails so Pub/Sub redelivers); a refused permission names the permission; a
 * 404 names the project, network or instance that is missing.
 */
export function toComputeError(
  error: unknown,
  detail: ComputeErrorDetail,
  failure: ComputeFailure = computeFailure(error),
): ComputeTransientError | ComputePermanentError {
  if (error instanceof ComputeTransientError || error instanceof ComputePermanentError) return error;
  const on = detail.resource ? ` on ${detail.resource}` : '';
  const why = `${failure.reason ?? failure.code ?? failure.status ?? 'error'}: ${failure.message}`;
  const options = { cause: error };
  if (isTransientFailure(failure)) {
    return new ComputeTransientError(
      `compute ${detail.method}${on} failed, will retry (${why})`,
      detail.method,
      failure,
      options,
    );
  }
  if (failure.status === 403 || failure.code === 'PERMISSION_DENIED' || failure.reason === 'forbidden') {
    const permission = missingPermission(failure, detail.method);
    return new ComputePermanentError(
      `compute ${detail.method}${on} is not permitted in project ${detail.project}: grant ${permission} (${why})`,
      detail.method,
      failure,
      permission,
      options,
    );
  }
  if (failure.status === 401 || failure.code === 'UNAUTHENTICATED') {
    return new ComputePermanentError(
      `compute ${detail.method}${on}: the credentials were rejected (${why})`,
      detail.method,
      failure,
      undefined,
      options,
    );
  }
  if (isNotFound(failure)) {
    return new ComputePermanentError(
      `compute ${detail.method}${on}: ${missingThing(failure, detail)} (${why})`,
      detail.method,
      failure,
      undefined,
      options,
    );
  }
  return new ComputePermanentError(
    `compute ${detail.method}${on} failed (${why})`,
    detail.method,
    failure,
    undefined,
    options,
  );
}

/** Makes one call and maps its failure: the single place the adapter calls the port through. */
export async function call<T>(detail: ComputeErrorDetail, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (error) {
    throw toComputeError(error, detail);
  }
}
