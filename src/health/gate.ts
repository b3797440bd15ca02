/**
 * Rise/fall hysteresis (as keepalived and HAProxy do it): `rise` successes in a row make a
 * target healthy, `fall` failures in a row make it unhealthy. It starts unhealthy, so nothing is
 * announced before the data plane has proven itself. Pure: no clock, no I/O.
 */
export interface GateState {
  readonly healthy: boolean;
  /** Why the gate is where it is: the decisive probe result, or that none has run. */
  readonly reason: string;
}

export interface GateStep extends GateState {
  /** True when this result flipped the gate. */
  readonly changed: boolean;
}

export function createGate(options: { rise: number; fall: number }) {
  let healthy = false;
  let reason = 'not probed yet';
  let streak = 0;
  let streakOk = false;
  return {
    record(ok: boolean, detail: string): GateStep {
      streak = ok === streakOk ? streak + 1 : 1;
      streakOk = ok;
      let changed = false;
      if (ok && !healthy && streak >= options.rise) {
        healthy = true;
        changed = true;
        reason = `${streak} probe(s) passed: ${detail}`;
      } else if (!ok && healthy && streak >= options.fall) {
        healthy = false;
        changed = true;
        reason = `${streak} probe(s) failed: ${detail}`;
      } else if (!healthy) {
        reason = ok ? `passing ${streak}/${options.rise}: ${detail}` : `failing: ${detail}`;
      }
      return { healthy, reason, changed };
    },
    state(): GateState {
      return { healthy, reason };
    },
  };
}
