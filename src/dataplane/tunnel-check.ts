import pLimit from 'p-limit';
import type { Registry } from 'prom-client';
import { prefix } from '../core/cidr.js';
import { errorMessage, PermanentError } from '../errors.js';
import type { Logger } from '../runtime/logger.js';
import { CommandError } from '../system/exec.js';
import type { DataPlaneCheck } from './checks.js';
import { backendKey, type PlaneModel } from './model.js';
import type { Runner } from './system.js';
import { backendMark, tunnelMac } from './tunnel.js';
import { createTunnelMetrics } from './tunnel-metrics.js';

/*
 * The health check through the data plane, per backend: an ICMP echo to the VIP carrying the
 * backend's mark (`ping -m`), which the rules' egress chain sends through the tunnel to exactly
 * that backend. It comes back only if the backend decapsulates (VXLAN device with its MAC), takes
 * the VIP as local and answers straight back: everything direct return needs. When it fails, an
 * echo to the backend's own address tells "unreachable" from "no decapsulation side".
 */

export interface TunnelFinding {
  readonly service: string;
  readonly backend: string;
  readonly ok: boolean;
  readonly why?: string;
}

/** An address the backends take as local for a service: the VIP range's first host. */
export function probeTarget(vip: string): string {
  const p = prefix(vip);
  const offset = p.length >= 31 ? 0n : 1n;
  const value = Number(p.network + offset);
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join('.');
}

const ping = (run: Runner, target: string, timeout: number, mark?: number) =>
  run(
    [
      'ping',
      '-n',
      '-q',
      '-c',
      '1',
      '-W',
      String(timeout),
      ...(mark === undefined ? [] : ['-m', String(mark)]),
      target,
    ],
    {
      timeoutMs: (timeout + 2) * 1000,
    },
  ).then(
    () => true,
    (error: unknown) => {
      // ping exits 1 when no reply came; anything else (not installed, not permitted: Debian's
      // ping needs CAP_NET_RAW for its file capability) says nothing about the backend.
      if (error instanceof CommandError && error.exitCode === 1) return false;
      throw new PermanentError(`cannot run ping in the LB: ${errorMessage(error)}`, { cause: error });
    },
  );

export function createTunnelCheck(options: {
  readonly run: Runner;
  readonly logger: Logger;
  readonly registry: Registry;
}): DataPlaneCheck {
  const metrics = createTunnelMetrics(options.registry);
  const limit = pLimit(16);
  let findings: TunnelFinding[] = [];
  let services: { name: string; ready: number }[] = [];
  return {
    name: 'tunnel',
    async run(model: PlaneModel) {
      const timeout = model.tunnel.checkTimeoutSeconds;
      const device = model.tunnel.device;
      const served = model.services.filter((s) => s.backends.length > 0);
      const next = await Promise.all(
        served.flatMap((s) =>
          s.backends.map((b) =>
            limit(async (): Promise<TunnelFinding> => {
              const backend = backendKey(b);
              try {
                if (await ping(options.run, probeTarget(s.vip), timeout, backendMark(b.address)))
                  return { service: s.name, backend, ok: true };
                const why = (await ping(options.run, b.address, timeout))
                  ? `answers at ${b.address} but not through the tunnel (VXLAN ${model.tunnel.vni}, UDP ${model.tunnel.port}, MAC ${tunnelMac(b.address)}) for ${s.vip}: no decapsulating ${device} there, or ${s.vip} not local, or rp_filter drops it; run portlb backend-setup on it`
                  : `does not answer at ${b.address} either: unreachable or down`;
                return { service: s.name, backend, ok: false, why };
              } catch (error) {
                return { service: s.name, backend, ok: false, why: errorMessage(error) };
              }
            }),
          ),
        ),
      );
      for (const f of next) {
        metrics.backendUp.set({ service: f.service, backend: f.backend }, f.ok ? 1 : 0);
        const before = findings.find((p) => p.service === f.service && p.backend === f.backend);
        if (!f.ok && before?.why !== f.why) {
          options.logger.warn(
            { event: 'tunnel_check_failed', service: f.service, backend: f.backend, reason: f.why },
            `backend ${f.backend} of ${f.service} fails the tunnel check: ${f.why}`,
          );
        } else if (f.ok && before?.ok === false) {
          options.logger.info(
            { event: 'tunnel_check_passed', service: f.service, backend: f.backend },
            'tunnel check passes again',
          );
        }
      }
      for (const gone of findings.filter(
        (p) => !next.some((f) => f.service === p.service && f.backend === p.backend),
      )) {
        metrics.backendUp.remove({ service: gone.service, backend: gone.backend });
      }
      findings = next;
      services = served.map((s) => ({ name: s.name, ready: s.backends.length }));
    },
    notReady: () =>
      services
        .filter((s) => findings.filter((f) => f.service === s.name && f.ok).length === 0)
        .map((s) => `service ${s.name}: none of its ${s.ready} backend(s) answers through the tunnel`),
    degraded: () =>
      findings
        .filter((f) => !f.ok)
        .map((f) => `service ${f.service}: backend ${f.backend} fails the tunnel check: ${f.why}`),
    status: () => ({
      backends: Object.fromEntries(
        findings.map((f) => [`${f.service}/${f.backend}`, f.ok ? { ok: true } : { ok: false, why: f.why }]),
      ),
    }),
  };
}
