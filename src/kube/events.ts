import { randomBytes } from 'node:crypto';
import { EventsV1Api, PatchStrategy, setHeaderOptions, V1MicroTime } from '@kubernetes/client-node';
import type { Logger } from '../runtime/logger.js';
import { describeApiError, type KubeConfigOrPort } from './client.js';
import type { KubeMetrics } from './metrics.js';

export interface PodRef {
  readonly namespace: string;
  readonly name: string;
  readonly uid?: string | undefined;
}

/** What portlb did, as `kubectl describe pod` shows it. */
export interface ObjectEvent {
  readonly regarding: PodRef;
  readonly type: 'Normal' | 'Warning';
  /** CamelCase, e.g. Announced, Withdrawn, Programmed, Failover, Refused. */
  readonly reason: string;
  /** What was done, e.g. Announce, Withdraw, Program, Refuse. */
  readonly action: string;
  readonly note: string;
}

export interface EventRecorder {
  /** Never throws and never blocks: writes are queued, failures are logged and counted. */
  record(event: ObjectEvent): void;
  /** Resolves when every queued write is done (tests, shutdown). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** The two calls the recorder makes; tests pass a fake. */
export type EventsPort = Pick<EventsV1Api, 'createNamespacedEvent' | 'patchNamespacedEvent'>;

export type RecorderOptions = RecorderSettings & KubeConfigOrPort<EventsPort>;

interface RecorderSettings {
  /** `portlb.io/sidecar`: who reports. */
  readonly controller: string;
  /** This process, e.g. the pod name. */
  readonly instance: string;
  readonly logger: Logger;
  readonly metrics?: KubeMetrics | undefined;
  /** Repeats of one event within this window update its count instead of adding an Event. */
  readonly aggregateWindowMs?: number;
  /** A repeated event's count is written at most this often. */
  readonly patchIntervalMs?: number;
  /** New Events per burst and the refill period of one more: a flapping loop cannot flood the API. */
  readonly burst?: number;
  readonly refillMs?: number;
  readonly maxKeys?: number;
  readonly now?: () => number;
}

interface Series {
  name: string | undefined;
  reason: string;
  namespace: string;
  firstMs: number;
  count: number;
  written: number;
  lastWriteMs: number;
  lastMs: number;
  timer?: NodeJS.Timeout | undefined;
}

/** events.k8s.io wants microseconds; client-node's V1MicroTime prints them. */
function microTime(ms: number): V1MicroTime {
  return new V1MicroTime(ms);
}

/**
 * An events.k8s.io/v1 recorder with client-go's two protections against spam: identical events
 * aggregate into one Event whose `series.count` grows (written at most every `patchIntervalMs`),
 * and new Events come out of a token bucket.
 */
export function createEventRecorder(options: RecorderOptions): EventRecorder {
  const api: EventsPort = options.api ?? options.kubeConfig.makeApiClient(EventsV1Api);
  const log = options.logger.child({ component: 'events' });
  const now = options.now ?? Date.now;
  const windowMs = options.aggregateWindowMs ?? 10 * 60_000;
  const patchIntervalMs = options.patchIntervalMs ?? 30_000;
  const burst = options.burst ?? 25;
  const refillMs = options.refillMs ?? 5_000;
  const maxKeys = options.maxKeys ?? 512;
  const series = new Map<string, Series>();
  let tokens = burst;
  let refilledAt = now();
  let chain: Promise<void> = Promise.resolve();
  let closed = false;

  const enqueue = (work: () => Promise<void>) => {
    chain = chain.then(work).catch(() => {});
  };

  const takeToken = (): boolean => {
    const t = now();
    const earned = Math.floor((t - refilledAt) / refillMs);
    if (earned > 0) {
      tokens = Math.min(burst, tokens + earned);
      refilledAt += earned * refillMs;
    }
    if (tokens <= 0) return false;
    tokens -= 1;
    return true;
  };

  const writeCount = (key: string, s: Series, reason: string) => {
    clearTimeout(s.timer);
    s.timer = undefined;
    enqueue(async () => {
      if (s.name === undefined || s.count === s.written) return;
      const count = s.count;
      try {
        await api.patchNamespacedEvent(
          {
            name: s.name,
            namespace: s.namespace,
            body: { series: { count, lastObservedTime: microTime(s.lastMs) } },
          },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
        s.written = count;
        s.lastWriteMs = now();
        options.metrics?.events.inc({ reason, result: 'aggregated' });
      } catch (error) {
        options.metrics?.events.inc({ reason, result: 'error' });
        log.warn({ event: 'event_failed', key, err: describeApiError(error) }, 'cannot update Event count');
      }
    });
  };

  return {
    record(event) {
      if (closed) return;
      const { regarding } = event;
      const key = [
        regarding.namespace,
        regarding.name,
        regarding.uid,
        event.type,
        event.reason,
        event.note,
      ].join('\u0000');
      const t = now();
      const seen = series.get(key);
      if (seen !== undefined && t - seen.firstMs < windowMs) {
        seen.count += 1;
        seen.lastMs = t;
        const due = seen.lastWriteMs + patchIntervalMs - t;
        if (due <= 0) writeCount(key, seen, event.reason);
        else if (seen.timer === undefined) {
          seen.timer = setTimeout(() => writeCount(key, seen, event.reason), due);
          seen.timer.unref();
        }
        return;
      }
      if (!takeToken()) {
        options.metrics?.events.inc({ reason: event.reason, result: 'dropped' });
        log.debug({ event: 'event_dropped', reason: event.reason }, 'Event rate limit reached');
        return;
      }
      if (seen) clearTimeout(seen.timer);
      const s: Series = {
        name: undefined,
        reason: event.reason,
        namespace: regarding.namespace,
        firstMs: t,
        count: 1,
        written: 1,
        lastWriteMs: t,
        lastMs: t,
      };
      series.delete(key);
      series.set(key, s);
      // Oldest first: Map iteration order is insertion order.
      for (const old of series.keys()) {
        if (series.size <= maxKeys) break;
        clearTimeout(series.get(old)?.timer);
        series.delete(old);
      }
      enqueue(async () => {
        const name = `${regarding.name}.${t.toString(16)}${randomBytes(3).toString('hex')}`;
        try {
          await api.createNamespacedEvent({
            namespace: regarding.namespace,
            body: {
              metadata: { name, namespace: regarding.namespace },
              eventTime: microTime(t),
              reportingController: options.controller,
              reportingInstance: options.instance.slice(0, 128),
              action: event.action,
              reason: event.reason,
              note: event.note.slice(0, 1024),
              type: event.type,
              regarding: {
                apiVersion: 'v1',
                kind: 'Pod',
                namespace: regarding.namespace,
                name: regarding.name,
                ...(regarding.uid && { uid: regarding.uid }),
              },
            },
          });
          s.name = name;
          s.lastWriteMs = now();
          options.metrics?.events.inc({ reason: event.reason, result: 'created' });
        } catch (error) {
          options.metrics?.events.inc({ reason: event.reason, result: 'error' });
          log.warn(
            { event: 'event_failed', reason: event.reason, err: describeApiError(error) },
            'cannot create Event',
          );
        }
      });
    },
    async flush() {
      for (const [key, s] of series) if (s.timer !== undefined) writeCount(key, s, s.reason);
      await chain;
    },
    async close() {
      await this.flush();
      closed = true;
    },
  };
}

/** For processes without an API (static boxes, tests): events go nowhere. */
export function nullRecorder(): EventRecorder {
  return { record: () => {}, flush: async () => {}, close: async () => {} };
}
