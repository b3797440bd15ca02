import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The data plane's metrics, in the registry of the process that runs it (sidecar or `portlb dataplane`). */
export function createDataPlaneMetrics(registry: Registry) {
  const registers = [registry];
  return {
    syncs: new Counter({
      name: 'portlb_dataplane_syncs_total',
      help: 'Data-plane syncs per rule writer (nftables, keepalived) by outcome: applied, adopted, unchanged, refused, failed.',
      labelNames: ['writer', 'outcome'] as const,
      registers,
    }),
    applySeconds: new Histogram({
      name: 'portlb_dataplane_apply_duration_seconds',
      help: 'Time to write the rules (nft -f, or keepalived config test + SIGHUP), per writer.',
      labelNames: ['writer'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    lastApplied: new Gauge({
      name: 'portlb_dataplane_last_applied_timestamp_seconds',
      help: 'Unix time the writer last wrote its rules.',
      labelNames: ['writer'] as const,
      registers,
    }),
    backends: new Gauge({
      name: 'portlb_dataplane_backends',
      help: 'Backends in the rules per service: ready (new flows) and draining (established flows only).',
      labelNames: ['service', 'state'] as const,
      registers,
    }),
    refusedLists: new Counter({
      name: 'portlb_dataplane_refused_backend_lists_total',
      help: 'Backend lists refused (duplicates, invalid addresses); the previous rules stayed.',
      labelNames: ['service'] as const,
      registers,
    }),
    listRefused: new Gauge({
      name: 'portlb_dataplane_backend_list_refused',
      help: 'Whether the latest backend list of a service is refused (1) and the previous one still in use.',
      labelNames: ['service'] as const,
      registers,
    }),
    cuts: new Counter({
      name: 'portlb_dataplane_drained_flows_cut_total',
      help: 'conntrack entries deleted when a backend drain time ended, by result (ok, failed: then counted once).',
      labelNames: ['result'] as const,
      registers,
    }),
    ready: new Gauge({
      name: 'portlb_dataplane_ready',
      help: 'Whether the data plane has rules in place that can serve (1) or not (0); the reasons are in /readyz.',
      registers,
    }),
  };
}
