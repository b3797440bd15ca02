import { readFile } from 'node:fs/promises';

/**
 * Where an LB's time went, from its sidecar's JSON log (wall clock, ms): when the sidecar was up,
 * exabgp started, the first BGP session came up, and the route was announced or withdrawn. Each
 * is ms after the event; absent when the log has no such line after it.
 */
export interface Phases {
  sidecarUpMs?: number;
  exabgpStartedMs?: number;
  sessionUpMs?: number;
  announcedMs?: number;
  withdrawnMs?: number;
}

const MARKS: [keyof Phases, (line: Record<string, unknown>) => boolean][] = [
  ['sidecarUpMs', (l) => l.event === 'mode'],
  ['exabgpStartedMs', (l) => l.event === 'exabgp_started'],
  ['sessionUpMs', (l) => l.event === 'session' && l.state === 'up'],
  ['announcedMs', (l) => l.event === 'announce'],
  ['withdrawnMs', (l) => l.event === 'withdraw'],
];

export async function readPhases(logFile: string, sinceEpochMs: number): Promise<Phases> {
  const phases: Phases = {};
  let text: string;
  try {
    text = await readFile(logFile, 'utf8');
  } catch {
    return phases;
  }
  for (const raw of text.split('\n')) {
    if (!raw.startsWith('{')) continue;
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      continue;
    }
    const at = typeof line.time === 'string' ? Date.parse(line.time) : Number.NaN;
    // Log times have ms resolution: allow 1 ms of rounding before the event.
    if (!(at >= sinceEpochMs - 1)) continue;
    for (const [key, match] of MARKS) {
      if (phases[key] === undefined && match(line)) phases[key] = Math.max(0, Math.round(at - sinceEpochMs));
    }
  }
  return phases;
}
