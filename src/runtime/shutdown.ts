import type { Logger } from './logger.js';

/**
 * Runs `handler` once on the first SIGTERM/SIGINT (the orderly path: withdraw, drain, exit);
 * a second signal exits at once, for an operator who really means it.
 */
export function onShutdown(logger: Logger, handler: (signal: string) => Promise<void>): () => void {
  let started = false;
  const listener = (signal: NodeJS.Signals) => {
    if (started) {
      logger.warn({ event: 'shutdown', signal }, 'second signal: exiting now');
      process.exit(130);
    }
    started = true;
    logger.info({ event: 'shutdown', signal }, 'orderly shutdown started');
    handler(signal).then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ event: 'shutdown', err: String(error) }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', listener);
  process.on('SIGINT', listener);
  return () => {
    process.off('SIGTERM', listener);
    process.off('SIGINT', listener);
  };
}
