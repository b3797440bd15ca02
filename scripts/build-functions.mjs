#!/usr/bin/env node
// Bundles the AWS Lambda handlers (functions/aws/*.ts, one per entry file) for the nodejs24.x runtime
// into dist/functions/aws/<name>.mjs. The AWS SDK is bundled, not taken from the runtime, so the
// function runs the exact client version package.json pins.
// And the three GCP Cloud Functions (functions/gcp/index.ts) into dist/functions/gcp-source/: index.mjs
// and a package.json, the contents of the source archive deploy/gcp takes (`source_object`):
//   (cd dist/functions/gcp-source && zip -r ../portlb-gcp.zip .)
// The Functions Framework stays outside the bundle: the functions register with the framework
// instance that serves them, which the runtime installs from that package.json.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { nodeBundle, reportOutputs } from './esbuild-node.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'functions', 'aws');
// Entry files are the handlers; everything else in the folder is shared code they import.
const entries = ['instance-event.ts', 'sweep.ts', 'lifecycle.ts'];
const present = new Set(await readdir(source));
for (const entry of entries) {
  if (!present.has(entry)) throw new Error(`missing handler entry ${join(source, entry)}`);
}

const result = await build({
  ...nodeBundle,
  entryPoints: entries.map((e) => join(source, e)),
  outdir: join(root, 'dist', 'functions', 'aws'),
});
reportOutputs(result);

// Its own directory: tsc writes functions/gcp's modules to dist/functions/gcp.
const gcpOut = join(root, 'dist', 'functions', 'gcp-source');
const framework = '@google-cloud/functions-framework';
const gcp = await build({
  ...nodeBundle,
  entryPoints: { index: join(root, 'functions', 'gcp', 'index.ts') },
  outdir: gcpOut,
  external: [framework],
  minify: true,
  // The archive stays small: Compute's API description alone is megabytes.
  sourcemap: false,
});
reportOutputs(gcp);
const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
await writeFile(
  join(gcpOut, 'package.json'),
  `${JSON.stringify(
    {
      name: 'portlb-gcp-functions',
      version: pkg.version,
      private: true,
      type: 'module',
      main: 'index.mjs',
      engines: { node: '>=24' },
      dependencies: { [framework]: pkg.devDependencies[framework] },
    },
    null,
    2,
  )}\n`,
);
