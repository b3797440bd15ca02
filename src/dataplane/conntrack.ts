import { CommandError } from '../system/exec.js';
import type { Frontend, PlaneBackend } from './model.js';
import type { Runner } from './system.js';

const DELETED = /(\d+) flow entries have been deleted/;

/** The `conntrack -D` filter for flows that came in for a frontend and were NAT'd to a backend. */
export function cutArgs(frontend: Frontend, backend: PlaneBackend): string[] {
  return [
    'conntrack',
    '-D',
    ...(frontend.family === 6 ? ['-f', 'ipv6'] : []),
    '-p',
    frontend.protocol,
    '--orig-dst',
    frontend.vip,
    '--orig-port-dst',
    String(frontend.port),
    '--reply-src',
    backend.address,
    '--reply-port-src',
    String(backend.port),
  ];
}

/**
 * Ends a drained backend's established flows: deletes their conntrack entries, so their next packet
 * is a new flow, hashed to a ready backend, which resets it. Returns how many entries went.
 * conntrack exits 1 when none matched; that is not a failure here.
 */
export async function cutFlows(
  run: Runner,
  frontends: readonly Frontend[],
  backend: PlaneBackend,
): Promise<number> {
  let total = 0;
  for (const frontend of frontends) {
    try {
      const out = await run(cutArgs(frontend, backend));
      total += Number(DELETED.exec(`${out.stdout}${out.stderr}`)?.[1] ?? 0);
    } catch (error) {
      const count = error instanceof CommandError ? DELETED.exec(error.stderr) : null;
      if (count === null) throw error;
      total += Number(count[1]);
    }
  }
  return total;
}
