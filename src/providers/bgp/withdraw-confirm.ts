import { errorMessage } from '../../errors.js';
import { CommandError, exec } from '../../system/exec.js';

/*
 * The second half of a graceful withdraw: exabgp's ack says the UPDATE left this speaker, not that
 * the router stopped sending here. A command the operator provides asks the network (the router's
 * FIB or API, the route reflectors' adj-out, a looking glass) once per interval until every
 * withdrawn route is gone from it, or the timeout passes. docs/bgp.md says why a command.
 */

export interface WithdrawConfirmSpec {
  readonly command: readonly string[];
  readonly timeoutMs: number;
  readonly intervalMs: number;
}

/** One route this speaker withdrew: the router must stop using `nextHop` for `vip`. */
export interface WithdrawnRoute {
  readonly vip: string;
  readonly nextHop: string;
  readonly service: string;
}

/** What one run of the command said: gone (exit 0), still used (exit 1), or unknown (anything else). */
export type ConfirmAnswer = 'gone' | 'used' | { readonly unknown: string };

export interface ConfirmResult {
  readonly confirmed: boolean;
  readonly ms: number;
  readonly attempts: number;
  /** Routes not confirmed gone when the time ran out, as `VIP via NEXT_HOP`. */
  readonly pending: readonly string[];
  /** The last unknown answer, when there was one. */
  readonly lastProblem?: string;
}

export interface ConfirmDeps {
  readonly ask: (route: WithdrawnRoute, timeoutMs: number) => Promise<ConfirmAnswer>;
  readonly sleep: (ms: number) => Promise<void>;
  readonly now: () => number;
}

/** Runs the command with the route in its environment; the exit code is the answer. */
export function commandAsker(command: readonly string[]): ConfirmDeps['ask'] {
  return async (route, timeoutMs) => {
    const env = {
      ...process.env,
      PORTLB_VIP: route.vip,
      PORTLB_NEXT_HOP: route.nextHop,
      PORTLB_SERVICE: route.service,
    };
    try {
      await exec(command, { env, timeoutMs });
      return 'gone';
    } catch (error) {
      if (error instanceof CommandError && error.exitCode === 1) return 'used';
      return { unknown: errorMessage(error) };
    }
  };
}

export const realConfirmDeps = (spec: WithdrawConfirmSpec): ConfirmDeps => ({
  ask: commandAsker(spec.command),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  now: Date.now,
});

const label = (r: WithdrawnRoute) => `${r.vip} via ${r.nextHop}`;

/** Asks about every route each interval until all are gone or `timeoutMs` has passed. */
export async function confirmWithdrawn(
  spec: WithdrawConfirmSpec,
  routes: readonly WithdrawnRoute[],
  deps: ConfirmDeps,
): Promise<ConfirmResult> {
  const started = deps.now();
  const deadline = started + spec.timeoutMs;
  let pending = [...routes];
  let attempts = 0;
  let lastProblem: string | undefined;
  for (;;) {
    attempts++;
    const still: WithdrawnRoute[] = [];
    for (const route of pending) {
      // Each run gets what is left of the time, at least one interval: a hung command must not hang us.
      const answer = await deps.ask(route, Math.max(spec.intervalMs, deadline - deps.now()));
      if (answer === 'gone') continue;
      still.push(route);
      if (answer !== 'used') lastProblem = `${label(route)}: ${answer.unknown}`;
    }
    pending = still;
    const ms = deps.now() - started;
    if (pending.length === 0 || deps.now() + spec.intervalMs > deadline) {
      return {
        confirmed: pending.length === 0,
        ms,
        attempts,
        pending: pending.map(label),
        ...(lastProblem !== undefined && { lastProblem }),
      };
    }
    await deps.sleep(spec.intervalMs);
  }
}
