import { KubeConfig } from '@kubernetes/client-node';
import { ConfigError, PermanentError, TransientError } from '../errors.js';

/**
 * The one place a KubeConfig is built from the environment: an explicit file, else the in-cluster
 * service account, else the usual `KUBECONFIG` / `~/.kube/config` lookup.
 */
export function loadKubeConfig(path?: string): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (path !== undefined) kc.loadFromFile(path);
    else if (process.env.KUBERNETES_SERVICE_HOST) kc.loadFromCluster();
    else kc.loadFromDefault();
  } catch (cause) {
    throw new ConfigError(`cannot load kubeconfig${path ? ` ${path}` : ''}`, [], { cause });
  }
  if (kc.getCurrentCluster() === null) {
    throw new ConfigError('no Kubernetes cluster configured: set kubernetes.kubeconfig or run in a pod');
  }
  return kc;
}

/** The HTTP status of a client-node error: `ApiException.code` for calls, `statusCode` for watches. */
export function httpStatus(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, statusCode } = error as { code?: unknown; statusCode?: unknown };
  if (typeof code === 'number') return code;
  if (typeof statusCode === 'number') return statusCode;
  return undefined;
}

/** A short, secret-free description of an API error (ApiException messages embed whole bodies). */
export function describeApiError(error: unknown): string {
  const status = httpStatus(error);
  const body = (error as { body?: unknown } | null)?.body;
  let message: string | undefined;
  if (typeof body === 'string') {
    try {
      const parsed: unknown = JSON.parse(body);
      if (typeof parsed === 'object' && parsed !== null && 'message' in parsed) {
        message = String((parsed as { message: unknown }).message);
      }
    } catch {
      message = body.slice(0, 200);
    }
  } else if (typeof body === 'object' && body !== null && 'message' in body) {
    message = String((body as { message: unknown }).message);
  }
  if (status !== undefined) return `HTTP ${status}${message ? `: ${message}` : ''}`;
  return error instanceof Error ? error.message : String(error);
}

/**
 * Maps an API failure onto portlb's error kinds: a missing permission or a refused object repeats
 * until someone changes something (permanent); throttling, conflicts, server errors and network
 * failures are worth retrying (transient).
 */
export function classifyApiError(what: string, error: unknown): TransientError | PermanentError {
  const status = httpStatus(error);
  const message = `${what}: ${describeApiError(error)}`;
  if (status === 401 || status === 403 || status === 404 || status === 422 || status === 400) {
    return new PermanentError(message, { cause: error });
  }
  return new TransientError(message, { cause: error });
}
