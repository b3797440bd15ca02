import type { DataPlaneConfig } from '../config/schema.js';
import type { DataPlaneCheck } from './checks.js';
import type { Draining } from './drain.js';
import type { PlaneBackend } from './model.js';
import type { WriteReason } from './nftables-live.js';
import type { ApplyOutcome } from './port.js';

/*
 * What the data-plane controller tells /readyz, from its state, pure: reasons nothing can serve
 * (not ready), and what still serves but not as it should (degraded).
 */

export interface WriterStatus {
  readonly outcome?: ApplyOutcome['action'];
  readonly reason?: WriteReason;
  readonly notServing?: string;
  readonly lastError?: string;
  readonly lastAppliedAt?: string;
  /** True once this process has written or adopted rules: a later failure leaves those serving. */
  readonly served: boolean;
}

export interface ServiceStatus {
  readonly ready: number;
  readonly draining: number;
  /** Why the latest backend list was refused; the previous one is still in the rules. */
  readonly refused?: readonly string[];
}

export interface DataPlaneStatus {
  readonly kind: DataPlaneConfig['kind'];
  readonly forwarding: DataPlaneConfig['forwarding'];
  readonly seed: number;
  readonly writers: Readonly<Record<string, WriterStatus>>;
  readonly services: Readonly<Record<string, ServiceStatus>>;
  /** Still serving, but not as it should: a failed write with old rules in place, a refused list, a failed check. */
  readonly degraded: readonly string[];
  /** What each check found (`tunnel`: per backend; `maglev`: this LB's tables and the other LBs'). */
  readonly checks?: Readonly<Record<string, Record<string, unknown>>>;
}

/** The controller's per-service state. */
export interface ServiceState {
  ready: PlaneBackend[];
  draining: Draining[];
  refused?: string[];
  /** Drain time over, flows not cut yet (cut after the next successful write). */
  toCut: PlaneBackend[];
}

export function notReadyReasons(state: {
  readonly unavailable: string | undefined;
  readonly synced: boolean;
  readonly sysctl: readonly string[];
  readonly writers: ReadonlyMap<string, WriterStatus>;
}): string[] {
  if (state.unavailable !== undefined) return [state.unavailable];
  if (!state.synced) return ['data plane: not synced yet'];
  const reasons = state.sysctl.map((s) => `data plane: ${s}`);
  for (const [name, w] of state.writers) {
    if (w.outcome === 'refused' && w.reason) reasons.push(`${name}: ${w.reason.detail}`);
    else if (!w.served && w.lastError) reasons.push(`${name}: no rules written yet: ${w.lastError}`);
    if (w.notServing) reasons.push(`${name}: ${w.notServing}`);
  }
  return reasons;
}

export function describeStatus(
  dataPlane: DataPlaneConfig,
  writers: ReadonlyMap<string, WriterStatus>,
  services: ReadonlyMap<string, ServiceState>,
  checks: readonly Pick<DataPlaneCheck, 'name' | 'degraded' | 'status'>[] = [],
): DataPlaneStatus {
  const degraded: string[] = [];
  for (const [name, w] of writers) {
    if (w.served && w.lastError && w.outcome !== 'refused') {
      degraded.push(`${name}: the last write failed and the previous rules still serve: ${w.lastError}`);
    }
  }
  const byService: Record<string, ServiceStatus> = {};
  for (const [name, s] of services) {
    if (s.refused) degraded.push(`service ${name}: backend list refused: ${s.refused.join('; ')}`);
    byService[name] = {
      ready: s.ready.length,
      draining: s.draining.length,
      ...(s.refused && { refused: s.refused }),
    };
  }
  for (const check of checks) degraded.push(...check.degraded());
  return {
    kind: dataPlane.kind,
    forwarding: dataPlane.forwarding,
    seed: dataPlane.seed,
    writers: Object.fromEntries(writers),
    services: byService,
    degraded,
    ...(checks.length > 0 && { checks: Object.fromEntries(checks.map((c) => [c.name, c.status()])) }),
  };
}
