import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/load.js';
import { modelFromConfig } from '../../src/dataplane/render.js';
import { renderNftables } from '../../src/dataplane/render-nftables.js';
import { createSystem, type DataPlaneSystem } from '../../src/dataplane/system.js';
import { dataPlaneFixture, servicesConfig } from '../dataplane/fixtures.js';
import {
  addNetns,
  controllerIn,
  inNs,
  mutableBackends,
  othersThan,
  removeAll,
  ruleset,
  staticLists,
} from './dataplane-netns.js';

/*
 * The nftables data plane against the real nft (Debian's 1.0.6) in a namespace of its own: what it
 * writes is what nft lists, it writes only when something changed, it adopts its own table after
 * a restart, puts back a table someone edited, keeps the old rules when nft refuses new ones, and
 * never touches a table that is not its own.
 */

const exec = promisify(execFile);
let ns: string;
let config: Config;

/** Tables that belong to others: a filter table, and an inet table with a set. */
const FOREIGN = `table ip filter {
	chain input {
		type filter hook input priority filter; policy accept;
		tcp dport 22 counter accept
	}
}
table inet theirs {
	set blocked {
		type ipv4_addr
		elements = { 192.0.2.1 }
	}
	chain forward {
		type filter hook forward priority filter; policy accept;
		ip saddr @blocked drop
	}
}
`;

const listTable = () => inNs(ns, 'nft', 'list', 'table', 'inet', 'portlb');
/** The table with handles: a table written again gets new ones. */
const handles = () => inNs(ns, 'nft', '-a', '-j', 'list', 'table', 'inet', 'portlb');

beforeAll(async () => {
  ns = await addNetns('nft');
  await inNs(ns, 'sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1');
  const foreign = createSystem({ netns: ns });
  await foreign.run(['nft', '-f', '-'], { input: FOREIGN });
  config = await servicesConfig();
});
afterAll(removeAll);

describe('nftables data plane in a namespace', () => {
  let before: Awaited<ReturnType<typeof ruleset>>;
  let firstHandles: string;

  it('writes the rendered table, which nft lists byte for byte as rendered, and nothing else', async () => {
    before = othersThan(await ruleset(ns));
    const { controller } = controllerIn(ns, config, servicesBackends().source);
    const outcome = await controller.sync('test');
    expect(outcome.writers).toEqual([
      {
        writer: 'nftables',
        outcome: { action: 'applied', reason: expect.objectContaining({ code: 'table_missing' }) },
      },
    ]);
    expect(await listTable()).toBe(renderNftables(modelFromConfig(config)).body);
    expect(othersThan(await ruleset(ns))).toEqual(before);
    expect(controller.notReady()).toEqual([]);
    firstHandles = await handles();
  });

  it('writes nothing when nothing changed', async () => {
    const { controller } = controllerIn(ns, config, servicesBackends().source);
    await controller.sync('first');
    const outcome = await controller.sync('again');
    expect(outcome.writers[0]?.outcome.action).toBe('unchanged');
    expect(await handles()).toBe(firstHandles);
  });

  it('adopts its own table after a restart instead of writing it again', async () => {
    const { controller } = controllerIn(ns, config, servicesBackends().source);
    const outcome = await controller.sync('restart');
    expect(outcome.writers[0]?.outcome).toMatchObject({ action: 'adopted', reason: { code: 'adopted' } });
    expect(await handles()).toBe(firstHandles);
  });

  it('replaces the whole table when the backends change, and only its own', async () => {
    const backends = servicesBackends();
    const { controller } = controllerIn(ns, config, backends.source);
    await controller.sync('first');
    backends.set('web', [{ address: '10.98.0.21', port: 8080 }]);
    const outcome = await controller.sync('backend gone');
    expect(outcome.writers[0]?.outcome.action).toBe('applied');
    const listed = await listTable();
    expect(listed).toContain('mod 1 seed 0x5eed map { 0 : 10.98.0.21 . 8080 }');
    expect(listed).toBe(renderNftables(outcome.model!).body);
    expect(othersThan(await ruleset(ns))).toEqual(before);
  });

  it('puts back a table someone edited', async () => {
    const { controller } = controllerIn(ns, config, servicesBackends().source);
    await controller.sync('first');
    await inNs(ns, 'nft', 'insert', 'rule', 'inet', 'portlb', 'prerouting', 'tcp', 'dport', '8', 'drop');
    const outcome = await controller.sync('resync');
    expect(outcome.writers[0]?.outcome).toMatchObject({ action: 'applied', reason: { code: 'drifted' } });
    expect(await listTable()).toBe(renderNftables(modelFromConfig(config)).body);
  });

  /** A fault on the way to nft: every transaction gets a line nft refuses, so the whole of it fails. */
  function brokenNft(): DataPlaneSystem {
    const real = createSystem({ netns: ns });
    return {
      ...real,
      run: (argv, options) =>
        real.run(
          argv,
          argv.includes('-f')
            ? { ...options, input: `${options?.input}\nadd rule inet portlb nope accept\n` }
            : options,
        ),
    };
  }

  it('keeps the old rules when nft refuses the new ones, and says so', async () => {
    const good = await listTable();
    const backends = servicesBackends();
    const { controller, registry } = controllerIn(ns, config, backends.source, { system: brokenNft() });
    await controller.sync('first');
    backends.set('web', [{ address: '10.98.0.22', port: 8080 }]);
    await expect(controller.sync('changed')).rejects.toThrow(
      /nft -f -: .*(No such file or directory|Error)/s,
    );
    expect(await listTable()).toBe(good);
    expect(controller.notReady()).toEqual([]);
    expect(controller.status().degraded).toEqual([
      expect.stringMatching(/^nftables: the last write failed and the previous rules still serve: /),
    ]);
    expect(await registry.getSingleMetricAsString('portlb_dataplane_syncs_total')).toContain(
      'portlb_dataplane_syncs_total{writer="nftables",outcome="failed"} 1',
    );
  });

  it('a restarted process that cannot write is degraded, not down: the earlier run’s rules serve', async () => {
    const good = await listTable();
    const backends = servicesBackends();
    backends.set('web', [{ address: '10.98.0.23', port: 8080 }]);
    const { controller } = controllerIn(ns, config, backends.source, { system: brokenNft() });
    await expect(controller.sync('restart')).rejects.toThrow(/nft -f -: /);
    expect(await listTable()).toBe(good);
    expect(controller.notReady()).toEqual([]);
    expect(controller.status().degraded).toEqual([
      expect.stringMatching(/^nftables: the last write failed and the previous rules still serve: /),
    ]);
  });

  it('refuses a table named portlb that it did not create, and leaves it as it is', async () => {
    await inNs(ns, 'nft', 'delete', 'table', 'inet', 'portlb');
    await inNs(ns, 'nft', 'add', 'table', 'inet', 'portlb');
    await inNs(ns, 'nft', 'add', 'chain', 'inet', 'portlb', 'mine');
    const theirs = await ruleset(ns);
    const { controller } = controllerIn(ns, config, servicesBackends().source);
    const outcome = await controller.sync('test');
    expect(outcome.writers[0]?.outcome).toMatchObject({ action: 'refused', reason: { code: 'not_owned' } });
    expect(await ruleset(ns)).toEqual(theirs);
    expect(controller.notReady()).toEqual([expect.stringContaining("exists without portlb's owner rule")]);
    await inNs(ns, 'nft', 'delete', 'table', 'inet', 'portlb');
  });

  it('portlb dataplane --once writes the table, and a second run adopts it', async () => {
    const cli = (...args: string[]) =>
      exec('node_modules/.bin/node', ['dist/cli/portlb.mjs', 'dataplane', ...args], {
        env: { ...process.env, PORTLB_LOG_LEVEL: 'error' },
      });
    const args = ['--config', dataPlaneFixture('services.yaml'), '--once', '--netns', ns];
    const first = await cli(...args);
    expect(first.stdout).toContain('nftables: applied (no table inet portlb yet)');
    expect(first.stdout).toContain('service dns: 3 ready backend(s), 0 draining');
    const second = await cli(...args);
    expect(second.stdout).toMatch(/^nftables: adopted/);
    expect(await listTable()).toBe(renderNftables(modelFromConfig(config)).body);
  });

  it('portlb dataplane runs on the process harness: ready once the rules serve, and leaves them on SIGTERM', async () => {
    // prepare: the fixture with its health server on a loopback port of ours
    const dir = await mkdtemp(join(tmpdir(), 'portlb-dataplane-'));
    const file = join(dir, 'dataplane.yaml');
    const text = await readFile(dataPlaneFixture('services.yaml'), 'utf8');
    await writeFile(file, text.replace('dataPlane:\n', 'dataPlane:\n  listen: 127.0.0.1:0\n'));
    await inNs(ns, 'nft', 'delete', 'table', 'inet', 'portlb').catch(() => undefined);
    const child = spawn(
      'node_modules/.bin/node',
      ['dist/cli/portlb.mjs', 'dataplane', '--config', file, '--netns', ns],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let logs = '';
    child.stderr?.on('data', (chunk: Buffer) => (logs += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      // act: wait for its health server, then for ready
      const address = await eventually(() => /"address":"127\.0\.0\.1:(\d+)"/.exec(logs)?.[1]);
      const readyz = await eventually(async () => {
        const answer = await fetch(`http://127.0.0.1:${address}/readyz`);
        return answer.status === 200
          ? ((await answer.json()) as { ready: boolean; detail: unknown })
          : undefined;
      });
      // assess
      expect(readyz.ready).toBe(true);
      expect(JSON.stringify(readyz.detail)).toContain('nftables');
      expect(await listTable()).toBe(renderNftables(modelFromConfig(config)).body);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(await listTable()).toBe(renderNftables(modelFromConfig(config)).body);
      expect(logs).toContain('its rules stay in place');
    } finally {
      child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** Polls until `probe` gives a value (10 s at most). */
async function eventually<T>(probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const end = Date.now() + 10_000;
  for (;;) {
    const value = await Promise.resolve(probe()).catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error('condition not met within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function servicesBackends() {
  return mutableBackends(staticLists(config));
}
