import { loadConfig } from '../config/load.js';
import { ConfigError } from '../errors.js';

export async function runValidate(options: {
  file?: string;
  config?: string;
  fileChecks?: boolean;
}): Promise<number> {
  const { file, config: flag } = options;
  if (file !== undefined && flag !== undefined && file !== flag) {
    throw new ConfigError(`validate: give the config once, as FILE or --config (got ${file} and ${flag})`);
  }
  const path = file ?? flag;
  if (path === undefined)
    throw new ConfigError('validate: name the config: portlb validate FILE (or --config FILE)');
  const config = await loadConfig(path, process.env, { checkFiles: options.fileChecks !== false });
  process.stdout.write(
    `${path}: valid (mode ${config.mode}, ${config.services.length} service(s), ${config.targets.length} static target(s))\n`,
  );
  return 0;
}
