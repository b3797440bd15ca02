import { readFile, rename, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { formatPath, parseYaml } from '../config/load.js';
import type { ObservedRoute } from '../core/model.js';
import type { Provider } from '../core/ports.js';
import { ConfigError } from '../errors.js';
import { createMemoryProvider } from './memory.js';

const observedSchema = z.array(
  z.strictObject({
    table: z.string().min(1),
    vip: z.string().min(1),
    target: z.string(),
    owner: z.string().optional(),
    state: z.enum(['active', 'blackhole']).default('active'),
    id: z.string().optional(),
  }),
);

/** Reads a routes file (YAML or JSON list of observed routes); a missing file is an empty table. */
export async function readRoutesFile(path: string, { missingOk = false } = {}): Promise<ObservedRoute[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    if (missingOk && (cause as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new ConfigError(`cannot read routes file ${path}`, [{ path, message: (cause as Error).message }], {
      cause,
    });
  }
  const parsed = observedSchema.safeParse(parseYaml(text, path) ?? []);
  if (!parsed.success) {
    throw new ConfigError(
      `invalid routes file ${path}`,
      parsed.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })),
    );
  }
  return parsed.data;
}

/** A memory provider persisted to a JSON file after every apply (atomically, via rename). */
export async function createFileProvider(options: {
  path: string;
  tables: readonly string[];
  owner: string;
}): Promise<Provider<undefined>> {
  const memory = createMemoryProvider({
    ...options,
    routes: await readRoutesFile(options.path, { missingOk: true }),
  });
  return {
    ...memory,
    name: 'file',
    async apply(changes, context) {
      const results = await memory.apply(changes, context);
      const temp = `${options.path}.tmp-${process.pid}`;
      await writeFile(temp, `${JSON.stringify(memory.routes(), null, 2)}\n`);
      await rename(temp, options.path);
      return results;
    },
  };
}
