import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The `portlb` users run: the bundle scripts/build-cli.mjs writes, and the V8 flags its shebang
 * names, so a benchmark spawns it with the current Node (24) exactly as the image runs it.
 */
export function shippedPortlb(): { script: string; flags: string[] } {
  const script = fileURLToPath(new URL('../../cli/portlb.mjs', import.meta.url));
  const shebang = readFileSync(script, 'utf8').split('\n', 1)[0] ?? '';
  const match = /^#!\/usr\/bin\/env -S node(.*)$/.exec(shebang);
  if (!match) throw new Error(`${script}: no '#!/usr/bin/env -S node' line; run npm run build`);
  return { script, flags: (match[1] ?? '').split(' ').filter(Boolean) };
}

export interface ProcMemory {
  readonly rssMb: number;
  /** Private memory: the JS heap, malloc, stacks. What grows with the objects portlb caches. */
  readonly anonMb: number;
  /** Mapped files, mostly the node binary's own pages: shared with every Node process. */
  readonly fileMb: number;
  readonly hwmMb: number;
}

export function procMemory(pid: number): ProcMemory {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const mb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0) / 1024;
  return { rssMb: mb('VmRSS'), anonMb: mb('RssAnon'), fileMb: mb('RssFile'), hwmMb: mb('VmHWM') };
}

/** utime + stime of a process, in seconds. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
