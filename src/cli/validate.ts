import { loadConfig } from '../config/load.js';
import { ConfigError } from '../errors.js';
import { secretFileProblems } from '../render/secrets.js';

export async function runValidate(options: { config: string }): Promise<number> {
  const config = await loadConfig(options.config);
  const problems = secretFileProblems(config);
  if (problems.length > 0) {
    throw new ConfigError(
      `invalid configuration in ${options.config}: ${problems.length} unreadable key file(s)`,
      problems,
    );
  }
  process.stdout.write(
    `${options.config}: valid (mode ${config.mode}, ${config.services.length} service(s), ${config.targets.length} static target(s))\n`,
  );
  return 0;
}
