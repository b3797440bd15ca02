import { Gauge, type Registry } from 'prom-client';

/** `forwarding: tunnel`'s own metrics: the per-backend tunnel check and the agreement with the other LBs. */
export function createTunnelMetrics(registry: Registry) {
  const registers = [registry];
  const existing = (name: string) => registry.getSingleMetric(name) as Gauge<string> | undefined;
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    (existing(name) as Gauge<L> | undefined) ?? new Gauge({ name, help, labelNames, registers });
  return {
    backendUp: gauge(
      'portlb_dataplane_tunnel_backend_up',
      'Whether a backend answers through the tunnel (1) or not (0): its decapsulation, the VIP as a local address and its direct return.',
      ['service', 'backend'] as const,
    ),
    table: gauge(
      'portlb_dataplane_maglev_table_info',
      "This LB's Maglev table per service (value 1): seed, size and fingerprint, which every LB of the service must share.",
      ['service', 'seed', 'size', 'fingerprint'] as const,
    ),
    peerMismatch: gauge(
      'portlb_dataplane_maglev_peer_mismatch',
      'Another LB whose seed, table size or table differs from this one (1 while it does), by kind.',
      ['peer', 'kind'] as const,
    ),
  };
}
