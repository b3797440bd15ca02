import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/load.js';
import { gobgpBinary } from '../../src/lab/gobgp.js';
import { renderBfddConfig } from '../../src/render/bfd.js';
import { renderExabgpConfig } from '../../src/render/exabgp.js';
import { renderRouterConfig } from '../../src/render/router.js';
import { renderRrConfig } from '../../src/render/rr.js';
import { dualStackConfig, topologyConfig, withBgp } from '../render/golden.js';

/*
 * The rendered configs, checked by the real peers' own check modes: Debian's exabgp 4.2 and
 * FRR 8.4 (bgpd, bfdd), and GoBGP v4 (scripts/build-gobgp.sh).
 */

const exec = promisify(execFile);
let dir: string;

async function check(file: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  const [command, ...rest] = args;
  try {
    const { stdout, stderr } = await exec(command!, rest, { env, timeout: 20_000 });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, output: `${file}: ${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** FRR: vtysh -C exits 2 on a bad line; the daemon's --dryrun also loads it but exits 0 and only logs errors. */
async function checkFrr(text: string, name: string, daemon = 'bgpd') {
  const file = join(dir, name);
  await writeFile(file, text);
  const vtysh = await check(file, ['vtysh', '-C', '-f', file]);
  expect(vtysh.output).toBe('');
  expect(vtysh.code).toBe(0);
  const dry = await check(file, [`/usr/lib/frr/${daemon}`, '--dryrun', '-f', file, '--vty_socket', dir]);
  expect(dry.output).not.toMatch(/\[EC \d+\]|Unknown command|No such command/);
  expect(dry.code).toBe(0);
}

async function checkGobgp(text: string, name: string) {
  const file = join(dir, name);
  await writeFile(file, text);
  return check(file, [gobgpBinary('gobgpd'), '-f', file, '-t', 'toml', '--dry-run']);
}

async function withSecrets(lbSide = true): Promise<Config> {
  const config = await topologyConfig();
  const secret = join(dir, 'md5');
  await writeFile(secret, 's3cret-Pass\n');
  const bgp = config.bgp!;
  return withBgp(config, {
    peers: bgp.peers.map((p) => (lbSide ? { ...p, passwordFile: secret } : p)),
    topology: { ...bgp.topology!, router: { ...bgp.topology!.router, passwordFile: secret } },
  });
}

/** Hold time 0 (RFC 4271: no keepalives), on the global setting and per peer. */
const withHoldZero = async () => {
  const config = await topologyConfig();
  return withBgp(config, {
    holdTime: 0,
    allowLongHoldTime: true,
    peers: config.bgp!.peers.map((p) => ({ ...p, holdTime: 0 })),
  });
};

const withBfd = async (singleHop: string[] = []) =>
  withBgp(await topologyConfig(), { bfd: { intervalMs: 300, multiplier: 3, singleHop } });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portlb-render-'));
  // bgpd and bfdd read their config as user frr.
  await chmod(dir, 0o755);
  // exabgp --test insists that the process program exists; a stand-in named portlb is enough.
  await writeFile(join(dir, 'portlb'), '#!/bin/sh\nexec cat\n');
  await chmod(join(dir, 'portlb'), 0o755);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('rendered configs pass the peers’ own checks', () => {
  it.each([
    ['plain', () => topologyConfig()],
    ['md5', () => withSecrets()],
    ['hold time 0', () => withHoldZero()],
  ])('exabgp --test: %s', async (what, make) => {
    const config = await make();
    const file = join(dir, `exabgp-${what.replaceAll(' ', '-')}.conf`);
    await writeFile(
      file,
      renderExabgpConfig(config, { node: 'node1', run: 'portlb bgp-api --socket /tmp/x' }).text,
    );
    const env = { ...process.env, PATH: `${dir}:${process.env.PATH}`, 'exabgp.api.cli': 'false' };
    const result = await check(file, ['exabgp', '--test', file], env);
    expect(result.output).not.toMatch(/invalid|can not|error/i);
    expect(result.code).toBe(0);
  });

  it('exabgp --test fails on a broken config (the check has teeth)', async () => {
    const file = join(dir, 'broken.conf');
    const text = renderExabgpConfig(await topologyConfig(), { node: 'node1', run: 'portlb x' }).text;
    await writeFile(file, text.replace('hold-time', 'hold-tim'));
    const env = { ...process.env, PATH: `${dir}:${process.env.PATH}`, 'exabgp.api.cli': 'false' };
    expect((await check(file, ['exabgp', '--test', file], env)).code).not.toBe(0);
  });

  it.each([
    ['plain', () => topologyConfig()],
    ['md5 on both sides', () => withSecrets()],
    ['bfd', () => withBfd(['10.99.0.2'])],
    ['both families, VIPs only', () => dualStackConfig()],
    ['hold time 0', () => withHoldZero()],
  ])('gobgpd v4 --dry-run: %s', async (what, config) => {
    const text = renderRrConfig(await config(), { flavor: 'gobgp', routerId: '10.99.0.2' });
    const result = await checkGobgp(text, `rr-${what.replaceAll(' ', '-')}.toml`);
    expect(result.output).not.toMatch(/"level":"(FATAL|ERROR|fatal|error)"/);
    expect(result.code).toBe(0);
  });

  it('gobgpd --dry-run has teeth: a next-hop range where it takes addresses', async () => {
    const text = renderRrConfig(await topologyConfig(), { flavor: 'gobgp', routerId: '10.99.0.2' });
    const result = await checkGobgp(text.replace('"10.99.0.1", ', '"10.99.0.0/24", '), 'rr-bad.toml');
    expect(result.code).not.toBe(0);
  });

  it.each([
    ['plain', () => topologyConfig()],
    ['md5', () => withSecrets()],
    ['bfd', () => withBfd()],
    ['dual', () => dualStackConfig()],
    ['hold-0', () => withHoldZero()],
  ])('FRR route reflector: %s', async (what, config) => {
    const text = renderRrConfig(await config(), { flavor: 'frr', routerId: '10.99.0.2' });
    await checkFrr(text, `rr-${what}.conf`);
  });

  it.each([
    ['plain', () => topologyConfig()],
    ['md5', () => withSecrets()],
    ['dual', () => dualStackConfig()],
    ['hold-0', () => withHoldZero()],
  ])('FRR router: %s', async (what, config) => {
    await checkFrr(renderRouterConfig(await config()), `router-${what}.conf`);
  });

  it('FRR bfdd beside exabgp', async () => {
    const { text } = renderBfddConfig(await withBfd(['10.99.0.2']), { node: 'node1' });
    await checkFrr(text, 'bfdd.conf', 'bfdd');
  });

  it('the FRR check has teeth', async () => {
    const text = `${renderRouterConfig(await topologyConfig())} neighbor foo bar baz\n`;
    const file = join(dir, 'bad.conf');
    await writeFile(file, text);
    expect((await check(file, ['vtysh', '-C', '-f', file])).code).not.toBe(0);
  });
});
