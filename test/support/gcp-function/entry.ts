import { createGcpHandler } from '../../../functions/gcp/handler.js';
import { TransientError } from '../../../src/errors.js';
import { createLogger } from '../../../src/runtime/logger.js';

/*
 * TEST PROBE served by the real Functions Framework in test/integration/gcp-*.test.ts: the shared
 * handler (functions/gcp/handler.ts) with a dispatch that only logs what it was handed, so a test
 * can see that a message published to the Pub/Sub emulator reached the function and how it was
 * parsed. The real passes (routes removed, sweep, lifecycle) come with the gcp mode (issue 13, B).
 * A sweep message fails once with a transient error, to show that Pub/Sub redelivers it.
 */

const logger = createLogger(process.env.PORTLB_LOG_LEVEL ?? 'info');
const failedOnce = new Set<string>();

export const portlbProbe = createGcpHandler('probe', {
  logger,
  async dispatch(event, log) {
    if (event.kind === 'sweep' && !failedOnce.has(event.id)) {
      failedOnce.add(event.id);
      throw new TransientError('probe: first delivery of a sweep fails on purpose');
    }
    log.info({ event: 'dispatched', parsed: event }, `dispatched ${event.kind}`);
    return { status: 'dispatched' };
  },
});
