import { createEc2Client } from '../../src/providers/aws/client.js';
import { createLogger } from '../../src/runtime/logger.js';
import { parseFunctionEnv } from './env.js';
import type { HandlerDeps } from './handler.js';
import { runPass } from './pass.js';

/**
 * The composition root the entry files share: reads the environment once per cold start and builds
 * the one real EC2 client (endpoint from PORTLB_EC2_ENDPOINT, so tests point it at moto). A bad
 * environment is not thrown here: every invocation then logs it and returns without writing.
 */
export function functionDeps(env: NodeJS.ProcessEnv = process.env): HandlerDeps {
  const parsed = parseFunctionEnv(env);
  const logger = createLogger(parsed.ok ? parsed.config.logLevel : 'info');
  const ec2 = createEc2Client(
    parsed.ok
      ? {
          region: parsed.config.region,
          endpoint: parsed.config.endpoint,
          maxAttempts: parsed.config.maxAttempts,
        }
      : { region: env.AWS_REGION ?? 'us-east-1' },
  );
  return {
    env: parsed,
    logger,
    pass: runPass,
    deps: { ec2, logger, now: Date.now },
  };
}
