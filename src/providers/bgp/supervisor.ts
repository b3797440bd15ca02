import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { backoffDelay } from '../../runtime/backoff.js';
import type { Logger } from '../../runtime/logger.js';
import type { BgpMetrics } from './metrics.js';

export interface Backoff {
  readonly minMs: number;
  readonly maxMs: number;
  /** A run longer than this counts as healthy: the next restart starts from `minMs` again. */
  readonly resetAfterMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { minMs: 500, maxMs: 30_000, resetAfterMs: 60_000 };

/**
 * Exponential delay with ±20 % jitter. A supervisor is not retrying a call that fails: a process
 * that ran fine for an hour and then died must restart at once, so the attempt count resets with
 * the run time.
 */
export function restartDelay(attempt: number, backoff: Backoff, random: () => number = Math.random): number {
  return backoffDelay(attempt, { ...backoff, jitter: 'spread' }, random);
}

export interface SupervisorOptions {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly logger: Logger;
  readonly metrics: BgpMetrics;
  readonly backoff?: Backoff;
  readonly stopTimeoutMs?: number;
}

export interface SupervisorStatus {
  readonly running: boolean;
  readonly pid?: number | undefined;
  readonly starts: number;
  /** Why the last exabgp ended or failed to start; kept while a new one runs, for /readyz. */
  readonly lastError?: string | undefined;
}

const TAIL_LINES = 20;

/**
 * Keeps one exabgp running: restarts it with backoff whenever it exits or cannot be started, and
 * says why each time (never a silent stop). exabgp's own log lines go to ours at debug level;
 * the last few are repeated at error level when it dies.
 */
export function createExabgpSupervisor(options: SupervisorOptions) {
  const log = options.logger.child({ component: 'exabgp' });
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  let child: ChildProcess | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopping = false;
  let attempt = 0;
  let starts = 0;
  let lastError: string | undefined;
  let exited: Promise<void> = Promise.resolve();

  const scheduleRestart = (ranMs: number) => {
    if (stopping) return;
    if (ranMs >= backoff.resetAfterMs) attempt = 0;
    const delay = restartDelay(attempt++, backoff);
    log.warn(
      { event: 'exabgp_restart_scheduled', delayMs: delay, attempt },
      `restarting exabgp in ${delay} ms`,
    );
    timer = setTimeout(launch, delay);
  };

  function launch(): void {
    timer = undefined;
    if (stopping) return;
    const startedAt = Date.now();
    const tail: string[] = [];
    const proc = spawn(options.command, [...options.args], {
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    let ended = false;
    let resolveExit = () => {};
    exited = new Promise((resolve) => {
      resolveExit = resolve;
    });
    const end = (why: string, level: 'warn' | 'error') => {
      if (ended) return;
      ended = true;
      child = undefined;
      resolveExit();
      options.metrics.exabgpExits.inc({ expected: String(stopping) });
      if (stopping) {
        log.info({ event: 'exabgp_stopped', why }, 'exabgp stopped');
        return;
      }
      lastError = why;
      log[level]({ event: 'exabgp_exited', why, lastLines: tail }, why);
      scheduleRestart(Date.now() - startedAt);
    };
    for (const stream of [proc.stdout, proc.stderr]) {
      if (stream === null) continue;
      createInterface({ input: stream }).on('line', (line) => {
        tail.push(line);
        if (tail.length > TAIL_LINES) tail.shift();
        log.debug({ event: 'exabgp_log' }, line);
      });
    }
    proc.once('spawn', () => {
      starts += 1;
      options.metrics.exabgpStarts.inc({ result: 'started' });
      log.info({ event: 'exabgp_started', pid: proc.pid, command: options.command }, 'exabgp started');
    });
    proc.once('error', (error: NodeJS.ErrnoException) => {
      options.metrics.exabgpStarts.inc({ result: 'spawn_error' });
      const why =
        error.code === 'ENOENT'
          ? `exabgp not found: "${options.command}" (bgp.exabgp.command) is not installed or not on PATH; on Debian: apt-get install exabgp`
          : `cannot start exabgp "${options.command}": ${error.message}`;
      end(why, 'error');
    });
    proc.once('exit', (code, signal) => {
      end(`exabgp exited (${signal ? `signal ${signal}` : `code ${code}`})`, 'error');
    });
  }

  return {
    start(): void {
      stopping = false;
      if (child === undefined && timer === undefined) launch();
    },
    /** SIGTERM (exabgp then sends a Cease to every peer), SIGKILL if it lingers. */
    async stop(): Promise<void> {
      stopping = true;
      clearTimeout(timer);
      timer = undefined;
      const proc = child;
      if (proc === undefined) return;
      proc.kill('SIGTERM');
      const timeout = new Promise<'timeout'>((resolve) =>
        setTimeout(() => resolve('timeout'), options.stopTimeoutMs ?? 5000).unref(),
      );
      if ((await Promise.race([exited, timeout])) === 'timeout') {
        log.warn({ event: 'exabgp_kill' }, 'exabgp ignored SIGTERM; killing it');
        proc.kill('SIGKILL');
        await exited;
      }
    },
    /** Kills a running exabgp (hung, say) so that it is restarted like any exabgp that died. */
    restart(reason: string): void {
      if (child === undefined || stopping) return;
      log.error({ event: 'exabgp_kill', reason }, `killing exabgp: ${reason}`);
      child.kill('SIGKILL');
    },
    status(): SupervisorStatus {
      return { running: child !== undefined, pid: child?.pid, starts, lastError };
    },
  };
}

export type ExabgpSupervisor = ReturnType<typeof createExabgpSupervisor>;
