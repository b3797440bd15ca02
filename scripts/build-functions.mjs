#!/usr/bin/env node
// Bundles the AWS Lambda handlers (functions/aws/*.ts, one per entry file) for the nodejs24.x runtime
// into dist/functions/aws/<name>.mjs. The AWS SDK is bundled, not taken from the runtime, so the
// function runs the exact client version package.json pins.
import { readdir } from 'node:fs/promises';
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
