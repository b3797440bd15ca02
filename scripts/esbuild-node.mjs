// What every portlb bundle shares: Node 24 ESM, dependencies bundled from their ESM builds (so
// esbuild can drop what portlb never calls), and a require() for bundled CommonJS dependencies.
export const nodeBundle = {
  bundle: true,
  platform: 'node',
  // Prefer the ESM builds: esbuild can drop the hundreds of EC2 commands portlb never sends.
  mainFields: ['module', 'main'],
  target: 'node24',
  format: 'esm',
  outExtension: { '.js': '.mjs' },
  sourcemap: true,
  metafile: true,
  logLevel: 'warning',
  // Bundled CommonJS dependencies call require() for Node built-ins; ESM has no require of its own.
  // Some also read __dirname at load (google-gax, under the Compute client): the bundle's folder.
  banner: {
    js: "import { createRequire as __portlbRequire } from 'node:module'; const require = __portlbRequire(import.meta.url); const __portlbDirname = import.meta.dirname;",
  },
  define: { __dirname: '__portlbDirname' },
};

/** One line per output file with its size, so a build shows what it wrote. */
export function reportOutputs(result, out = process.stdout) {
  for (const [file, info] of Object.entries(result.metafile.outputs)) {
    if (file.endsWith('.mjs')) out.write(`${file} ${(info.bytes / 1024).toFixed(0)} KiB\n`);
  }
}
