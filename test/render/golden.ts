import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { type Config, loadConfig } from '../../src/config/load.js';

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

/** Fake secrets: the password file's path stands in for its content, so goldens show which was read. */
export const fakeSecret = (path: string) => `secret-of-${path.replaceAll('/', '_')}`;
