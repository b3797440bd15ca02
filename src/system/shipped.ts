import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PermanentError } from '../errors.js';

/** The `portlb` users run: the bundle scripts/build-cli.mjs writes, and how to start it. */
export interface ShippedCli {
  readonly script: string;
  /** The V8 flags its shebang names: spawn `process.execPath ...flags script`. */
  readonly flags: readonly string[];
}

/**
 * Finds dist/cli/portlb.mjs from the module asking (`import.meta.url`): a chunk of the bundle
 * itself (dist/cli/chunks/), the tsc build (dist/src/..., dist/bench/...) or the TypeScript
 * sources the tests run.
 */
export function shippedCli(from: string): ShippedCli {
  const here = dirname(fileURLToPath(from));
  const candidates = ['../portlb.mjs', '../../cli/portlb.mjs', '../../dist/cli/portlb.mjs'].map((p) =>
    resolve(here, p),
  );
  const script = candidates.find((p) => existsSync(p));
  if (script === undefined)
    throw new PermanentError(`no dist/cli/portlb.mjs near ${here}: run npm run build`);
  const shebang = readFileSync(script, 'utf8').split('\n', 1)[0] ?? '';
  const match = /^#!\/usr\/bin\/env -S node(.*)$/.exec(shebang);
  if (!match) throw new PermanentError(`${script}: no '#!/usr/bin/env -S node' line; run npm run build`);
  return { script, flags: (match[1] ?? '').split(' ').filter(Boolean) };
}
