import { readFileSync } from 'node:fs';

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
