import type { Cardinality, Change, DesiredRoute, ObservedRoute } from '../core/model.js';

/** A place routes are written: the exabgp API, EC2 route tables, GCP routes, or memory. */
export interface Provider {
  readonly name: string;
  readonly cardinality: Cardinality;
  /** Overrides the planner's default for a VIP with no healthy target. */
  readonly whenNoneHealthy?: 'keep' | 'withdraw';
  /** The tables this writer manages (a tag filter resolved to ids, a GCP network, `bgp`). */
  tables(): Promise<string[]>;
  /** Every route in those tables, with the owner the provider recognised on it. */
  observe(tables: readonly string[]): Promise<ObservedRoute[]>;
  /** Applies changes in order; one result per change, errors included, so one failure does not hide the rest. */
  apply(changes: readonly Change[]): Promise<ApplyResult[]>;
}

export interface ApplyResult {
  readonly change: Change;
  readonly error?: unknown;
}

/** The desired side: where each VIP range should route. */
export interface Source {
  desired(): Promise<DesiredRoute[]>;
}
