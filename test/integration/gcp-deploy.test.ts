import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

// deploy/gcp checked with the real Terraform, as far as it runs offline: `terraform fmt -check`
// parses every file (a syntax error fails it) and checks its layout. `terraform init` cannot
// download the google provider here, so `terraform validate` (which needs the provider's schema)
// does not run: docs/gcp.md says what that leaves unchecked.

const run = promisify(execFile);
const CACHED = '/var/cache/portlb/terraform/bin/terraform';

async function terraform(): Promise<string> {
  for (const candidate of ['terraform', CACHED]) {
    try {
      await run(candidate, ['version']);
      return candidate;
    } catch {}
  }
  throw new Error(`terraform not found on PATH or at ${CACHED}: run scripts/setup.sh`);
}

const scratch: string[] = [];
afterAll(async () => {
  for (const dir of scratch) await rm(dir, { recursive: true, force: true });
});

describe('deploy/gcp with terraform', () => {
  it('is formatted and parses (terraform fmt -check)', async () => {
    const bin = await terraform();
    const { stdout } = await run(bin, ['fmt', '-check', '-recursive', '-diff', 'deploy/gcp']);
    expect(stdout).toBe('');
  });

  it('fmt -check is really checking: a syntax error and a misformatted file both fail', async () => {
    const bin = await terraform();
    const dir = await mkdtemp(join(tmpdir(), 'portlb-tf-'));
    scratch.push(dir);
    await cp('deploy/gcp', dir, { recursive: true });
    const broken = join(dir, 'broken.tf');
    await writeFile(broken, 'resource "x" "y" {\n  a = [\n');
    await expect(run(bin, ['fmt', '-check', dir])).rejects.toThrow();
    await rm(broken);
    const role = join(dir, 'role.tf');
    await writeFile(role, (await readFile(role, 'utf8')).replace('role_id     =', 'role_id=  '));
    await expect(run(bin, ['fmt', '-check', dir])).rejects.toThrow();
    expect(existsSync(role)).toBe(true);
  });
});
