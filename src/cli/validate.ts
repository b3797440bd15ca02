import { loadConfig } from '../config/load.js';

export async function runValidate(options: { config: string }): Promise<number> {
  const config = await loadConfig(options.config);
  process.stdout.write(
    `${options.config}: valid (mode ${config.mode}, ${config.services.length} service(s), ${config.targets.length} static target(s))\n`,
  );
  return 0;
}
