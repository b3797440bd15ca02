import { Counter, Gauge } from 'prom-client';
import type { Metrics } from '../../runtime/metrics.js';

/** The BGP announcer's metrics, in the sidecar's registry. */
export function createBgpMetrics(metrics: Pick<Metrics, 'registry'>) {
  const registers = [metrics.registry];
  return {
    sessionUp: new Gauge({
      name: 'portlb_bgp_session_up',
      help: 'Whether the BGP session to a peer (route reflector) is established (1) or not (0).',
      labelNames: ['peer'] as const,
      registers,
    }),
    sessionChanges: new Counter({
      name: 'portlb_bgp_session_changes_total',
      help: 'Session state changes exabgp reported, by peer and new state.',
      labelNames: ['peer', 'state'] as const,
      registers,
    }),
    announced: new Gauge({
      name: 'portlb_bgp_announced_routes',
      help: 'Routes exabgp acknowledged as announced (1 per VIP and next hop).',
      labelNames: ['vip', 'next_hop'] as const,
      registers,
    }),
    decisions: new Counter({
      name: 'portlb_bgp_decisions_total',
      help: 'Announce and withdraw commands sent to exabgp, by action and cause (the reason is in the log).',
      labelNames: ['action', 'cause'] as const,
      registers,
    }),
    apiErrors: new Counter({
      name: 'portlb_bgp_api_errors_total',
      help: 'Problems on the exabgp process API: malformed lines, error acks, ack timeouts, stray acks.',
      labelNames: ['kind'] as const,
      registers,
    }),
    withdrawConfirmations: new Counter({
      name: 'portlb_bgp_withdraw_confirmations_total',
      help: 'Shutdown withdraws the bgp.shutdown.confirm command confirmed (confirmed) or did not in time (timeout).',
      labelNames: ['result'] as const,
      registers,
    }),
    withdrawConfirmSeconds: new Gauge({
      name: 'portlb_bgp_withdraw_confirm_seconds',
      help: "Time from exabgp's withdraw ack until the network confirmed the router stopped using this next hop.",
      registers,
    }),
    exabgpUp: new Gauge({
      name: 'portlb_exabgp_connected',
      help: 'Whether an exabgp instance is connected to the sidecar through its API relay.',
      registers,
    }),
    exabgpStarts: new Counter({
      name: 'portlb_exabgp_starts_total',
      help: 'exabgp processes the sidecar started, by result (started, spawn_error).',
      labelNames: ['result'] as const,
      registers,
    }),
    exabgpExits: new Counter({
      name: 'portlb_exabgp_exits_total',
      help: 'exabgp processes that ended, expected or not.',
      labelNames: ['expected'] as const,
      registers,
    }),
  };
}

export type BgpMetrics = ReturnType<typeof createBgpMetrics>;
