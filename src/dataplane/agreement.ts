import type { MaglevReport } from './tunnel.js';

/*
 * Do the LBs of a service agree on its Maglev table? Pure: this LB's report against another's.
 * Each LB publishes its report on its data-plane /readyz (`checks.maglev.self`) and its metrics;
 * every LB reads the others' and says, in its own /readyz, logs and metrics, where they differ.
 */

export type FindingKind = 'seed' | 'table_size' | 'table' | 'backends' | 'unreachable';

export interface PeerFinding {
  readonly peer: string;
  readonly kind: FindingKind;
  readonly detail: string;
  /** A configuration or build difference (never goes away on its own), not a propagation delay. */
  readonly fatal: boolean;
}

export function comparePeer(self: MaglevReport, peer: string, theirs: MaglevReport): PeerFinding[] {
  if (theirs.seed !== self.seed) {
    const detail = `uses seed 0x${theirs.seed.toString(16)}, this LB 0x${self.seed.toString(16)}: the LBs send flows to different backends (set the same dataPlane.seed on all)`;
    return [{ peer, kind: 'seed', detail, fatal: true }];
  }
  if (theirs.tableSize !== self.tableSize) {
    const detail = `uses table size ${theirs.tableSize}, this LB ${self.tableSize}: the LBs send flows to different backends (set the same dataPlane.tableSize on all)`;
    return [{ peer, kind: 'table_size', detail, fatal: true }];
  }
  const findings: PeerFinding[] = [];
  for (const [service, mine] of Object.entries(self.services)) {
    const other = theirs.services[service];
    if (other === undefined) continue; // it does not serve that service, or has no backend for it yet
    if (other.backendSet !== mine.backendSet) {
      const detail = `service ${service}: its ${other.backends} backend(s) are not this LB's ${mine.backends} (expected while a change propagates)`;
      findings.push({ peer, kind: 'backends', detail, fatal: false });
    } else if (other.fingerprint !== mine.fingerprint) {
      const detail = `service ${service}: same seed, size and backends but another table (${other.fingerprint}, here ${mine.fingerprint}): different portlb versions, or CPUs of different byte order`;
      findings.push({ peer, kind: 'table', detail, fatal: true });
    }
  }
  return findings;
}
