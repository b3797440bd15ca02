import type { Candidate, DesiredRoute, ObservedRoute } from '../../src/core/model.js';
import type { Source } from '../../src/core/ports.js';
import type { GcpLifecycle } from '../../src/providers/gcp/lifecycle.js';
import type { Scope } from '../../src/runtime/route-pipeline.js';

/** What a function run is about. */
export type GcpPassInput =
  | { readonly kind: 'instance-down'; readonly instance: string; readonly why: string }
  | { readonly kind: 'sweep' }
  | { readonly kind: 'lifecycle'; readonly detail: GcpLifecycle };

/** The instance a run is about, if it is about one. */
export function subjectOf(input: GcpPassInput): string | undefined {
  if (input.kind === 'instance-down') return input.instance;
  if (input.kind === 'lifecycle') return input.detail.instance;
  return undefined;
}

/**
 * The LBs a function knows of: every instance one of this owner's routes goes to (the routes are
 * the only record of who serves: no state is kept anywhere else). An instance with a route whose
 * next hop is not running or gone (Compute's warning) is down; the event's instance is down, or,
 * for a lifecycle message, as its state says.
 */
function candidates(owned: readonly ObservedRoute[], input: GcpPassInput): Candidate[] {
  const byTarget = new Map<string, Candidate>();
  for (const route of owned) {
    const dead = route.state !== 'active' || route.target === '';
    const known = byTarget.get(route.target);
    if (known !== undefined && !dead) continue;
    byTarget.set(route.target, {
      target: route.target,
      healthy: !dead,
      ...(dead && { reason: 'its next hop is not running or no longer exists' }),
    });
  }
  if (input.kind === 'instance-down') {
    byTarget.set(input.instance, { target: input.instance, healthy: false, reason: input.why });
  }
  if (input.kind === 'lifecycle') {
    const { instance, state, pod } = input.detail;
    byTarget.set(
      instance,
      state === 'ready'
        ? { target: instance, healthy: true }
        : { target: instance, healthy: false, reason: `LB pod ${pod} is ${state}` },
    );
  }
  return [...byTarget.values()].filter((c) => c.target !== '');
}

/** The desired side of a function run: every configured VIP to every LB it knows of that is up. */
export function createGcpFunctionSource(options: {
  readonly owner: string;
  readonly vips: readonly string[];
  readonly input: GcpPassInput;
}): Source {
  return {
    async desired(observation): Promise<DesiredRoute[]> {
      const owned = observation.routes.filter((r) => r.owner === options.owner);
      const all = candidates(owned, options.input);
      return options.vips.map((vip) => ({ vip, service: vip, candidates: all }));
    },
  };
}

/**
 * What each function may change. An instance event only deletes routes to that instance; a
 * lifecycle message only programs the routes of its own LB; the sweep only deletes (dead next
 * hops, VIPs no longer configured, duplicates): creating is for each LB's own writer, which knows
 * its per-service health, so the sweep never fights a sidecar that withdrew one VIP.
 */
export function scopeOf(input: GcpPassInput): Scope {
  if (input.kind === 'instance-down') {
    return {
      allows: (c) => c.kind === 'delete' && c.target === input.instance,
      detail: `removing the routes to ${input.instance}`,
    };
  }
  if (input.kind === 'lifecycle') {
    const instance = input.detail.instance;
    return {
      allows: (c) => c.target === instance && (c.kind !== 'replace' || c.from === instance),
      detail: `programming the routes of ${instance}`,
    };
  }
  return { allows: (c) => c.kind === 'delete', detail: 'the sweep only removes routes' };
}
