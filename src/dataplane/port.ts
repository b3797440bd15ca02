import { PermanentError } from '../errors.js';
import type { PlaneModel } from './model.js';
import type { WriteReason } from './nftables-live.js';

/** What one sync did to one writer's rules. */
export interface ApplyOutcome {
  /** applied: rules written; adopted: a previous run's rules are current; refused: not portlb's to write. */
  readonly action: 'applied' | 'adopted' | 'unchanged' | 'refused';
  readonly reason: WriteReason;
  /** The rules are right but something keeps them from serving (keepalived not running). */
  readonly notServing?: string;
}

/**
 * The data-plane port: one writer of rules (nftables, keepalived). `sync` reads what is there,
 * writes the model's rules only when they differ, and is safe to repeat; it throws when writing
 * fails, leaving the old rules in place.
 */
export interface RuleWriter {
  readonly name: 'nftables' | 'keepalived' | 'tunnel';
  /** Why this writer cannot work on this machine at all (ipvs without IP_VS); checked at start. */
  unavailable?(): Promise<string | undefined>;
  sync(model: PlaneModel): Promise<ApplyOutcome>;
}

/**
 * Writing failed while rules this owner wrote earlier (an earlier run's) are still in place: they
 * serve, so the data plane is degraded, not down, even in a process that never wrote.
 */
export class PreviousRulesServeError extends PermanentError {
  override readonly name: string = 'PreviousRulesServeError';
}
