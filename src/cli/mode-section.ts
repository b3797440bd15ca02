import type { Config } from '../config/load.js';
import type { Mode } from '../core/mode.js';
import { ConfigError } from '../errors.js';

/**
 * The mode a command runs in must have its section in the config (each section is named after its
 * mode). Validation checks the configured mode; this catches the mode picked at run time: `--mode`
 * on `portlb plan`, or `auto` resolving to a cloud from the Node's providerID. Without it the
 * command would find no tables and report "no changes", or route nothing on that node.
 */
export function requireModeSection(config: Config, mode: Mode, why: string): void {
  if (config[mode] !== undefined) return;
  const message = `mode ${mode} (${why}) needs its "${mode}" section, and ${config.source} has none`;
  throw new ConfigError(message, [
    {
      path: mode,
      message: `missing: add the "${mode}" section, or run in a mode the config has a section for`,
    },
  ]);
}
