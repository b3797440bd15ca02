import { createHash } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import { ConfigError } from '../errors.js';

/** What portlb needs of an undici Dispatcher (client-node's own dependency). */
interface Dispatcher {
  close(): Promise<void>;
}
type CreateDispatcher = (
  cluster: unknown,
  agentOptions: Record<string, unknown>,
  ...rest: unknown[]
) => Dispatcher | undefined;

/** How long a replaced Agent keeps serving the requests already handed to it before it closes. */
const RETIRE_AFTER_MS = 60_000;

/**
 * client-node 2.0 builds a new undici Agent for every API call, so every Lease renewal, Event and
 * list opens a new TLS connection (a new SecureContext, a full handshake): one every 2 s for an
 * idle aws-mode sidecar's Lease. This keeps one Agent, and so one keep-alive connection pool, per
 * TLS identity (server, proxy, CA, client certificate, key, verification): a rotated certificate
 * gets a new Agent, and the old one closes a minute later, when what it was given has been sent. Bearer
 * tokens are headers, re-read on every call as before. undici closes a connection idle for 4 s, so
 * the pool saves most where calls are frequent (the Lease, every 2 s). If a client-node upgrade
 * renames the method, nothing is pooled and everything still works.
 */
export function poolConnections(kc: KubeConfig): KubeConfig {
  const target = kc as unknown as { createDispatcher?: CreateDispatcher };
  const create = target.createDispatcher;
  if (typeof create !== 'function') return kc;
  let current: { key: string; dispatcher: Dispatcher | undefined } | undefined;
  target.createDispatcher = (cluster, agentOptions, ...rest) => {
    const c = cluster as { server?: string; proxyUrl?: string; skipTLSVerify?: boolean } | null;
    const hash = createHash('sha256');
    hash.update(JSON.stringify([c?.server, c?.proxyUrl, c?.skipTLSVerify, agentOptions.servername]));
    hash.update(String(agentOptions.rejectUnauthorized));
    for (const field of ['ca', 'cert', 'key', 'pfx', 'passphrase']) {
      const value = agentOptions[field];
      hash.update(`|${field}:`);
      if (typeof value === 'string' || Buffer.isBuffer(value)) hash.update(value);
    }
    const key = hash.digest('hex');
    if (current?.key === key) return current.dispatcher;
    const retired = current?.dispatcher;
    if (retired) setTimeout(() => void retired.close().catch(() => {}), RETIRE_AFTER_MS).unref();
    current = { key, dispatcher: create.call(kc, cluster, agentOptions, ...rest) };
    return current.dispatcher;
  };
  return kc;
}

/** A component's API: built from a KubeConfig, or handed in as a port (tests pass a fake). */
export type KubeConfigOrPort<P> =
  | { readonly kubeConfig: KubeConfig; readonly api?: undefined }
  | { readonly api: P; readonly kubeConfig?: undefined };

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
  return poolConnections(kc);
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
