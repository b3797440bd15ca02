import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { secretFileProblems } from '../../src/render/secrets.js';
import { topologyConfig, withBgp } from './golden.js';

const dir = mkdtempSync(join(tmpdir(), 'portlb-secrets-'));
const key = join(dir, 'md5');
writeFileSync(key, 'the-key\n', { mode: 0o600 });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('key files', () => {
  it.each([
    ['a readable file', key, []],
    [
      'a missing file',
      join(dir, 'nope'),
      [{ path: 'bgp.peers[1].passwordFile', message: `${join(dir, 'nope')} does not exist` }],
    ],
    ['a directory', dir, [{ path: 'bgp.peers[1].passwordFile', message: `${dir} is not a file` }]],
  ])('%s', async (_what, file, problems) => {
    const config = await topologyConfig();
    const peers = config.bgp!.peers.map((p, i) => (i === 1 ? { ...p, passwordFile: file } : p));
    expect(secretFileProblems(withBgp(config, { peers }))).toEqual(problems);
  });

  it("names the router's key file, and never the key", async () => {
    const config = await topologyConfig();
    const router = { ...config.bgp!.topology!.router, passwordFile: join(dir, 'router') };
    const problems = secretFileProblems(withBgp(config, { topology: { router } }));
    expect(problems).toEqual([
      { path: 'bgp.topology.router.passwordFile', message: `${join(dir, 'router')} does not exist` },
    ]);
    expect(
      JSON.stringify(
        secretFileProblems(withBgp(config, { topology: { router: { ...router, passwordFile: key } } })),
      ),
    ).not.toContain('the-key');
  });
});
