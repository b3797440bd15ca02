#!/usr/bin/env node
// Bundles the `portlb` CLI (src/cli/main.ts) into dist/cli/portlb.mjs, the file the package's
// bin, the container image, the lab and the benchmarks run, and exabgp's API relay into
// dist/cli/bgp-relay.mjs beside it. One minified bundle, with lazily imported modes split into
// chunks, loads far less than node_modules does: the sidecar in bench:kube holds ~40 MB less RSS
// than the tsc build does (`BENCH_SIDECAR=tsc npm run bench:kube`).
// The licences of everything bundled go to dist/cli/THIRD_PARTY_LICENSES.txt.
import { existsSync } from 'node:fs';
import { chmod, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
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
const V8_FLAGS = (process.env.PORTLB_V8_FLAGS ?? '--max-semi-space-size=1').split(' ').filter(Boolean);

// Written in place, not into an emptied directory: a sidecar or test running the previous build
// keeps finding its files while this one runs. Chunk names carry a content hash, so what this
// build did not write is stale and goes afterwards.
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
  // Kept inline, one non-Latin-1 character in a licence comment made V8 hold a whole 2 MB chunk
  // as a two-byte string; the licences go to THIRD_PARTY_LICENSES.txt instead.
  legalComments: 'none',
});
const text = (await readFile(entry, 'utf8')).replace(/^#!.*\n/, '');
await writeFile(entry, `#!/usr/bin/env -S node ${V8_FLAGS.join(' ')}\n${text}`);
await chmod(entry, 0o755);

const written = new Set(Object.keys(result.metafile.outputs).map((file) => join(root, file)));
const licences = join(outdir, 'THIRD_PARTY_LICENSES.txt');
written.add(licences);
for (const file of await readdir(outdir, { recursive: true, withFileTypes: true })) {
  const path = join(file.parentPath, file.name);
  if (file.isFile() && !written.has(path)) await rm(path);
}

/** Every package the bundle took code from: its name, version, licence and licence text. */
async function licenceNotices(inputs) {
  const packages = new Set();
  for (const input of inputs) {
    const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (match) packages.add(match[1]);
  }
  const notices = [];
  for (const dir of [...packages].sort()) {
    const pkg = JSON.parse(await readFile(join(root, dir, 'package.json'), 'utf8'));
    const names = (await readdir(join(root, dir))).filter((n) => /^(licen[cs]e|copying|notice)/i.test(n));
    const texts = await Promise.all(names.sort().map((n) => readFile(join(root, dir, n), 'utf8')));
    const licence = typeof pkg.license === 'string' ? pkg.license : JSON.stringify(pkg.license ?? 'UNKNOWN');
    notices.push(
      [
        `${pkg.name} ${pkg.version} (${licence})`,
        texts.join('\n').trim() || '(no licence file in the package)',
      ].join('\n\n'),
    );
  }
  return notices;
}

const notices = await licenceNotices(Object.keys(result.metafile.inputs));
const rule = `\n\n${'-'.repeat(78)}\n\n`;
await writeFile(
  licences,
  `Third-party software bundled into dist/cli (${notices.length} packages)${rule}${notices.join(rule)}\n`,
);
if (!existsSync(licences)) throw new Error(`could not write ${relative(root, licences)}`);
reportOutputs(result);
