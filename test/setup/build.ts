import { execFileSync } from 'node:child_process';

/** The CLI tests run the built `portlb` as a user would, so build once before any test file. */
export default function setup(): void {
  if (process.env.PORTLB_SKIP_BUILD === '1') return;
  execFileSync('node_modules/.bin/tsc', ['-p', 'tsconfig.json'], { stdio: 'inherit' });
}
