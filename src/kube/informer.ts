import {
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  ListWatch,
  Watch,
} from '@kubernetes/client-node';
import { TransientError } from '../errors.js';
import { backoffDelay } from '../runtime/backoff.js';
import type { Logger } from '../runtime/logger.js';
import { describeApiError } from './client.js';
import type { KubeMetrics } from './metrics.js';
import type { Prune } from './prune.js';

export interface InformerOptions<T extends KubernetesObject> {
  /** The metric/log label: `lb-pods`, `nodes`, `endpointslices`. */
  readonly resource: string;
  readonly kubeConfig: KubeConfig;
  /** The watch path, e.g. `/api/v1/namespaces/lb/pods`. */
  readonly path: string;
  readonly list: () => Promise<KubernetesListObject<T>>;
  readonly labelSelector?: string | undefined;
  readonly fieldSelector?: string | undefined;
  /** What to keep of each object before it is cached (see prune.ts). */
  readonly prune: Prune<T>;
  /** A full relist (a fresh list + watch) this often, whatever the watch says. */
  readonly relistMs: number;
  /** A list that hangs longer than this counts as a failure. */
  readonly listTimeoutMs?: number;
  readonly backoff?: { readonly minMs: number; readonly maxMs: number };
  readonly logger: Logger;
  readonly metrics?: KubeMetrics | undefined;
  /** Called after the cache changed (an object added, updated or removed). */
  readonly onChange?: (resource: string) => void;
}

/** A Watch that prunes every object before ListWatch or the cache sees it. */
class PruningWatch<T extends KubernetesObject> extends Watch {
  constructor(
    kubeConfig: KubeConfig,
    private readonly prune: Prune<T>,
  ) {
    super(kubeConfig);
  }

  override watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: KubernetesObject, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    return super.watch(
      path,
      queryParams,
      // ListWatch reads the resourceVersion of BOOKMARK and ERROR events: only objects are pruned.
      (phase, obj, watchObj) =>
        callback(phase, phase === 'BOOKMARK' || phase === 'ERROR' ? obj : this.prune(obj as T), watchObj),
      done,
    );
  }
}

export interface Informer<T> {
  /** Resolves after the first list succeeded or failed; retries continue in the background. */
  start(): Promise<void>;
  stop(): Promise<void>;
  list(): T[];
  /** At least one full list has succeeded: the cache means something. */
  synced(): boolean;
  /** The last list/watch works. While false, the cache holds the last known state. */
  up(): boolean;
  lastError(): string | undefined;
}

function keyOf(obj: KubernetesObject): string {
  return `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
}

/**
 * client-node's ListWatch, made safe to rely on: it gives up after a non-410 error and can stall
 * silently, so every failure restarts it with exponential backoff and jitter, and a timer rebuilds
 * it (a fresh list, then a watch) every `relistMs`. The cache is ours, not the ListWatch's, so a
 * restart never empties it: while the API server is down the last known state stays.
 */
export function createInformer<T extends KubernetesObject>(options: InformerOptions<T>): Informer<T> {
  const { resource, logger, metrics } = options;
  const log = logger.child({ component: 'informer', resource });
  const backoff = options.backoff ?? { minMs: 500, maxMs: 30_000 };
  const listTimeoutMs = options.listTimeoutMs ?? 30_000;
  const items = new Map<string, T>();
  let generation = 0;
  let current: ListWatch<T> | undefined;
  let isSynced = false;
  let isUp = false;
  let error: string | undefined;
  let failures = 0;
  let stopped = false;
  let retryTimer: NodeJS.Timeout | undefined;
  let relistTimer: NodeJS.Timeout | undefined;
  let connecting: Promise<void> | undefined;

  const changed = () => {
    metrics?.objects.set({ resource }, items.size);
    options.onChange?.(resource);
  };

  const upsert = (obj: T): boolean => {
    const key = keyOf(obj);
    const seen = items.get(key);
    const version = obj.metadata?.resourceVersion;
    if (seen !== undefined && version !== undefined && seen.metadata?.resourceVersion === version)
      return false;
    items.set(key, obj);
    return true;
  };

  const listWithTimeout = async (): Promise<KubernetesListObject<T>> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new TransientError(`list timed out after ${listTimeoutMs} ms`)),
        listTimeoutMs,
      );
    });
    try {
      const list = await Promise.race([options.list(), timeout]);
      return { ...list, items: list.items.map(options.prune) };
    } finally {
      clearTimeout(timer);
    }
  };

  const fail = (gen: number, cause: unknown) => {
    if (gen !== generation || stopped) return;
    failures += 1;
    error = describeApiError(cause);
    if (isUp || failures === 1) log.warn({ event: 'api_down', err: error, failures }, 'list/watch failed');
    isUp = false;
    metrics?.apiUp.set({ resource }, 0);
    metrics?.restarts.inc({ resource, reason: 'error' });
    // Full jitter: many sidecars restarting at once after an API outage must not stampede it.
    const delay = backoffDelay(failures - 1, { ...backoff, jitter: 'full' });
    clearTimeout(retryTimer);
    retryTimer = setTimeout(async () => {
      // A connect still in flight would swallow this retry: wait for it, then retry unless a
      // newer attempt has already brought the informer back.
      await connecting;
      if (gen === generation || !isUp) void connect('error');
    }, delay);
  };

  const connect = (reason: string): Promise<void> => {
    if (stopped) return Promise.resolve();
    if (connecting) return connecting;
    connecting = (async () => {
      const gen = ++generation;
      clearTimeout(retryTimer);
      const previous = current;
      current = undefined;
      await previous?.stop();
      if (gen !== generation || stopped) return;
      const lw = new ListWatch<T>(
        options.path,
        new PruningWatch(options.kubeConfig, options.prune),
        listWithTimeout,
        false,
        options.labelSelector,
        options.fieldSelector,
      );
      current = lw;
      let failed = false;
      const ours = () => gen === generation && !stopped;
      lw.on('add', (obj) => ours() && isSynced && upsert(obj) && changed());
      lw.on('update', (obj) => ours() && isSynced && upsert(obj) && changed());
      lw.on('delete', (obj) => {
        if (ours() && isSynced && items.delete(keyOf(obj))) changed();
      });
      lw.on('error', (cause) => {
        failed = true;
        fail(gen, cause);
      });
      try {
        await lw.start();
      } catch (cause) {
        // ListWatch reports most failures through 'error'; anything thrown must also retry.
        failed = true;
        fail(gen, cause);
      }
      if (!ours()) {
        await lw.stop(); // stopped or superseded while starting: do not leave a watch running
        return;
      }
      if (failed) return;
      // The list is authoritative: drop what vanished while we were not watching.
      const fresh = lw.list();
      const keys = new Set(fresh.map(keyOf));
      let dirty = false;
      for (const key of items.keys()) {
        if (!keys.has(key)) dirty = items.delete(key) || dirty;
      }
      for (const obj of fresh) dirty = upsert(obj) || dirty;
      const firstSync = !isSynced;
      isSynced = true;
      if (!isUp && failures > 0)
        log.info({ event: 'api_up', reason, after: failures }, 'list/watch recovered');
      isUp = true;
      failures = 0;
      error = undefined;
      metrics?.apiUp.set({ resource }, 1);
      metrics?.lastSync.set({ resource }, Date.now() / 1000);
      if (dirty || firstSync) changed();
    })().finally(() => {
      connecting = undefined;
    });
    return connecting;
  };

  return {
    async start() {
      stopped = false;
      relistTimer = setInterval(() => {
        metrics?.restarts.inc({ resource, reason: 'relist' });
        void connect('relist');
      }, options.relistMs);
      relistTimer.unref();
      await connect('start');
    },
    async stop() {
      stopped = true;
      generation += 1;
      clearTimeout(retryTimer);
      clearInterval(relistTimer);
      const lw = current;
      current = undefined;
      await lw?.stop();
    },
    list: () => [...items.values()],
    synced: () => isSynced,
    up: () => isUp,
    lastError: () => error,
  };
}
