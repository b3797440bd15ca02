import { loadConfig } from '../config/load.js';
import { type Mode, resolveMode } from '../core/mode.js';
import { plan } from '../core/plan.js';
import { readRoutesFile } from '../providers/file.js';
import { cardinalityOf, configuredTables, createStaticSource } from '../sources/static.js';
import { formatPlan } from './format.js';

export async function runPlan(options: {
  config: string;
  observed?: string;
  mode?: Mode;
  providerId?: string;
  json?: boolean;
}): Promise<number> {
  const config = await loadConfig(options.config);
  const { mode, reason } = options.mode
    ? { mode: options.mode, reason: '--mode given' }
    : resolveMode(config.mode, options.providerId);
  const observed = options.observed ? await readRoutesFile(options.observed) : [];
  const desired = await createStaticSource(config, mode).desired();
  const tables = configuredTables(config, mode);
  const result = plan(desired, observed, { owner: config.owner, tables, cardinality: cardinalityOf(mode) });
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ mode, owner: config.owner, tables, ...result }, null, 2)}\n`);
  } else {
    process.stdout.write(
      `${formatPlan(result, `plan: mode ${mode} (${reason}), owner ${config.owner}, tables ${tables.join(', ')}`)}\n`,
    );
  }
  return 0;
}
