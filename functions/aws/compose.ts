import { createEc2Client, createEventBridgeClient } from '../../src/providers/aws/client.js';
import { putEvent } from '../../src/publishers/aws/event.js';
import { createLogger } from '../../src/runtime/logger.js';
import { parseFunctionEnv } from './env.js';
import type { HandlerDeps } from './handler.js';
import { runPass, type StuckDetail } from './pass.js';

/** Events portlb's functions put on the portlb bus: routes an instance event could not move. */
export const STUCK_SOURCE = 'portlb.functions';
export const STUCK_DETAIL_TYPE = 'portlb Route Stuck';

/**
 * The composition root the entry files share: reads the environment once per cold start and builds
 * the real clients (endpoints from PORTLB_EC2_ENDPOINT and PORTLB_EVENTS_ENDPOINT, so tests point
 * them at moto). A bad environment is not thrown here: every invocation then logs it and returns
 * without writing.
 */
export function functionDeps(env: NodeJS.ProcessEnv = process.env): HandlerDeps {
  const parsed = parseFunctionEnv(env);
  const logger = createLogger(parsed.ok ? parsed.config.logLevel : 'info');
  const config = parsed.ok ? parsed.config : undefined;
  const ec2 = createEc2Client(
    config
      ? { region: config.region, endpoint: config.endpoint, maxAttempts: config.maxAttempts }
      : { region: env.AWS_REGION ?? 'us-east-1' },
  );
  const bus = config?.eventBus;
  const events =
    config && bus
      ? createEventBridgeClient({ region: config.region, endpoint: config.eventsEndpoint })
      : undefined;
  const announce =
    events && bus
      ? (detail: StuckDetail) =>
          putEvent(events, bus, { source: STUCK_SOURCE, detailType: STUCK_DETAIL_TYPE, detail })
      : undefined;
  return {
    env: parsed,
    logger,
    pass: runPass,
    deps: { ec2, logger, now: Date.now, announce },
  };
}
