import { z } from 'zod';
import { gobgp, vtysh } from './daemons.js';

export interface SessionStatus {
  /** Who reports the session: router, rr-gobgp, rr-frr. */
  readonly speaker: string;
  readonly peer: string;
  readonly state: string;
  readonly prefixesReceived?: number | undefined;
}

const frrSummary = z.object({
  ipv4Unicast: z
    .object({ peers: z.record(z.string(), z.object({ state: z.string(), pfxRcd: z.number().optional() })) })
    .optional(),
});

export async function frrSessions(speaker: string, ns: string, vty: string): Promise<SessionStatus[]> {
  const parsed = frrSummary.parse(JSON.parse(await vtysh(ns, vty, 'show bgp summary json')));
  return Object.entries(parsed.ipv4Unicast?.peers ?? {}).map(([peer, p]) => ({
    speaker,
    peer,
    state: p.state,
    prefixesReceived: p.pfxRcd,
  }));
}

const gobgpNeighbors = z.array(
  z.object({
    conf: z.object({ neighbor_address: z.string().optional() }).optional(),
    state: z.object({
      neighbor_address: z.string().optional(),
      session_state: z.union([z.number(), z.string()]),
    }),
    afi_safis: z
      .array(z.object({ state: z.object({ received: z.number().optional() }).optional() }))
      .optional(),
  }),
);

/** gobgp's JSON uses the enum numbers of its API (6 = established). */
const GOBGP_STATES = ['unknown', 'idle', 'connect', 'active', 'opensent', 'openconfirm', 'established'];

export async function gobgpSessions(speaker: string, ns: string): Promise<SessionStatus[]> {
  const parsed = gobgpNeighbors.parse(JSON.parse(await gobgp(ns, ['neighbor', '-j'])));
  return parsed.map((nb) => {
    const s = nb.state.session_state;
    return {
      speaker,
      peer: nb.state.neighbor_address ?? nb.conf?.neighbor_address ?? '?',
      state: typeof s === 'number' ? (GOBGP_STATES[s] ?? String(s)) : s,
      prefixesReceived: nb.afi_safis?.reduce((sum, f) => sum + (f.state?.received ?? 0), 0),
    };
  });
}
