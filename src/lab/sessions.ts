import { z } from 'zod';
import { gobgp, vtysh } from './daemons.js';

export interface SessionStatus {
  /** Who reports the session: router, rr-gobgp, rr-frr. */
  readonly speaker: string;
  readonly peer: string;
  readonly state: string;
  /** Prefixes the peer sent, before the inbound filter (route reflectors: the LB filter). */
  readonly prefixesReceived?: number | undefined;
  /** Prefixes the filter let through. */
  readonly prefixesAccepted?: number | undefined;
  /** The BFD session for this BGP neighbor, when there is one: up, down, init. */
  readonly bfd?: string | undefined;
}

const frrSummary = z.object({
  ipv4Unicast: z
    .object({ peers: z.record(z.string(), z.object({ state: z.string(), pfxRcd: z.number().optional() })) })
    .optional(),
});

/** The router: what each route reflector's session carries into its RIB (after its filter). */
export async function frrSessions(speaker: string, ns: string, vty: string): Promise<SessionStatus[]> {
  const parsed = frrSummary.parse(JSON.parse(await vtysh(ns, vty, 'show bgp summary json')));
  return Object.entries(parsed.ipv4Unicast?.peers ?? {}).map(([peer, p]) => ({
    speaker,
    peer,
    state: p.state,
    prefixesReceived: p.pfxRcd,
  }));
}

const frrNeighbors = z.record(
  z.string(),
  z.object({
    bgpState: z.string(),
    addressFamilyInfo: z
      .object({ ipv4Unicast: z.object({ acceptedPrefixCounter: z.number().optional() }).optional() })
      .optional(),
    peerBfdInfo: z.object({ status: z.string() }).optional(),
  }),
);

const frrReceived = z.object({ totalPrefixCounter: z.number().optional() });

/**
 * An FRR route reflector: accepted from `show bgp neighbors`, received from the Adj-RIB-In that
 * soft-reconfiguration keeps (refused routes included), BFD from bgpd's view of it.
 */
export async function frrRrSessions(speaker: string, ns: string, vty: string): Promise<SessionStatus[]> {
  const neighbors = frrNeighbors.parse(JSON.parse(await vtysh(ns, vty, 'show bgp neighbors json')));
  const out: SessionStatus[] = [];
  for (const [peer, nb] of Object.entries(neighbors)) {
    let received: number | undefined;
    if (nb.bgpState === 'Established') {
      const text = await vtysh(ns, vty, `show bgp ipv4 unicast neighbors ${peer} received-routes json`);
      received = frrReceived.safeParse(JSON.parse(text || '{}')).data?.totalPrefixCounter ?? 0;
    }
    out.push({
      speaker,
      peer,
      state: nb.bgpState,
      prefixesReceived: received,
      prefixesAccepted: nb.addressFamilyInfo?.ipv4Unicast?.acceptedPrefixCounter,
      bfd: nb.peerBfdInfo?.status.toLowerCase(),
    });
  }
  return out;
}

const gobgpNeighbors = z.array(
  z.object({
    conf: z.object({ neighbor_address: z.string().optional() }).optional(),
    state: z.object({
      neighbor_address: z.string().optional(),
      session_state: z.union([z.number(), z.string()]),
      bfd_state: z.object({ session_state: z.number().optional() }).optional(),
    }),
    afi_safis: z
      .array(z.object({ state: z.object({ received: z.number().optional() }).optional() }))
      .optional(),
  }),
);

const gobgpRib = z.record(z.string(), z.array(z.object({ 'peer-address': z.string().optional() })));

/** gobgp's JSON uses the enum numbers of its API (6 = established; BFD 1 = up). */
const GOBGP_STATES = ['unknown', 'idle', 'connect', 'active', 'opensent', 'openconfirm', 'established'];
const GOBGP_BFD_STATES = ['unspecified', 'up', 'down', 'admin-down', 'init'];

/**
 * A GoBGP route reflector. Its policy applies at the global RIB (it is no route server), so the
 * per-neighbor "accepted" counter does not see it: accepted = the neighbor's paths in that RIB.
 */
export async function gobgpSessions(speaker: string, ns: string): Promise<SessionStatus[]> {
  const parsed = gobgpNeighbors.parse(JSON.parse(await gobgp(ns, ['neighbor', '-j'])));
  const rib = gobgpRib.parse(JSON.parse((await gobgp(ns, ['global', 'rib', '-j'])) || '{}'));
  const accepted = new Map<string, number>();
  for (const paths of Object.values(rib)) {
    for (const p of paths) {
      const from = p['peer-address'] ?? '';
      accepted.set(from, (accepted.get(from) ?? 0) + 1);
    }
  }
  return parsed.map((nb) => {
    const s = nb.state.session_state;
    const peer = nb.state.neighbor_address ?? nb.conf?.neighbor_address ?? '?';
    const bfd = nb.state.bfd_state?.session_state;
    return {
      speaker,
      peer,
      state: typeof s === 'number' ? (GOBGP_STATES[s] ?? String(s)) : s,
      prefixesReceived: nb.afi_safis?.reduce((sum, f) => sum + (f.state?.received ?? 0), 0),
      prefixesAccepted: accepted.get(peer) ?? 0,
      ...(bfd !== undefined && { bfd: GOBGP_BFD_STATES[bfd] ?? String(bfd) }),
    };
  });
}
