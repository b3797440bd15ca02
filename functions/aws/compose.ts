import { createEc2Client } from '../../src/providers/aws/client.js';
import { createLogger } from '../../src/runtime/logger.js';
import { type FunctionConfig, parseFunctionEnv } from './env.js';
import type { HandlerDeps } from './handler.js';
import { type PassDeps, runPass } from './pass.js';

/**
 * The composition root the entry files share: reads the environment once per cold start and builds
 * the one real EC2 client (endpoint from PORTLB_EC2_ENDPOINT, so tests point it at moto); an entry
 * that announces stuck routes adds its announcer (`announcer`, built from the same config). A bad
 * environment is not thrown here: every invocation then logs it and returns without writing.
 */
export function functionDeps(
  env: NodeJS.ProcessEnv = process.env,
  announcer?: (config: FunctionConfig) => PassDeps['announce'],
): HandlerDeps {
  const parsed = parseFunctionEnv(env);
  const logger = createLogger(parsed.ok ? parsed.config.logLevel : 'info');
  const config = parsed.ok ? parsed.config : undefined;
  const ec2 = createEc2Client(
    config
      ? { region: config.region, endpoint: config.endpoint, maxAttempts: config.maxAttempts }
      : { region: env.AWS_REGION ?? 'us-east-1' },
  );
  const announce = config && announcer?.(config);
  return {
    env: parsed,
    logger,
    pass: runPass,
    deps: { ec2, logger, now: Date.now, announce },
  };
}
