import { execFileSync } from 'node:child_process';

/**
 * The CLI tests run the built `portlb` as a user would (the bundle, dist/cli/portlb.mjs), and some
 * tests run compiled helpers: build both once before any test file.
 */
export default function setup(): void {
  if (process.env.PORTLB_SKIP_BUILD === '1') return;
  execFileSync('node_modules/.bin/tsc', ['-p', 'tsconfig.json'], { stdio: 'inherit' });
  execFileSync(process.execPath, ['scripts/build-cli.mjs'], { stdio: 'ignore' });
}
