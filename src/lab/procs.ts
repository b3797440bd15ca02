import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { ip } from '../system/exec.js';
import type { LabProcess } from './state.js';

/** Whether `pid` is still the process we started (not a zombie, not a recycled pid). */
export async function isOurs(proc: Pick<LabProcess, 'pid' | 'match'>): Promise<boolean> {
  try {
    const cmdline = await readFile(`/proc/${proc.pid}/cmdline`, 'utf8');
    return cmdline.replaceAll('\0', ' ').includes(proc.match);
  } catch {
    return false;
  }
}

/**
 * Whether a process we recorded is ours and alive, or was just started and is still exec'ing
 * (its command line empty for a moment): a process spawned a moment ago counts as running.
 */
export async function isOursOrStarting(proc: Pick<LabProcess, 'pid' | 'match'>): Promise<boolean> {
  if (await isOurs(proc)) return true;
  const cmdline = await readFile(`/proc/${proc.pid}/cmdline`, 'utf8').catch(() => undefined);
  return cmdline === '' && (await isRunning(proc.pid));
}

/**
 * Whether a pid we just started is still running (exists and is not a zombie). Unlike isOurs it
 * does not read the command line, which is briefly empty while the process execs: a daemon
 * checked in that window would look dead.
 */
export async function isRunning(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The state follows the parenthesised command name, which may itself contain spaces.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** SIGTERM, then SIGKILL whatever is left after `graceMs`. Kills by pid only. */
export async function stopProcesses(procs: readonly LabProcess[], graceMs = 2000): Promise<void> {
  const live: LabProcess[] = [];
  for (const p of procs) if (await isOurs(p)) live.push(p);
  for (const p of live) signal(p.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  let left = live;
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(50);
    const still: LabProcess[] = [];
    for (const p of left) if (await isOurs(p)) still.push(p);
    left = still;
  }
  for (const p of left) signal(p.pid, 'SIGKILL');
}

/** Every pid inside a namespace (children we never recorded included). */
export async function pidsIn(ns: string): Promise<number[]> {
  try {
    const out = await ip(undefined, 'netns', 'pids', ns);
    return out
      .split('\n')
      .map((s) => Number(s.trim()))
      .filter((n) => Number.isInteger(n) && n > 0);
  } catch {
    return [];
  }
}

/** SIGKILL every process in a namespace, by pid, and wait until none is left. */
export async function killNamespace(ns: string, sig: NodeJS.Signals = 'SIGKILL'): Promise<number> {
  const pids = await pidsIn(ns);
  for (const pid of pids) signal(pid, sig);
  for (let i = 0; i < 100 && (await pidsIn(ns)).length > 0; i++) await sleep(20);
  return pids.length;
}
