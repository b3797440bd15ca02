#!/usr/bin/env node
// Bundles the `portlb` CLI (src/cli/main.ts) into dist/cli/portlb.mjs, the file the package's
// bin, the container image, the lab and the benchmarks run, and exabgp's API relay into
// dist/cli/bgp-relay.mjs beside it. One minified bundle, with lazily imported
// modes split into chunks, loads far less than node_modules does: a Node 24 process that imports
// @kubernetes/client-node from node_modules holds ~60 MB more than one that runs the bundle.
import { chmod, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { nodeBundle, reportOutputs } from './esbuild-node.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist', 'cli');
const entry = join(outdir, 'portlb.mjs');

/**
 * V8 flags the bundle runs with (its shebang; src/cli/shipped.ts reads them from there for the lab
 * and the benchmarks). A sidecar allocates little and often: a 1 MiB young generation instead of V8's
 * default 16 MiB semi-spaces keeps tens of MB of nursery out of every LB pod's RSS.
 */
export const V8_FLAGS = (process.env.PORTLB_V8_FLAGS ?? '--max-semi-space-size=1').split(' ').filter(Boolean);

await rm(outdir, { recursive: true, force: true });
const result = await build({
  ...nodeBundle,
  entryPoints: {
    portlb: join(root, 'src', 'cli', 'main.ts'),
    'bgp-relay': join(root, 'src', 'providers', 'bgp', 'relay-main.ts'),
  },
  outdir,
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  minify: true,
  // Licence comments go to portlb.mjs.LEGAL.txt beside the bundle. Kept inline, one non-Latin-1
  // character among them would make V8 hold the whole 2 MB chunk as a two-byte string.
  legalComments: 'external',
});
const text = (await readFile(entry, 'utf8')).replace(/^#!.*\n/, '');
await writeFile(entry, `#!/usr/bin/env -S node ${V8_FLAGS.join(' ')}\n${text}`);
await chmod(entry, 0o755);
reportOutputs(result);
