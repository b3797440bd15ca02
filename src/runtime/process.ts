import { ConfigError, errorMessage, isTransient } from '../errors.js';
import type { Logger } from './logger.js';
import { createLoop } from './loop.js';
import type { Metrics } from './metrics.js';
import { type Readiness, startHealthServer } from './server.js';
import { onShutdown } from './shutdown.js';

/** What a long-running portlb process (the sidecar, the node agent) brings to the harness. */
export interface ProcessParts {
  /**
   * One level-triggered pass. Throwing hands the error to the loop (retried with backoff when
   * transient; a ConfigError makes the process not live). Returning a text reports a failure the
   * pass handles itself (it schedules its own retry): it shows in `/readyz` as `lastError`.
   */
  readonly pass: (trigger: string) => Promise<string | undefined>;
  /** Reasons the process is not ready, and what `/readyz` shows beside them. */
  readonly readiness: () => { reasons: string[]; detail: Record<string, unknown> };
  /** Starts background work; called once the health server is up. A failure tears everything down. */
  readonly start: () => Promise<void>;
  /** The orderly part of SIGTERM, after the loop stopped (withdraw, hand over, drain). */
  readonly shutdown?: () => Promise<void>;
  /** Releases what `start` acquired. */
  readonly close: () => Promise<void>;
}

export interface ProcessOptions {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly listen: string;
  readonly resyncMs: number;
  readonly debounceMs: number;
}

export interface PortlbProcess {
  /** Asks for a pass (debounced); before `run` it is a no-op (the first pass runs at start anyway). */
  trigger(reason: string): void;
  /** Runs until SIGTERM/SIGINT; resolves with the exit code. */
  run(parts: ProcessParts): Promise<number>;
}

/**
 * The process skeleton the sidecar and the node agent share: the level-triggered loop, the health
 * server (`/healthz`, `/readyz`, `/metrics`), fatal configuration errors, and the signals.
 */
export function createProcess(options: ProcessOptions): PortlbProcess {
  const { logger, metrics } = options;
  let trigger: (reason: string) => void = () => {};

  async function run(parts: ProcessParts): Promise<number> {
    let lastError: string | undefined;
    let fatal: unknown;
    const loop = createLoop({
      run: async (why) => {
        lastError = await parts.pass(why);
      },
      resyncMs: options.resyncMs,
      debounceMs: options.debounceMs,
      onError: (error, { attempt, willRetry }) => {
        lastError = errorMessage(error);
        if (willRetry) metrics.retries.inc();
        logger[isTransient(error) ? 'warn' : 'error'](
          { event: 'reconcile_failed', attempt, willRetry, err: lastError },
          'reconcile failed',
        );
        if (error instanceof ConfigError) fatal = error;
      },
    });
    trigger = (why) => loop.trigger(why);
    const server = await startHealthServer({
      listen: options.listen,
      registry: metrics.registry,
      live: () => fatal === undefined,
      // A failed pass is not a reason to be unready: a pod's Ready condition makes it a route
      // target, so a throttled API call would take a healthy LB out of service. It shows in
      // `detail.lastError` and in the metrics instead.
      readiness: (): Readiness => {
        const { reasons, detail } = parts.readiness();
        return {
          ready: reasons.length === 0,
          reasons,
          detail: { ...detail, ...(lastError && { lastError }) },
        };
      },
    });
    logger.info(
      { event: 'listening', address: `${server.address.address}:${server.address.port}` },
      'health server up',
    );
    const teardown = async () => {
      await parts.close();
      await server.close();
    };
    const stopped = new Promise<number>((resolve) => {
      onShutdown(logger, async () => {
        await loop.stop();
        await parts.shutdown?.();
        await teardown();
        resolve(0);
      });
    });
    try {
      await parts.start();
    } catch (error) {
      // Without this the open server and informers would keep a process alive that does nothing.
      await loop.stop();
      await teardown();
      throw error;
    }
    loop.start();
    return stopped;
  }

  return { trigger: (why) => trigger(why), run };
}
