/**
 * Why the planner changed a route or left it alone, as a code (a bounded metric label, like
 * MetalLB's `noLocalEndpoints`) with the specifics beside it. Code never matches on the text; the
 * text is rendered here and nowhere else.
 */
export const reasonCodes = [
  /** multi: a healthy target has no route yet. */
  'healthy',
  /** single: the destination has no route yet. */
  'no_route',
  /** single: the current route's target is gone (`target`: the route's target). */
  'blackhole',
  /** The target is not (or no longer) a candidate (`target`: the current one, single only). */
  'not_candidate',
  /** The target reports unhealthy (`detail`: why; `target`: the current one, single only). */
  'unhealthy',
  /** Two owned routes to one target: one goes. */
  'duplicate',
  /** The VIP is not desired any more. */
  'not_desired',
  /** The VIP left the configuration (`detail`: what else happened). */
  'not_configured',
  /** No candidate at all. */
  'no_candidate',
  /** No healthy candidate (`cause`: why the current target went, if any; `detail`: the candidates). */
  'none_healthy',
  /** Nothing healthy, so the current route stays (`cause`: why; `target`: the route kept, single only). */
  'kept',
  /** The policy forbids the change (`detail`: the policy; `cause`: the change's own reason). */
  'policy',
  /** Someone else's route holds the destination (`detail`: its owner). */
  'foreign_holder',
  /** Someone else's route beside ours, left alone (`detail`: its owner). */
  'foreign',
  /** Owned, but in a table this writer does not manage. */
  'table_not_managed',
  /** single: more than one owned route for one destination. */
  'duplicate_observed',
  /** An owned route reads as inactive although its target is healthy. */
  'inactive',
  /** The desired VIP does not parse (`detail`: why). */
  'invalid_vip',
  /** Several services want one VIP (`detail`: the services). */
  'shared_vip',
  /** The change is outside what this run may do (`detail`: the run's scope). */
  'out_of_scope',
  /** An owned route whose writer is gone: no LB pod on its target (`detail`: for how long). */
  'orphaned',
] as const;

export type ReasonCode = (typeof reasonCodes)[number];

export interface Reason {
  readonly code: ReasonCode;
  /** The target the reason is about, where the sentence names it. */
  readonly target?: string | undefined;
  /** Specifics: a candidate's own reason, an owner, a policy, a list of services. */
  readonly detail?: string | undefined;
  /** The reason underneath (`kept`, `policy`, `none_healthy`). */
  readonly cause?: Reason | undefined;
}

const suffix = (detail: string | undefined) => (detail ? `: ${detail}` : '');

const render: { readonly [C in ReasonCode]: (r: Reason) => string } = {
  healthy: () => 'healthy target has no route',
  no_route: () => 'no route yet',
  blackhole: (r) => `route to ${r.target || '(none)'} is a blackhole`,
  not_candidate: (r) =>
    r.target === undefined
      ? 'target is no longer a candidate'
      : `current target ${r.target} is not a candidate`,
  unhealthy: (r) =>
    r.target === undefined
      ? `target is unhealthy${suffix(r.detail)}`
      : `current target ${r.target} is unhealthy${suffix(r.detail)}`,
  duplicate: () => 'duplicate route to the same target',
  not_desired: () => 'VIP is no longer desired',
  not_configured: (r) => `VIP no longer configured${r.detail ? `; ${r.detail}` : ''}`,
  no_candidate: () => 'no candidate target',
  none_healthy: (r) =>
    r.cause !== undefined
      ? `${reasonText(r.cause)}; no healthy candidate`
      : `no healthy candidate among ${r.detail}`,
  kept: (r) =>
    `${r.cause ? reasonText(r.cause) : 'nothing healthy'}; ${r.target === undefined ? 'keeping current routes' : `keeping the route to ${r.target}`}`,
  policy: (r) => `${r.cause ? reasonText(r.cause) : 'change'}; policy ${r.detail} keeps it`,
  foreign_holder: (r) => `destination held by a route portlb does not own (owner ${r.detail ?? 'none'})`,
  foreign: (r) => `route owned by ${r.detail ?? 'nobody'} left alone`,
  table_not_managed: () => 'table is not managed',
  duplicate_observed: () => 'duplicate observed route for one destination',
  inactive: () => 'route inactive although its target is healthy',
  invalid_vip: (r) => `invalid desired VIP${suffix(r.detail)}`,
  shared_vip: (r) => `VIP wanted by several services (${r.detail}); candidates merged`,
  out_of_scope: (r) => `outside this run's scope${suffix(r.detail)}`,
  orphaned: (r) => `no LB pod on the route's target${suffix(r.detail)}`,
};

/** The sentence for logs, Events and `portlb plan`. */
export function reasonText(reason: Reason): string {
  return render[reason.code](reason);
}

/** A reason for people, with its code, as logs and JSON output carry it. */
export function reasonFields(reason: Reason): { code: ReasonCode; reason: string } {
  return { code: reason.code, reason: reasonText(reason) };
}
