import { ConfigError } from '../../src/errors.js';
import { testTokenAuth } from '../../src/providers/gcp/auth.js';
import { createComputeClients } from '../../src/providers/gcp/client.js';
import { createComputeRoutes } from '../../src/providers/gcp/routes.js';
import { createLogger, type Logger } from '../../src/runtime/logger.js';
import { type GcpEnvResult, parseGcpFunctionEnv } from './env.js';
import type { DispatchOutcome } from './handler.js';
import { type GcpPassInput, runGcpPass } from './pass.js';

export interface GcpFunctionDeps {
  readonly env: GcpEnvResult;
  readonly logger: Logger;
  /** One pass for one event; a bad environment fails it with a ConfigError (logged, acknowledged). */
  readonly pass: (input: GcpPassInput, log: Logger) => Promise<DispatchOutcome>;
}

/**
 * The composition root the three functions share: reads the environment once per cold start and
 * builds the one real Compute client (Application Default Credentials: the function's service
 * account; PORTLB_COMPUTE_ENDPOINT and PORTLB_GCP_TEST_TOKEN exist for the tests, against the
 * stand-in). A bad environment is not thrown here: every invocation then logs it and writes nothing.
 */
export function gcpFunctionDeps(env: NodeJS.ProcessEnv = process.env): GcpFunctionDeps {
  const parsed = parseGcpFunctionEnv(env);
  const logger = createLogger(parsed.ok ? parsed.config.logLevel : 'info');
  if (!parsed.ok) {
    const problems = parsed.problems.map((p) => `${p.path}: ${p.message}`).join('; ');
    return {
      env: parsed,
      logger,
      pass: async () => {
        throw new ConfigError(`invalid function environment: ${problems}`, parsed.problems);
      },
    };
  }
  const { config } = parsed;
  const clients = createComputeClients({
    project: config.project,
    endpoint: config.computeEndpoint,
    auth: testTokenAuth(env),
  });
  const routes = createComputeRoutes({
    compute: clients.port,
    project: config.project,
    network: config.network,
  });
  return {
    env: parsed,
    logger,
    pass: (input, log) => runGcpPass({ routes, config, logger: log, now: Date.now }, input),
  };
}
