import { describe, expect, it } from 'vitest';
import { DEFAULT_DATA_PLANE } from '../../src/config/schema.js';
import { createKeepalivedWriter } from '../../src/dataplane/keepalived-writer.js';
import { renderKeepalived } from '../../src/dataplane/render-keepalived.js';
import type { DataPlaneSystem } from '../../src/dataplane/system.js';
import { PermanentError } from '../../src/errors.js';
import { CommandError } from '../../src/system/exec.js';
import { v4, webModel } from './fixtures.js';

const settings = { ...DEFAULT_DATA_PLANE.ipvs, configFile: '/etc/k/keepalived.conf', pidFile: '/run/k.pid' };
const model = webModel({}, { kind: 'ipvs' });

/**
 * Files in memory; keepalived is pid 4242 when `alive`; `--config-test` fails when `badConfig`,
 * and exits 0 but complains when `complains` (as it does for a missing file).
 */
function fakeSystem(
  files: Record<string, string>,
  options: { alive?: boolean; badConfig?: boolean; complains?: boolean } = {},
) {
  const signals: [number, string | number][] = [];
  const commands: string[][] = [];
  const system: DataPlaneSystem = {
    run: async (argv) => {
      commands.push([...argv]);
      if (options.badConfig) throw new CommandError(argv, 5, "(x: Line 3) Unknown keyword 'bogus'");
      return { stdout: '', stderr: options.complains ? "Config files missing '/x'.\n" : '' };
    },
    readProc: async () => undefined,
    readFile: async (path) => files[path],
    replaceFile: async (path, text, check) => {
      await check?.(`${path}.portlb-new`);
      files[path] = text;
    },
    signal: (pid, signal) => {
      if (!options.alive || pid !== 4242) throw new Error('ESRCH');
      signals.push([pid, signal]);
    },
  };
  return { system, signals, commands, files };
}

describe('keepalived writer', () => {
  it('writes a checked config and tells keepalived to reload', async () => {
    const fake = fakeSystem({ '/run/k.pid': '4242\n' }, { alive: true });
    const outcome = await createKeepalivedWriter(fake.system, settings).sync(model);
    expect(outcome).toEqual({
      action: 'applied',
      reason: { code: 'file_missing', detail: settings.configFile },
    });
    expect(fake.files[settings.configFile]).toBe(renderKeepalived(model));
    expect(fake.commands).toEqual([
      ['keepalived', '--config-test', '-f', '/etc/k/keepalived.conf.portlb-new'],
    ]);
    expect(fake.signals).toEqual([
      [4242, 0],
      [4242, 'SIGHUP'],
      [4242, 0],
    ]);
  });

  it('leaves an unchanged config alone: no write, no reload', async () => {
    const fake = fakeSystem(
      { '/run/k.pid': '4242', [settings.configFile]: renderKeepalived(model) },
      { alive: true },
    );
    const outcome = await createKeepalivedWriter(fake.system, settings).sync(model);
    expect(outcome.action).toBe('unchanged');
    expect(fake.commands).toEqual([]);
    expect(fake.signals.filter(([, s]) => s === 'SIGHUP')).toEqual([]);
  });

  it('rewrites when the backends change', async () => {
    const fake = fakeSystem(
      { '/run/k.pid': '4242', [settings.configFile]: renderKeepalived(model) },
      { alive: true },
    );
    const next = webModel({ backends: [v4('10.98.0.21')], draining: [v4('10.98.0.22')] }, { kind: 'ipvs' });
    const outcome = await createKeepalivedWriter(fake.system, settings).sync(next);
    expect(outcome.reason.code).toBe('rules_changed');
    expect(fake.files[settings.configFile]).toContain('weight 0');
  });

  it('never replaces a keepalived.conf that is not portlb’s', async () => {
    const theirs = 'global_defs {\n  router_id theirs\n}\n';
    const fake = fakeSystem({ [settings.configFile]: theirs });
    const outcome = await createKeepalivedWriter(fake.system, settings).sync(model);
    expect(outcome).toMatchObject({ action: 'refused', reason: { code: 'not_owned' } });
    expect(fake.files[settings.configFile]).toBe(theirs);
  });

  it('keeps the old config when keepalived --config-test refuses the new one', async () => {
    const old = renderKeepalived(webModel({ backends: [v4('10.98.0.21')] }, { kind: 'ipvs' }));
    const fake = fakeSystem(
      { '/run/k.pid': '4242', [settings.configFile]: old },
      { alive: true, badConfig: true },
    );
    const writing = createKeepalivedWriter(fake.system, settings).sync(model);
    await expect(writing).rejects.toThrow(PermanentError);
    await expect(writing).rejects.toThrow(/config-test refused the rendered config: .*Unknown keyword/);
    expect(fake.files[settings.configFile]).toBe(old);
    expect(fake.signals.filter(([, s]) => s === 'SIGHUP')).toEqual([]);
  });

  it('takes anything keepalived --config-test prints as a refusal, even with exit 0', async () => {
    const fake = fakeSystem({}, { complains: true });
    await expect(createKeepalivedWriter(fake.system, settings).sync(model)).rejects.toThrow(
      /Config files missing/,
    );
    expect(fake.files[settings.configFile]).toBeUndefined();
  });

  it('says when keepalived is not running to load it', async () => {
    const fake = fakeSystem({ '/run/k.pid': '999' });
    const outcome = await createKeepalivedWriter(fake.system, settings).sync(model);
    expect(outcome).toMatchObject({
      action: 'applied',
      notServing: 'keepalived is not running (no live pid in /run/k.pid)',
    });
  });

  it('skips the config test when told to', async () => {
    const fake = fakeSystem({}, { badConfig: true });
    await createKeepalivedWriter(fake.system, { ...settings, testConfig: false }).sync(model);
    expect(fake.commands).toEqual([]);
  });
});
