import { defineConfig } from 'vitest/config';

/** Tests that run what ships (the bundle dist/cli/portlb.mjs, the exabgp relay): they need a build first. */
const shipped = [
  'test/cli/**/*.test.ts',
  'test/dataplane/cli.test.ts',
  'test/providers/bgp/relay.test.ts',
  'test/deploy/image.test.ts',
];

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/integration/**', ...shipped],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', ...shipped],
          globalSetup: ['test/setup/build.ts'],
          // Real peers, namespaces and servers: one file at a time on a 2-core machine.
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
