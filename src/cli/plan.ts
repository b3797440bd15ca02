import { loadConfig } from '../config/load.js';
import type { Mode } from '../core/mode.js';
import type { Policy } from '../core/model.js';
import { ConfigError } from '../errors.js';
import { modeDescriptor, resolveMode } from '../modes/index.js';
import { modePipeline } from '../modes/pipeline.js';
import { readRoutesFile } from '../providers/file.js';
import { createMemoryProvider } from '../providers/memory.js';
import { ownAsStored } from '../registry/simple.js';
import { createController } from '../runtime/controller.js';
import { silentLogger } from '../runtime/logger.js';
import { createStaticSource } from '../sources/static.js';
import { formatPlan, planJson } from './format.js';
import { requireModeSection } from './mode-section.js';

/** `portlb plan --help`: the observed-routes file, as the README's "portlb plan --observed" has it. */
export const OBSERVED_FILE_HELP = `
The --observed file: a YAML or JSON list, one route per entry.
  - { table: bgp, vip: 10.1.1.0/24, target: 10.99.0.11, owner: lab }
  - { table: bgp, vip: 10.1.9.0/24, target: 10.99.0.50, owner: other, state: blackhole }
  table   one of the tables the plan header names (bgp; the route table ids; the network)
  vip     a canonical CIDR (10.1.1.5/24 is refused: did you mean 10.1.1.0/24?)
  target  the mode's target: a next-hop address (bgp), an ENI id eni-... (aws), an instance
          URL projects/P/zones/Z/instances/N (gcp); empty only with state: blackhole
  owner   the owner id on the route (a DNS label); portlb changes only routes with its own
  state   active (default) or blackhole
  id      the provider's handle (a GCP route name), optional
Any bad entry refuses the file (exit 2, each problem as [index].field) and nothing is planned.
Routes left alone, someone else's included, are listed with the reason.
Exit codes: 0 planned, 1 failed at run time, 2 bad input (config, flags, the observed file).`;

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
  requireModeSection(config, name, reason);
  const mode = modeDescriptor(name);
  const tables = mode.configuredTables(config);
  const routes = options.observed
    ? await readRoutesFile(options.observed, { tables, target: mode.targetField }).catch((error) => {
        if (!(error instanceof ConfigError)) throw error;
        throw new ConfigError(`${error.message} (mode ${name}); nothing planned`, error.problems, {
          cause: error,
        });
      })
    : [];
  const canonical = mode.canonicalTarget ?? ((target: string) => target);
  const registry = ownAsStored(
    createMemoryProvider({
      tables,
      owner: config.owner,
      routes: routes.map((r) => (r.target === '' ? r : { ...r, target: canonical(r.target) })),
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
