import { CommandError } from '../system/exec.js';
import type { ApplyOutcome, RuleWriter } from './port.js';
import type { Runner } from './system.js';
import { parseTunnelLive, planTunnel, type TunnelLive } from './tunnel-device.js';

const absent = (error: unknown) =>
  error instanceof CommandError && /does not exist|Cannot find device/.test(error.stderr);

/** The namespace's local routes (JSON); none while no interface is up (the table does not exist yet). */
export async function localRoutes(run: Runner): Promise<string> {
  try {
    return (await run(['ip', '-j', 'route', 'show', 'table', 'local', 'type', 'local'])).stdout;
  } catch (error) {
    if (error instanceof CommandError && /FIB table does not exist/.test(error.stderr)) return '[]';
    throw error;
  }
}

/** The device, its forwarding table, its routes and the namespace's local routes, as they are now. */
export async function readTunnelLive(run: Runner, device: string): Promise<TunnelLive> {
  const local = await localRoutes(run);
  let link: string;
  try {
    link = (await run(['ip', '-j', '-d', 'link', 'show', 'dev', device])).stdout;
  } catch (error) {
    if (absent(error)) return parseTunnelLive({ local });
    throw error;
  }
  const fdb = (await run(['bridge', '-j', 'fdb', 'show', 'dev', device])).stdout;
  const routes = (await run(['ip', '-j', 'route', 'show', 'dev', device])).stdout;
  return parseTunnelLive({ link, fdb, routes, local });
}

/**
 * `forwarding: tunnel`, the part beside nftables: the VXLAN device, one forwarding entry per
 * backend (its MAC -> its address) and the VIP routes for the LB's own traffic. It runs before the
 * nftables writer, so a backend's entry exists before a rule can send a flow to it.
 */
export function createTunnelWriter(run: Runner): RuleWriter {
  let synced = false;
  return {
    name: 'tunnel',
    async sync(model): Promise<ApplyOutcome> {
      const plan = planTunnel(model, await readTunnelLive(run, model.tunnel.device));
      if (plan.action === 'refuse') return { action: 'refused', reason: plan.reason };
      for (const step of plan.steps) await run(step);
      const notServing = plan.notServing && { notServing: plan.notServing };
      const first = !synced;
      synced = true;
      if (plan.steps.length > 0) {
        return {
          action: 'applied',
          reason: { code: 'tunnel_changed', detail: plan.changes.join(', ') },
          ...notServing,
        };
      }
      return first
        ? {
            action: 'adopted',
            reason: { code: 'adopted', detail: `${model.tunnel.device} already in place` },
            ...notServing,
          }
        : { action: 'unchanged', reason: { code: 'unchanged', detail: '' }, ...notServing };
    },
  };
}
