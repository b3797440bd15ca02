import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** The metrics every component shares; one registry per process (tests make their own). */
export function createMetrics(options: { defaults?: boolean } = {}) {
  const registry = new Registry();
  // Event-loop delay sampled every 100 ms, not prom-client's 10 ms: a timer firing 100 times a
  // second is a visible share of an idle sidecar's CPU, and lag worth alerting on is longer anyway.
  if (options.defaults ?? true)
    collectDefaultMetrics({ register: registry, prefix: 'portlb_', eventLoopMonitoringPrecision: 100 });
  const registers = [registry];
  return {
    registry,
    reconciles: new Counter({
      name: 'portlb_reconciles_total',
      help: 'Reconcile runs by result (ok, transient_error, permanent_error, config_error).',
      labelNames: ['result'] as const,
      registers,
    }),
    reconcileSeconds: new Histogram({
      name: 'portlb_reconcile_duration_seconds',
      help: 'Time one reconcile took, observe to apply.',
      buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    retries: new Counter({
      name: 'portlb_retries_total',
      help: 'Retried attempts after a transient error.',
      registers,
    }),
    changes: new Counter({
      name: 'portlb_route_changes_total',
      help: 'Route changes applied, by kind (create, replace, delete) and result.',
      labelNames: ['kind', 'result'] as const,
      registers,
    }),
    skipped: new Gauge({
      name: 'portlb_routes_skipped',
      help: 'Routes the last plan left alone on purpose (see logs for reasons).',
      registers,
    }),
    desired: new Gauge({
      name: 'portlb_desired_routes',
      help: 'Desired VIP routes in the last plan.',
      registers,
    }),
    publishFailures: new Counter({
      name: 'portlb_publish_failures_total',
      help: "Failed publishes of this LB's own report (what: candidacy on AWS, lifecycle on GCP Pub/Sub); retried with backoff.",
      labelNames: ['what'] as const,
      registers,
    }),
    lastSuccess: new Gauge({
      name: 'portlb_last_successful_reconcile_timestamp_seconds',
      help: 'Unix time of the last reconcile that finished without error.',
      registers,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
