import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/* `portlb validate` on the shipped bundle: a TCP-MD5 key file must exist and be readable. */

const run = promisify(execFile);
const NODE = 'node_modules/.bin/node';
const CLI = 'dist/cli/portlb.mjs';
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portlb-keys-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function validateWith(passwordFile: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const example = await readFile('examples/bgp-lab.yaml', 'utf8');
  const config = join(dir, 'config.yaml');
  await writeFile(
    config,
    example.replace(
      '- { address: 10.99.0.3, as: 65000 }',
      `- { address: 10.99.0.3, as: 65000, passwordFile: ${passwordFile} }`,
    ),
  );
  try {
    const { stdout, stderr } = await run(NODE, [CLI, 'validate', '--config', config]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    return error as { code: number; stdout: string; stderr: string };
  }
}

describe('portlb validate: key files', () => {
  it('accepts a readable key file, and prints nothing of it', async () => {
    const key = join(dir, 'md5');
    await writeFile(key, 'the-secret-key\n', { mode: 0o600 });
    const result = await validateWith(key);
    expect(result).toMatchObject({ code: 0, stdout: expect.stringContaining('valid (mode bgp') });
    expect(result.stdout + result.stderr).not.toContain('the-secret-key');
  });

  it('exits 2 naming the field of a missing key file', async () => {
    const result = await validateWith(join(dir, 'missing'));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`bgp.peers[1].passwordFile: ${join(dir, 'missing')} does not exist`);
  });
});
