import type { Registry } from 'prom-client';
import { z } from 'zod';
import { errorMessage } from '../errors.js';
import type { Logger } from '../runtime/logger.js';
import { comparePeer, type PeerFinding } from './agreement.js';
import type { DataPlaneCheck } from './checks.js';
import type { PlaneModel } from './model.js';
import { type MaglevReport, maglevReport } from './tunnel.js';
import { createTunnelMetrics } from './tunnel-metrics.js';

/*
 * Publishes this LB's Maglev tables (seed, size, per service a fingerprint) and compares them
 * with the other LBs': each one's data-plane /readyz carries its report under
 * `detail.dataPlane.checks.maglev.self`. A mismatch is reported (log, /readyz degraded, metric),
 * never silent; it does not make the LB unready: which LB is wrong cannot be told from here, and
 * taking them all out of service would be worse than sending some flows to the wrong backend.
 */

const report = z.object({
  seed: z.number(),
  tableSize: z.number(),
  services: z.record(
    z.string(),
    z.object({ backends: z.number(), backendSet: z.string(), fingerprint: z.string() }),
  ),
});
const readyz = z.object({
  detail: z.object({
    dataPlane: z.object({ checks: z.object({ maglev: z.object({ self: report }) }) }),
  }),
});

/** Another LB's report from its /readyz (zod at this edge), or why it could not be read. */
export async function readPeerReport(
  peer: string,
  timeoutMs: number,
  fetcher: typeof fetch = fetch,
): Promise<MaglevReport | { readonly error: string }> {
  try {
    const response = await fetcher(`http://${peer}/readyz`, { signal: AbortSignal.timeout(timeoutMs) });
    const parsed = readyz.safeParse(await response.json());
    if (!parsed.success) return { error: 'its /readyz carries no Maglev report (not forwarding tunnel?)' };
    return parsed.data.detail.dataPlane.checks.maglev.self;
  } catch (error) {
    return { error: errorMessage(error) };
  }
}

export function createMaglevCheck(options: {
  /** HOST:PORT of the other LBs' data-plane listeners. */
  readonly peers: () => Promise<readonly string[]>;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly timeoutMs?: number;
  readonly fetcher?: typeof fetch;
}): DataPlaneCheck {
  const metrics = createTunnelMetrics(options.registry);
  let self: MaglevReport | undefined;
  let findings: PeerFinding[] = [];
  let previous = new Set<string>();
  let peerList: readonly string[] = [];
  const key = (f: PeerFinding) => `${f.peer} ${f.kind} ${f.detail}`;
  return {
    name: 'maglev',
    // The other LBs read this report while this LB still probes its backends: publish it at once.
    observe(model: PlaneModel) {
      self = maglevReport(model);
    },
    async run(model: PlaneModel) {
      self = maglevReport(model);
      metrics.table.reset();
      for (const [service, s] of Object.entries(self.services)) {
        metrics.table.set(
          {
            service,
            seed: `0x${self.seed.toString(16)}`,
            size: String(self.tableSize),
            fingerprint: s.fingerprint,
          },
          1,
        );
      }
      peerList = await options.peers().catch(() => []);
      const mine = self;
      const next = (
        await Promise.all(
          peerList.map(async (peer): Promise<PeerFinding[]> => {
            const theirs = await readPeerReport(peer, options.timeoutMs ?? 1000, options.fetcher);
            if ('error' in theirs) return [{ peer, kind: 'unreachable', detail: theirs.error, fatal: false }];
            return comparePeer(mine, peer, theirs);
          }),
        )
      ).flat();
      metrics.peerMismatch.reset();
      for (const f of next) {
        if (f.fatal) metrics.peerMismatch.set({ peer: f.peer, kind: f.kind }, 1);
        if (!previous.has(key(f))) {
          options.logger[f.fatal ? 'error' : 'warn'](
            { event: 'maglev_peer_mismatch', peer: f.peer, kind: f.kind, reason: f.detail },
            `LB ${f.peer} ${f.detail}`,
          );
        }
      }
      // A difference in backends is normal for a moment (EndpointSlices reach LBs one by one),
      // and so is a peer that is starting or restarting: each is reported once it is seen twice
      // in a row. A different seed, size or table never goes away on its own: reported at once.
      findings = next.filter((f) => f.fatal || previous.has(key(f)));
      previous = new Set(next.map(key));
    },
    notReady: () => [],
    degraded: () => findings.map((f) => `LB ${f.peer} ${f.detail}`),
    status: () => ({
      ...(self && { self }),
      peers: Object.fromEntries(
        peerList.map((p) => [
          p,
          findings.filter((f) => f.peer === p).map((f) => ({ kind: f.kind, detail: f.detail })),
        ]),
      ),
    }),
  };
}
