import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_DATA_PLANE } from '../../src/config/schema.js';
import { ipvsUnavailable } from '../../src/dataplane/ipvs.js';
import { createKeepalivedWriter } from '../../src/dataplane/keepalived-writer.js';
import { renderKeepalived } from '../../src/dataplane/render-keepalived.js';
import { createSystem } from '../../src/dataplane/system.js';
import { servicesConfig, v4, webModel } from '../dataplane/fixtures.js';
import { addNetns, controllerIn, inNs, mutableBackends, removeAll, staticLists } from './dataplane-netns.js';

/*
 * The ipvs data plane: every config portlb renders passes Debian's `keepalived --config-test`
 * (which exits 0 and prints nothing only for a clean config), a broken one does not, and on this
 * kernel, which has no IP_VS, the controller says so and writes nothing.
 */

const exec = promisify(execFile);
const goldenDir = new URL('../golden/', import.meta.url).pathname;
let dir: string;

async function configTest(text: string, name: string): Promise<{ code: number; output: string }> {
  const file = join(dir, name);
  await writeFile(file, text);
  try {
    const { stdout, stderr } = await exec('keepalived', ['--config-test', '-f', file], { timeout: 10_000 });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portlb-keepalived-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await removeAll();
});

describe('keepalived --config-test', () => {
  const goldens = readdirSync(goldenDir).filter((f) => f.startsWith('keepalived-'));

  it('has golden configs to check', () => {
    expect(goldens.length).toBeGreaterThanOrEqual(2);
  });

  it.each(goldens)('passes %s', async (name) => {
    const result = await configTest(await readFile(join(goldenDir, name), 'utf8'), name);
    expect(result).toEqual({ code: 0, output: '' });
  });

  const { ipvs } = DEFAULT_DATA_PLANE;
  const variants = (['mh', 'sh', 'rr', 'wlc', 'lc'] as const).flatMap((scheduler) =>
    (['tcp', 'http'] as const).map((type) => ({ scheduler, type })),
  );
  it.each(variants)(
    'passes scheduler $scheduler with $type checks and a draining backend',
    async ({ scheduler, type }) => {
      const model = webModel(
        { backends: [v4('10.98.0.21'), v4('10.98.0.23')], draining: [v4('10.98.0.22')] },
        { kind: 'ipvs', ipvs: { ...ipvs, scheduler, check: { ...ipvs.check, type, path: '/healthz' } } },
      );
      expect(await configTest(renderKeepalived(model), `${scheduler}-${type}.conf`)).toEqual({
        code: 0,
        output: '',
      });
    },
  );

  it('fails a broken config (the check has teeth)', async () => {
    const golden = await readFile(join(goldenDir, 'keepalived-mh.conf'), 'utf8');
    const result = await configTest(golden.replace('lvs_sched mh', 'lvs_sched maglev'), 'broken.conf');
    expect(result.code).not.toBe(0);
    expect(result.output).toContain("Invalid lvs_scheduler 'maglev'");
  });
});

describe('keepalived writer with the real config test', () => {
  let standIn: ChildProcess;
  let hups: string[];

  beforeAll(async () => {
    // keepalived itself cannot run on a kernel without IP_VS (its checker exits at once), so a
    // stand-in process holds the pid file and records the SIGHUPs the writer sends.
    standIn = spawn(process.execPath, [
      '-e',
      "process.on('SIGHUP', () => console.log('hup')); setInterval(() => {}, 1e6); console.log('up')",
    ]);
    hups = [];
    await new Promise<void>((resolve) => {
      standIn.stdout?.on('data', (chunk: Buffer) => {
        for (const line of chunk.toString().split('\n').filter(Boolean)) {
          if (line === 'up') resolve();
          else hups.push(line);
        }
      });
    });
    await writeFile(join(dir, 'keepalived.pid'), `${standIn.pid}\n`);
  });
  afterAll(() => {
    standIn.kill('SIGKILL');
  });

  it('writes a config that passed keepalived --config-test, reloads once, then leaves it alone', async () => {
    const settings = {
      ...DEFAULT_DATA_PLANE.ipvs,
      configFile: join(dir, 'keepalived.conf'),
      pidFile: join(dir, 'keepalived.pid'),
    };
    const writer = createKeepalivedWriter(createSystem(), settings);
    const model = webModel({}, { kind: 'ipvs' });
    expect(await writer.sync(model)).toMatchObject({ action: 'applied' });
    expect(await readFile(settings.configFile, 'utf8')).toBe(renderKeepalived(model));
    await expect.poll(() => hups).toEqual(['hup']);
    expect(await writer.sync(model)).toMatchObject({ action: 'unchanged' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(hups).toEqual(['hup']);
    expect(existsSync(`${settings.configFile}.portlb-new`)).toBe(false);
  });

  it('keeps the old file when the real config test refuses the new one', async () => {
    const settings = {
      ...DEFAULT_DATA_PLANE.ipvs,
      configFile: join(dir, 'refused.conf'),
      pidFile: join(dir, 'keepalived.pid'),
    };
    const old = renderKeepalived(webModel({}, { kind: 'ipvs' }));
    await writeFile(settings.configFile, old);
    // A model the config schema would refuse (retry -1), so that only keepalived's check stops it.
    const check = { ...DEFAULT_DATA_PLANE.ipvs.check, retries: -1 };
    const bad = webModel(
      { backends: [v4('10.98.0.21')] },
      { kind: 'ipvs', ipvs: { ...DEFAULT_DATA_PLANE.ipvs, check } },
    );
    const writer = createKeepalivedWriter(createSystem(), settings);
    await expect(writer.sync(bad)).rejects.toThrow(
      /config-test refused the rendered config: .*Invalid retry/s,
    );
    expect(await readFile(settings.configFile, 'utf8')).toBe(old);
    expect(hups).toEqual(['hup']);
  });
});

describe('ipvs on this kernel', () => {
  it('is detected from /proc and modprobe, and said plainly when missing', async () => {
    const why = await ipvsUnavailable(createSystem());
    if (existsSync('/proc/net/ip_vs')) expect(why).toBeUndefined();
    else expect(why).toMatch(/^ipvs not available in this kernel: \/proc\/net\/ip_vs does not exist; /);
  });

  it.skipIf(existsSync('/proc/net/ip_vs'))(
    'makes the controller refuse to start ipvs, writing nothing',
    async () => {
      const ns = await addNetns('ipvs');
      const config = await servicesConfig();
      const configFile = join(dir, 'never.conf');
      const ipvs = { ...DEFAULT_DATA_PLANE.ipvs, configFile, pidFile: join(dir, 'none.pid') };
      const { controller } = controllerIn(ns, config, mutableBackends(staticLists(config)).source, {
        dataPlane: { kind: 'ipvs', ipvs },
      });
      await controller.start();
      expect(await controller.sync('start')).toEqual({ writers: [], cut: [] });
      expect(controller.notReady()).toEqual([expect.stringMatching(/^ipvs not available in this kernel: /)]);
      expect(existsSync(configFile)).toBe(false);
      expect(await inNs(ns, 'nft', 'list', 'ruleset')).toBe('');
    },
  );
});
