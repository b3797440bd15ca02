import { loadConfig } from '../config/load.js';
import type { Mode } from '../core/mode.js';
import type { Policy } from '../core/model.js';
import { modeDescriptor, resolveMode } from '../modes/index.js';
import { modePipeline } from '../modes/pipeline.js';
import { readRoutesFile } from '../providers/file.js';
import { createMemoryProvider } from '../providers/memory.js';
import { ownAsStored } from '../registry/simple.js';
import { createController } from '../runtime/controller.js';
import { silentLogger } from '../runtime/logger.js';
import { createStaticSource } from '../sources/static.js';
import { formatPlan, planJson } from './format.js';

/** What would change and why: the sidecar's own pass over routes held in memory, with apply off. */
export async function runPlan(options: {
  config: string;
  observed?: string;
  mode?: Mode;
  providerId?: string;
  policy?: Policy;
  json?: boolean;
}): Promise<number> {
  // Plans from the config alone: it reads no key and no kubeconfig.
  const config = await loadConfig(options.config, process.env, { checkFiles: false });
  const { mode: name, reason } = options.mode
    ? { mode: options.mode, reason: '--mode given' }
    : resolveMode(config.mode, options.providerId);
  const mode = modeDescriptor(name);
  const tables = mode.configuredTables(config);
  const registry = ownAsStored(
    createMemoryProvider({
      tables,
      owner: config.owner,
      routes: options.observed ? await readRoutesFile(options.observed) : [],
    }),
    config.owner,
  );
  const pipeline = modePipeline(mode, {
    source: createStaticSource(config, mode),
    registry,
    policy: options.policy ?? config.reconcile.policy,
  });
  const { plan } = await createController(pipeline, { logger: silentLogger() }).runOnce('plan', {
    apply: false,
  });
  if (options.json) {
    const body = { mode: name, owner: config.owner, tables, ...planJson(plan) };
    process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
  } else {
    process.stdout.write(
      `${formatPlan(plan, `plan: mode ${name} (${reason}), owner ${config.owner}, tables ${tables.join(', ')}`)}\n`,
    );
  }
  return 0;
}
