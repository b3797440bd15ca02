import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { addBackend, removeBackend } from '../src/lab/backends.js';
import type { Lab } from '../src/lab/lab.js';
import { scaleService } from '../src/lab/lab.js';
import { nodeIp } from '../src/lab/layout.js';
import { crashLb, deleteLb, stopLb } from '../src/lab/lb.js';
import type { LabLb } from '../src/lab/state.js';
import { run } from '../src/system/exec.js';
import type { RouteWatch } from './route-watch.js';
import type { TrafficEvent, TrafficKind } from './traffic-analysis.js';

/* What bench:traffic does to the lab while its streams run, each change timed on its own terms. */

const SERVICE = 'web';
/** After a change is complete, its window stays open this long: retries, late answers, resets. */
export const MARGIN_MS = 1000;

const TABLE = 'portlb-bench';

/** A counter of TCP resets the client receives (connections the changes broke), in its namespace. */
export async function resetCounter(ns: string) {
  await run(['nft', '-f', '-'], {
    ns,
    input: `table inet ${TABLE} {\n  counter rst {}\n  chain input {\n    type filter hook input priority 0; policy accept;\n    tcp flags & rst == rst counter name rst\n  }\n}\n`,
  });
  return {
    async read(): Promise<number> {
      const text = await run(['nft', 'list', 'counter', 'inet', TABLE, 'rst'], { ns });
      return Number(/packets (\d+)/.exec(text)?.[1] ?? Number.NaN);
    },
    remove: () => run(['nft', 'delete', 'table', 'inet', TABLE], { ns }).then(() => undefined),
  };
}

/**
 * Counts the router's FIB changes for a VIP (`ip monitor route`): a throughput point is steady
 * only when nothing changed while it ran (an LB that flapped would move flows).
 */
export function routeChanges(routerNs: string, vip: string) {
  const monitor = spawn('ip', ['-n', routerNs, 'monitor', 'route'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const address = vip.split('/')[0] ?? vip;
  let count = 0;
  createInterface({ input: monitor.stdout }).on('line', (line) => {
    if (line.includes(address)) count++;
  });
  return { count: () => count, close: () => monitor.kill('SIGTERM') };
}

/** The machine's CPU time, busy and total (jiffies), from /proc/stat. */
export async function cpuTimes(): Promise<{ busy: number; total: number }> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0] ?? '';
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  const total = v.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

export const lbsOf = (lab: Lab): LabLb[] => lab.store.state.lbs.filter((l) => l.service === SERVICE);
const hopsOf = (lbs: readonly LabLb[]) => [...new Set(lbs.map((l) => nodeIp(l.node)))].sort();

export interface Change {
  readonly kind: TrafficKind;
  /** Picks among the LBs (stop, kill) or backends (remove). */
  readonly pick: <T>(items: readonly T[]) => T;
}

/** Performs one change and says when it began, when it was complete, and when the router moved. */
export async function perform(
  lab: Lab,
  change: Change,
  watch: RouteWatch,
  resets: { read(): Promise<number> },
): Promise<TrafficEvent> {
  const before = await resets.read();
  const done = (e: Omit<TrafficEvent, 'windowEnd' | 'resets'>) => ({ ...e, windowEnd: e.t1 + MARGIN_MS });
  let event: Omit<TrafficEvent, 'resets'>;
  switch (change.kind) {
    case 'scale-up': {
      const t0 = Date.now();
      const count = lbsOf(lab).length + 1;
      await scaleService(lab, SERVICE, count, () => {});
      const lb = lbsOf(lab).at(-1) as LabLb;
      event = done({ kind: 'scale-up', target: lb.id, t0, t1: Date.now() });
      break;
    }
    case 'graceful-stop':
    case 'sigkill': {
      const lb = change.pick(lbsOf(lab));
      const rest = hopsOf(lbsOf(lab).filter((l) => l !== lb));
      const t0 = Date.now();
      const p0 = performance.now();
      const graceful = change.kind === 'graceful-stop';
      const stopped = graceful
        ? stopLb(lab.store, lab.names, lb)
        : crashLb(lab.names, lb).then(() => Date.now());
      const moved = await watch.until(rest, p0, 20_000);
      const fibAt = moved === undefined ? undefined : Date.now() - (performance.now() - moved);
      const exited = (await stopped) ?? Date.now();
      const t1 = graceful ? exited : (fibAt ?? Date.now());
      event = done({ kind: change.kind, target: lb.id, t0, t1, fibAt });
      // The pod is gone: so is its object (a Deployment makes a new one, the next scale-up).
      await deleteLb(lab.store, lab.names, lb);
      break;
    }
    case 'backend-add': {
      const t0 = Date.now();
      const j = await addBackend(lab, () => {});
      event = done({ kind: 'backend-add', target: `web${j}`, t0, t1: Date.now() });
      break;
    }
    case 'backend-remove': {
      const j = change.pick(lab.store.state.backends);
      const t0 = Date.now();
      await removeBackend(lab, `web${j}`, () => {});
      event = done({ kind: 'backend-remove', target: `web${j}`, t0, t1: Date.now() });
      break;
    }
  }
  // Resets that arrive in the margin are this change's too.
  const wait = event.windowEnd - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  return { ...event, resets: (await resets.read()) - before };
}
