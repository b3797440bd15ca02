import type { Reason } from './reasons.js';

/**
 * The route model every mode shares. A VIP range is routed to targets: a BGP next hop (node IP),
 * a GCP instance, or an AWS network interface. Identifiers are the strings the provider writes,
 * so the planner can compare desired with observed without knowing which cloud it is in.
 */

/** A node that could carry a VIP, as a source sees it. */
export interface Candidate {
  /** The provider's target id: next-hop IP (bgp), instance URL (gcp), ENI id (aws). */
  readonly target: string;
  /** Order for single-target choice (lowest wins); the target id when absent. */
  readonly rank?: string;
  readonly healthy: boolean;
  /** Why the candidate is unhealthy; carried into skipped reasons. */
  readonly reason?: string;
}

/** The state a source wants: this VIP range should route to (a choice among) these candidates. */
export interface DesiredRoute {
  readonly vip: string;
  readonly service: string;
  readonly candidates: readonly Candidate[];
}

export type RouteState = 'active' | 'blackhole';

/** A route as a provider read it back. */
export interface ObservedRoute {
  /** Route table id (aws), network (gcp), or the BGP speaker's RIB (`bgp`). */
  readonly table: string;
  readonly vip: string;
  /** The target id; empty when the provider reports none (a blackhole whose target is gone). */
  readonly target: string;
  /** The owner id the provider found on the route; undefined when it carries none. */
  readonly owner?: string | undefined;
  readonly state: RouteState;
  /** The provider's handle when it needs one to delete (a GCP route name). */
  readonly id?: string | undefined;
}

/** `single`: one target per destination (AWS). `multi`: every healthy target (BGP ECMP, GCP). */
export type Cardinality = 'single' | 'multi';

/** external-dns's policies: `upsert-only` never deletes, `create-only` never replaces or deletes. */
export type Policy = 'sync' | 'upsert-only' | 'create-only';

export type Change =
  | {
      readonly kind: 'create';
      readonly table: string;
      readonly vip: string;
      readonly target: string;
      readonly reason: Reason;
    }
  | {
      readonly kind: 'replace';
      readonly table: string;
      readonly vip: string;
      readonly from: string;
      readonly target: string;
      readonly reason: Reason;
      readonly id?: string | undefined;
    }
  | {
      readonly kind: 'delete';
      readonly table: string;
      readonly vip: string;
      readonly target: string;
      readonly reason: Reason;
      readonly id?: string | undefined;
    };

/** Something the planner saw and deliberately left alone, with the reason. */
export interface Skipped {
  readonly table?: string;
  readonly vip: string;
  readonly target?: string;
  readonly reason: Reason;
}

export interface Plan {
  readonly changes: readonly Change[];
  readonly skipped: readonly Skipped[];
}

export interface PlanOptions {
  /** Only routes carrying this owner id are ever replaced or deleted. */
  readonly owner: string;
  /** The tables this writer manages; routes in any other table are never touched. */
  readonly tables: readonly string[];
  readonly cardinality: Cardinality;
  readonly policy?: Policy;
  /**
   * A VIP with no healthy candidate: `keep` leaves the current route (never delete without a
   * replacement; the default for `single`), `withdraw` removes it (the default for `multi`: a BGP
   * speaker must not announce what it cannot serve).
   */
  readonly whenNoneHealthy?: 'keep' | 'withdraw';
}
