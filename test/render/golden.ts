import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { type Config, loadConfig } from '../../src/config/load.js';
import type { BgpConfig } from '../../src/config/schema.js';

const goldenDir = fileURLToPath(new URL('../golden/', import.meta.url));

/** Compares with test/golden/NAME; UPDATE_GOLDEN=1 rewrites the file instead (review the diff). */
export function expectGolden(name: string, actual: string): void {
  const path = `${goldenDir}${name}`;
  if (process.env.UPDATE_GOLDEN === '1') {
    writeFileSync(path, actual);
    return;
  }
  let expected: string;
  try {
    expected = readFileSync(path, 'utf8');
  } catch {
    throw new Error(`golden file ${path} is missing: run with UPDATE_GOLDEN=1 and review it`);
  }
  expect(actual).toBe(expected);
}

export const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/bgp/${name}`, import.meta.url));

/** The renderers' fixture config, optionally with Downward API variables. */
export function topologyConfig(env: NodeJS.ProcessEnv = {}): Promise<Config> {
  return loadConfig(fixture('topology.yaml'), env);
}

/** Both address families, only the configured VIPs accepted, small node ranges, a tight prefix limit. */
export function dualStackConfig(): Promise<Config> {
  return loadConfig(fixture('dual-stack.yaml'), {});
}

/** The config with some `bgp` fields replaced. */
export function withBgp(config: Config, bgp: Partial<BgpConfig>): Config {
  return { ...config, bgp: { ...config.bgp!, ...bgp } };
}

/** Fake secrets: the password file's path stands in for its content, so goldens show which was read. */
export const fakeSecret = (path: string) => `secret-of-${path.replaceAll('/', '_')}`;
