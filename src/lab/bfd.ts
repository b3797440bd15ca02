import { join } from 'node:path';
import { z } from 'zod';
import { gobgp, vtysh, waitFor } from './daemons.js';
import type { Lab } from './lab.js';
import { ROUTE_REFLECTORS, type RrFlavor } from './layout.js';
import type { LabLb } from './state.js';

const gobgpNeighbor = z.object({
  state: z.object({ bfd_state: z.object({ session_state: z.number().optional() }).optional() }),
});
const frrBfdPeers = z.array(
  z.object({ peer: z.string(), status: z.string(), 'remote-transmit-interval': z.number().optional() }),
);

/** GoBGP's API enum: BFD_SESSION_STATE_UP. */
const GOBGP_BFD_UP = 1;

/**
 * Whether a BGP neighbor's BFD session is up on a route reflector, at its fast rate: GoBGP from
 * its neighbor view (it does not negotiate timers), FRR from bfdd once the peer's Poll sequence
 * has brought the remote interval down to `intervalMs` (until then it still times out at the
 * slow start rate).
 */
export async function bfdUp(
  rr: { flavor: RrFlavor; ns: string; vty: string },
  peer: string,
  intervalMs: number,
): Promise<boolean> {
  try {
    if (rr.flavor === 'gobgp') {
      const nb = gobgpNeighbor.parse(JSON.parse(await gobgp(rr.ns, ['neighbor', peer, '-j'])));
      return nb.state.bfd_state?.session_state === GOBGP_BFD_UP;
    }
    const peers = frrBfdPeers.parse(JSON.parse(await vtysh(rr.ns, rr.vty, 'show bfd peers json')));
    return peers.some(
      (p) =>
        p.peer === peer && p.status === 'up' && (p['remote-transmit-interval'] ?? Infinity) <= intervalMs,
    );
  } catch {
    return false;
  }
}

/**
 * Waits until both route reflectors run BFD at the fast rate with an LB pod. A new session comes
 * up only after the BGP session, from RFC 5880's slow start (about 1-2 s): a node that dies
 * before then is found by the hold timer.
 */
export async function waitForBfd(lab: Lab, lb: LabLb, intervalMs: number, timeoutMs = 10_000): Promise<void> {
  const rrs = ROUTE_REFLECTORS.map((rr) => ({
    flavor: rr.flavor,
    ns: lab.names.rr(rr),
    vty: join(lab.store.dir, rr.name),
  }));
  await waitFor(
    `BFD up for ${lb.id} on both route reflectors`,
    async () => (await Promise.all(rrs.map((rr) => bfdUp(rr, lb.podIp, intervalMs)))).every(Boolean),
    timeoutMs,
    100,
  );
}
