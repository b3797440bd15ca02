import { chmod, mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FileKind } from '../../src/config/files.js';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError, type Problem } from '../../src/errors.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portlb-files-'));
  await writeFile(join(dir, 'key'), 'secret-1\n');
  await writeFile(join(dir, 'spaced'), 'two words\n');
  await writeFile(join(dir, 'long'), `${'k'.repeat(81)}\n`);
  await writeFile(join(dir, 'empty'), '\n');
  await writeFile(join(dir, 'kubeconfig'), 'apiVersion: v1\nkind: Config\n');
  await symlink(join(dir, 'key'), join(dir, 'linked')); // how Kubernetes mounts a Secret
  await writeFile(join(dir, 'unreadable'), 'secret\n');
  await chmod(join(dir, 'unreadable'), 0o000);
});

async function configWith(peer: Record<string, unknown>, extra = ''): Promise<string> {
  const path = join(dir, `config-${Math.random().toString(36).slice(2)}.yaml`);
  const peerText = JSON.stringify({ address: '10.99.0.2', as: 65000, ...peer });
  await writeFile(
    path,
    [
      'mode: bgp',
      'allowedVipPools: [10.1.0.0/16]',
      'services: [{ name: web, vip: 10.1.1.0/24, ports: [{port: 80}], backends: { static: [{address: 10.98.0.21, port: 80}] } }]',
      `bgp: { localAs: 65000, peers: [${peerText}] }`,
      extra,
    ].join('\n'),
  );
  return path;
}

async function problems(path: string, checkFiles: boolean | FileKind[] = true): Promise<Problem[]> {
  try {
    await loadConfig(path, {}, { checkFiles });
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

const runningAsRoot = process.getuid?.() === 0;

describe('files a config names are checked when it is loaded, by field', () => {
  it.each<[string, string, string]>([
    ['a missing key file', '/nonexistent/portlb/key', 'does not exist'],
    ['a directory', '/', 'not a regular file'],
    ['a key with a space (FRR takes one word)', 'spaced', 'printable ASCII characters, without spaces'],
    ['a key longer than TCP-MD5 allows', 'long', '1-80'],
    ['an empty key', 'empty', '1-80'],
  ])('refuses %s', async (_name, file, message) => {
    const path = await configWith({ passwordFile: file.startsWith('/') ? file : join(dir, file) });
    const found = await problems(path);
    expect(found).toHaveLength(1);
    expect(found[0]?.path).toBe('bgp.peers[0].passwordFile');
    expect(found[0]?.message).toContain(message);
    expect(found[0]?.message).not.toContain('secret'); // never the key itself
  });

  it.skipIf(runningAsRoot)('refuses an unreadable key', async () => {
    const found = await problems(await configWith({ passwordFile: join(dir, 'unreadable') }));
    expect(found[0]?.message).toContain('not readable');
  });

  it('accepts a key file, also through a symlink, and a kubeconfig', async () => {
    const path = await configWith(
      { passwordFile: join(dir, 'linked') },
      `kubernetes: { lbPodSelector: app=lb, kubeconfig: ${join(dir, 'kubeconfig')} }`,
    );
    expect(await problems(path)).toEqual([]);
  });

  it('names the router key and the kubeconfig too, with every other problem', async () => {
    const path = await configWith(
      { holdTime: 1 },
      [
        `kubernetes: { lbPodSelector: app=lb, kubeconfig: ${join(dir, 'none')} }`,
        'drain: { seconds: -1 }',
      ].join('\n'),
    );
    const text = (await readFile(path, 'utf8')).replace(
      'bgp: {',
      'bgp: { topology: { router: { address: 10.9.0.1, passwordFile: /nonexistent } },',
    );
    await writeFile(path, text);
    expect((await problems(path)).map((p) => p.path).sort()).toEqual([
      'bgp.peers[0].holdTime',
      'bgp.topology.router.passwordFile',
      'drain.seconds',
      'kubernetes.kubeconfig',
    ]);
  });

  it('skips the files with checkFiles: false (validate --no-file-checks)', async () => {
    const path = await configWith({ passwordFile: '/nonexistent/portlb/key' });
    expect(await problems(path, false)).toEqual([]);
  });

  it('checks only the kinds a command reads: the node agent is not refused for a key it never opens', async () => {
    const path = await configWith(
      { passwordFile: '/nonexistent/portlb/key' },
      'kubernetes: { lbPodSelector: app=lb, kubeconfig: /nonexistent/portlb/kubeconfig }',
    );
    expect((await problems(path, ['kubeconfig'])).map((p) => p.path)).toEqual(['kubernetes.kubeconfig']);
    expect((await problems(path, ['tcp-md5-key'])).map((p) => p.path)).toEqual(['bgp.peers[0].passwordFile']);
  });
});
