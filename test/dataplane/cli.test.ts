import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectGolden } from '../render/golden.js';
import { dataPlaneFixture } from './fixtures.js';

/* `portlb render nftables|keepalived` and `portlb dataplane`'s refusals, through the shipped bundle. */

const exec = promisify(execFile);
const fixture = dataPlaneFixture('services.yaml');
let dir: string;

async function portlb(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec('node_modules/.bin/node', ['dist/cli/portlb.mjs', ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function variant(name: string, edit: (yaml: string) => string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, edit(await readFile(fixture, 'utf8')));
  return path;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portlb-dataplane-cli-'));
});

describe('portlb render nftables|keepalived', () => {
  it.each([
    ['nftables', 'nftables-nat.nft'],
    ['keepalived', 'keepalived-mh.conf'],
  ])('prints the %s golden for the fixture', async (peer, golden) => {
    const result = await portlb('render', peer, '--config', fixture);
    expect(result.code).toBe(0);
    expectGolden(golden, result.stdout);
  });

  it('exits 2 on a backend list with a duplicate, naming it, and prints nothing', async () => {
    const path = await variant('dup.yaml', (y) =>
      y.replace('{ address: 10.98.0.22, port: 8080 }', '{ address: 10.98.0.21, port: 8080 }'),
    );
    const result = await portlb('render', 'nftables', '--config', path);
    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr).toContain('services[0].backends: 10.98.0.21:8080: listed twice');
  });

  it('exits 2 when ipvs cannot serve a VIP range that wide', async () => {
    const path = await variant('wide.yaml', (y) => y.replace('vip: 10.1.2.0/28', 'vip: 10.1.4.0/22'));
    const result = await portlb('render', 'keepalived', '--config', path);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'services[1].vip: 10.1.4.0/22 is wider than ipvs serves: use a /24 or narrower',
    );
  });
});

describe('portlb dataplane', () => {
  it('exits 2 for Kubernetes backends, which --once cannot read', async () => {
    const path = await variant('kube.yaml', (y) =>
      y.replace(
        'static: [{ address: 10.98.0.21, port: 8080 }, { address: 10.98.0.22, port: 8080 }]',
        'kubernetes: { service: web }',
      ),
    );
    const result = await portlb('dataplane', '--config', path, '--once');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'services[0].backends: Kubernetes backends need the long-running process',
    );
  });

  it('refuses tunnel forwarding for an IPv6 VIP, naming the service', async () => {
    const path = await variant('tunnel.yaml', (y) =>
      y.replace('seed: 0x5eed', 'seed: 0x5eed\n  forwarding: tunnel'),
    );
    const result = await portlb('render', 'nftables', '--config', path);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('tunnel forwarding carries IPv4 VIPs only (use nat)');
  });
});
