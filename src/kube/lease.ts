import { CoordinationV1Api, type V1Lease, V1MicroTime, Watch } from '@kubernetes/client-node';
import type { LeaderElector } from '../runtime/leader.js';
import type { Logger } from '../runtime/logger.js';
import { describeApiError, httpStatus, type KubeConfigOrPort } from './client.js';
import type { KubeMetrics } from './metrics.js';

/** The Lease calls the elector makes; tests pass a fake. */
export type LeasePort = Pick<
  CoordinationV1Api,
  'readNamespacedLease' | 'createNamespacedLease' | 'replaceNamespacedLease'
>;

/** With `api` and no `kubeConfig`, followers only poll (no watch): for tests with a fake. */
export type LeaseElectorOptions = LeaseSettings & KubeConfigOrPort<LeasePort>;

interface LeaseSettings {
  readonly namespace: string;
  /** The Lease's name; every candidate for one writer role uses the same one. */
  readonly name: string;
  /** This candidate, unique among them (the pod name). */
  readonly identity: string;
  /** How long followers wait after the last renewal they saw before taking over (default 15 s). */
  readonly leaseDurationMs?: number;
  /** The leader stops acting as leader when it could not renew for this long (default 10 s). */
  readonly renewDeadlineMs?: number;
  /** Interval between attempts to acquire or renew (default 2 s). */
  readonly retryPeriodMs?: number;
  readonly logger: Logger;
  readonly metrics?: KubeMetrics | undefined;
  /** Local clock (ms); expiry is judged on it, never on another node's timestamps. */
  readonly now?: () => number;
}

interface Observed {
  readonly holder: string;
  readonly renewTime: string;
  readonly resourceVersion: string;
  readonly durationMs: number;
}

function timeText(value: unknown): string {
  return value instanceof Date ? value.toISOString() : String(value ?? '');
}

/**
 * Leader election on a coordination.k8s.io/v1 Lease, after client-go's leaderelection: try to
 * acquire or renew every retry period, judge expiry by when this process last saw the record
 * change (clock skew between nodes cannot shorten a lease), write with the Lease's resourceVersion
 * so two candidates cannot both win one round, and give the Lease up on graceful shutdown.
 * Followers also watch the Lease, so a release is noticed at once instead of at the next retry.
 * As client-go says of itself, this is not fencing: two leaders can overlap briefly, and the
 * planner is what keeps that safe.
 */
export function createLeaseElector(options: LeaseElectorOptions): LeaderElector {
  const api: LeasePort = options.api ?? options.kubeConfig.makeApiClient(CoordinationV1Api);
  const kubeConfig = options.kubeConfig;
  const { namespace, name, identity, metrics } = options;
  const log = options.logger.child({ component: 'lease', lease: `${namespace}/${name}`, identity });
  const now = options.now ?? Date.now;
  const leaseMs = options.leaseDurationMs ?? 15_000;
  const renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
  const retryMs = options.retryPeriodMs ?? 2_000;
  const listeners = new Set<(leading: boolean) => void>();
  let leading = false;
  let lastRenewMs = 0;
  let observed: Observed | undefined;
  let observedAt = 0;
  let stopped = true;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let watchAbort: AbortController | undefined;
  let watchTimer: NodeJS.Timeout | undefined;

  const setLeading = (value: boolean, why: string) => {
    if (leading === value) return;
    leading = value;
    metrics?.leader.set({ lease: name }, value ? 1 : 0);
    metrics?.leaseTransitions.inc({ lease: name, leading: String(value) });
    log.info(
      { event: value ? 'leading' : 'following', reason: why },
      value ? 'became leader' : 'lost leadership',
    );
    for (const listener of listeners) listener(value);
  };

  const observe = (lease: V1Lease) => {
    const spec = lease.spec ?? {};
    const next: Observed = {
      holder: spec.holderIdentity ?? '',
      renewTime: timeText(spec.renewTime),
      resourceVersion: lease.metadata?.resourceVersion ?? '',
      durationMs: (spec.leaseDurationSeconds ?? Math.ceil(leaseMs / 1000)) * 1000,
    };
    if (observed?.holder !== next.holder || observed.renewTime !== next.renewTime) observedAt = now();
    observed = next;
  };

  const ourSpec = (previous: V1Lease['spec'] | undefined): NonNullable<V1Lease['spec']> => {
    const t = new V1MicroTime(now());
    const wasOurs = previous?.holderIdentity === identity;
    return {
      holderIdentity: identity,
      leaseDurationSeconds: Math.max(1, Math.ceil(leaseMs / 1000)),
      // Re-wrapped: client-node hands MicroTime back as a string or a Date, and only V1MicroTime
      // serializes with the six fraction digits the API server insists on.
      acquireTime:
        wasOurs && previous?.acquireTime ? new V1MicroTime(new Date(previous.acquireTime).getTime()) : t,
      renewTime: t,
      leaseTransitions: (previous?.leaseTransitions ?? 0) + (wasOurs || previous === undefined ? 0 : 1),
    };
  };

  /** One round: returns when the next one is due (ms from now). */
  const attempt = async (): Promise<number> => {
    if (stopped) return retryMs; // a watch event after stop() must not take the Lease back
    // Renewal counts from before the request: followers time expiry from when they see the write,
    // so the leader must not credit itself with the request's latency.
    const startedAt = now();
    let lease: V1Lease;
    try {
      lease = await api.readNamespacedLease({ name, namespace });
    } catch (error) {
      if (httpStatus(error) !== 404) throw error;
      await api.createNamespacedLease({
        namespace,
        body: { metadata: { name, namespace }, spec: ourSpec(undefined) },
      });
      lastRenewMs = startedAt;
      setLeading(true, 'created the Lease');
      return retryMs;
    }
    observe(lease);
    const holder = observed?.holder ?? '';
    const expiresAt = observedAt + (observed?.durationMs ?? leaseMs);
    if (holder !== '' && holder !== identity && now() < expiresAt) {
      setLeading(false, `held by ${holder}`);
      // Try again exactly when it would expire, so a dead leader is replaced without an extra period.
      return Math.max(10, Math.min(retryMs, expiresAt - now() + 10));
    }
    const updated = await api.replaceNamespacedLease({
      name,
      namespace,
      body: { ...lease, spec: ourSpec(lease.spec) },
    });
    observe(updated);
    lastRenewMs = startedAt;
    setLeading(
      true,
      holder === identity ? 'renewed' : holder === '' ? 'Lease was free' : `Lease of ${holder} expired`,
    );
    return retryMs;
  };

  const schedule = (ms: number) => {
    clearTimeout(timer);
    if (!stopped) timer = setTimeout(() => void tick(), ms);
  };

  const tick = (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      let next = retryMs;
      try {
        next = await attempt();
      } catch (error) {
        const status = httpStatus(error);
        if (status === 409) log.debug({ event: 'lease_conflict' }, 'another candidate wrote the Lease first');
        else
          log.warn(
            { event: 'lease_failed', err: describeApiError(error) },
            'cannot acquire or renew the Lease',
          );
        if (leading && now() - lastRenewMs >= renewDeadlineMs) setLeading(false, 'renew deadline passed');
      }
      running = undefined;
      if (again) {
        again = false;
        next = 0;
      }
      schedule(next);
    })();
    return running;
  };

  const watchLease = () => {
    if (stopped || kubeConfig === undefined) return;
    const restart = () => {
      watchAbort = undefined;
      clearTimeout(watchTimer);
      if (!stopped) watchTimer = setTimeout(watchLease, retryMs);
    };
    new Watch(kubeConfig)
      .watch(
        `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`,
        { fieldSelector: `metadata.name=${name}` },
        (type, object: V1Lease) => {
          if (type !== 'ADDED' && type !== 'MODIFIED' && type !== 'DELETED') return;
          // Only a change that may free the Lease is worth an early round.
          if (!leading && object.spec?.holderIdentity !== identity) void tick();
        },
        () => restart(),
      )
      .then(
        (abort) => {
          if (stopped) abort.abort();
          else watchAbort = abort;
        },
        () => restart(),
      );
  };

  return {
    isLeader: () => leading && now() - lastRenewMs < renewDeadlineMs,
    holder: () => (leading ? identity : observed?.holder || undefined),
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async start() {
      if (!stopped) return;
      stopped = false;
      watchLease();
      await tick();
    },
    async stop(stopOptions = {}) {
      stopped = true;
      clearTimeout(timer);
      clearTimeout(watchTimer);
      watchAbort?.abort();
      watchAbort = undefined;
      await running;
      if (stopOptions.release && leading) {
        try {
          const lease = await api.readNamespacedLease({ name, namespace });
          if (lease.spec?.holderIdentity === identity) {
            // As client-go does: an empty holder and a 1 s duration, so followers take over now.
            await api.replaceNamespacedLease({
              name,
              namespace,
              body: {
                ...lease,
                spec: {
                  ...lease.spec,
                  holderIdentity: '',
                  leaseDurationSeconds: 1,
                  renewTime: new V1MicroTime(now()),
                },
              },
            });
            log.info({ event: 'released' }, 'released the Lease');
          }
        } catch (error) {
          log.warn({ event: 'release_failed', err: describeApiError(error) }, 'cannot release the Lease');
        }
      }
      setLeading(false, stopOptions.release ? 'released' : 'stopped');
    },
  };
}
