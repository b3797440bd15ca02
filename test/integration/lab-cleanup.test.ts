import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/lab/daemons.js';
import { labDown, labUp } from '../../src/lab/lab.js';
import { isOurs } from '../../src/lab/procs.js';
import { type LabState, readState, STATE_FILE } from '../../src/lab/state.js';
import { ip } from '../../src/system/exec.js';
import { labUnavailable } from './lab-helpers.js';

// `down` must remove everything `up` started, even when `up` failed or was killed half-way.
const unavailable = labUnavailable();
const quiet = () => {};

async function namespacesWith(prefix: string): Promise<string[]> {
  const out = await ip(undefined, 'netns', 'list');
  return out
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith(prefix));
}

async function liveProcesses(state: LabState): Promise<number[]> {
  const live: number[] = [];
  for (const p of state.processes) if (await isOurs(p)) live.push(p.pid);
  return live;
}

describe.skipIf(unavailable !== undefined)('lab: nothing left behind', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) {
      await labDown(dir, quiet);
      await rm(dirname(dir), { recursive: true, force: true });
    }
  });

  it('refuses a run directory FRR (user frr) could not enter, before making anything', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'portlb-lab-closed-')), 'run');
    dirs.push(dir);
    await expect(
      labUp({ dir, prefix: 'plbf-', nodes: 2, lbs: 1, backends: 1, holdTime: 3, progress: quiet }),
    ).rejects.toThrow(/closed to other users/);
    expect(await namespacesWith('plbf-')).toEqual([]);
  });

  it('a failing up removes every namespace and process it made', async () => {
    // A namespace name that is taken: the lab fails half-way, after its first namespaces.
    const parent = await mkdtemp(join(tmpdir(), 'portlb-lab-fail-'));
    await chmod(parent, 0o755);
    const dir = join(parent, 'run');
    dirs.push(dir);
    await ip(undefined, 'netns', 'add', 'plbf-node1');
    try {
      await expect(
        labUp({ dir, prefix: 'plbf-', nodes: 2, lbs: 1, backends: 1, holdTime: 3, progress: quiet }),
      ).rejects.toThrow(/plbf-node1 exists already/);
      // Ours are gone; the one that was there before is not ours, and stays.
      expect(await namespacesWith('plbf-')).toEqual(['plbf-node1']);
    } finally {
      await ip(undefined, 'netns', 'del', 'plbf-node1');
    }
    expect(await namespacesWith('plbf-')).toEqual([]);
    expect(await readState(dir)).toBeUndefined();
  });

  it('down after `lab up` itself was SIGKILLed half-way removes everything it had started', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'portlb-lab-crash-'));
    await chmod(parent, 0o755);
    const dir = join(parent, 'run');
    dirs.push(dir);
    const cli = resolve('dist/src/cli/main.js');
    const up = spawn(
      process.execPath,
      [cli, 'lab', '--dir', dir, 'up', '--prefix', 'plbc-', '--nodes', '2'],
      {
        stdio: 'ignore',
      },
    );
    // Kill it once it has namespaces and daemons running, before it is done.
    await waitFor(
      'lab up to start a few daemons',
      async () => {
        const text = await readFile(join(dir, STATE_FILE), 'utf8').catch(() => '{}');
        return ((JSON.parse(text) as Partial<LabState>).processes?.length ?? 0) >= 3;
      },
      30_000,
      20,
    );
    up.kill('SIGKILL');
    const state = await readState(dir);
    expect(state?.phase).toBe('starting');
    expect((await namespacesWith('plbc-')).length).toBeGreaterThan(0);

    expect(await labDown(dir, quiet)).toBe(true);
    expect(await namespacesWith('plbc-')).toEqual([]);
    expect(await liveProcesses(state as LabState)).toEqual([]);
  });
});
