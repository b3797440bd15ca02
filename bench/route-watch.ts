import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { routerNextHops } from '../src/lab/fib.js';

/**
 * Watches the router's kernel table: `ip monitor route` in the router's namespace says when the
 * FIB changed (timestamped as the line arrives), and a read of the route then says what it is.
 */
export interface RouteWatch {
  /**
   * Resolves with the time (performance.now) of the FIB change that made the VIP route via
   * `want`, the first one after `since`; undefined after `timeoutMs`.
   */
  until(want: readonly string[], since: number, timeoutMs: number): Promise<number | undefined>;
  /** Every next-hop count the router had, with when it took it. */
  readonly history: { t: number; nextHops: number }[];
  close(): void;
}

export async function watchRoutes(routerNs: string, vip: string): Promise<RouteWatch> {
  const monitor = spawn('ip', ['-n', routerNs, 'monitor', 'route'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let lastChange = performance.now();
  let wake: (() => void) | undefined;
  createInterface({ input: monitor.stdout }).on('line', (line) => {
    if (!line.includes(vip.split('/')[0] ?? vip)) return;
    lastChange = performance.now();
    wake?.();
  });
  const history: { t: number; nextHops: number }[] = [];
  const record = (hops: readonly string[]) => {
    if (history.at(-1)?.nextHops !== hops.length)
      history.push({ t: performance.now(), nextHops: hops.length });
  };
  record(await routerNextHops(routerNs, vip));
  await sleep(200); // let `ip monitor` subscribe before the first event

  return {
    history,
    async until(want, since, timeoutMs) {
      const key = [...want].sort().join(',');
      const deadline = performance.now() + timeoutMs;
      while (performance.now() < deadline) {
        const hops = await routerNextHops(routerNs, vip);
        record(hops);
        // The monitor's line for this change, or (when it is still in flight) the read itself.
        if (hops.join(',') === key) return lastChange >= since ? lastChange : performance.now();
        // Sleep until the next FIB change, or 100 ms at most (a missed line must not hang us).
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 100);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
      }
      return undefined;
    },
    close: () => monitor.kill('SIGTERM'),
  };
}
