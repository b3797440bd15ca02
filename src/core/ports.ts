import type { Change, DesiredRoute, ObservedRoute } from './model.js';

/*
 * The ports of one reconcile, as in external-dns: a Source says where each VIP should route, a
 * Provider reads and writes routes in one place (an exabgp session, EC2 route tables, GCP routes,
 * a file), and a Registry wraps a Provider with ownership: it marks which observed routes this
 * writer owns and lets changes through only for those. The controller (src/runtime/controller.ts)
 * runs them in one order for every caller.
 */

/** What one pass read: the managed tables, the routes in them, and the provider's raw read. */
export interface Observation<View = unknown> {
  /** The tables this writer manages (route table ids, a GCP network, `bgp`). */
  readonly tables: readonly string[];
  /** Every route in those tables; `owner` is set on the routes the registry recognises as ours. */
  readonly routes: readonly ObservedRoute[];
  /**
   * The provider's own read, handed on explicitly to whoever needs more of it in the same pass
   * (AWS: the tables with their tags, where candidacies and route records live).
   */
  readonly view: View;
}

export interface ApplyResult {
  readonly change: Change;
  readonly error?: unknown;
}

export interface ApplyContext<View = unknown> {
  /** The observation the changes were planned from. */
  readonly observation: Observation<View>;
  /** Every route this writer owns once the changes are applied (for providers that take the whole set). */
  readonly next: readonly ObservedRoute[];
}

/** A place routes are read and written. Every apply must be safe to repeat. */
export interface Provider<View = unknown> {
  readonly name: string;
  /** One read of every managed table. */
  observe(): Promise<Observation<View>>;
  /**
   * Applies changes in order; one result per change, errors included, so one failure hides nothing.
   * It throws only when the batch itself is wrong (a registry refusing a change no plan of this
   * config can make): then nothing is written.
   */
  apply(changes: readonly Change[], context: ApplyContext<View>): Promise<ApplyResult[]>;
}

/**
 * Ownership as a decorator around a Provider (external-dns `registry/`): `observe` sets `owner` on
 * what carries this writer's ownership, and `apply` refuses to replace or delete anything else.
 */
export interface Registry<View = unknown> extends Provider<View> {
  readonly owner: string;
}

/** The desired side: where each VIP range should route, given what this pass observed. */
export interface Source<View = unknown> {
  desired(observation: Observation<View>): Promise<DesiredRoute[]>;
}
