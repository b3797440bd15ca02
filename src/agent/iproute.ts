import { z } from 'zod';
import { canonicalText } from '../core/cidr.js';
import { errorMessage, PermanentError, TransientError } from '../errors.js';
import { ip } from '../system/exec.js';
import type { OwnedRoute, RouteChange } from './diff.js';

/*
 * The node's routing table through iproute2. Routes the agent owns carry its protocol number
 * (`proto N`, `nodeAgent.routeProtocol`); it only ever lists, replaces and deletes those. A route
 * with another protocol at a VIP is a conflict: reported, never replaced. The kernel would let
 * `ip route replace` overwrite it, whatever its protocol, so a route the agent does not own yet is
 * created with `ip route add`: if another daemon put one there after the check, the kernel says
 * "File exists" and that route stays. `replace` only rewrites the route the agent owns.
 *
 * Next hops are plain `nexthop via POD_IP`, without `onlink`: the kernel then checks that the pod
 * IP is on a link of this node (the CNI's bridge subnet or per-pod veth route). `onlink` would
 * need a device per pod and accept any address, turning a wrong pod IP into a silent blackhole.
 */

/** Runs `ip` with these arguments (in the agent's netns) and returns stdout. */
export type IpRunner = (args: readonly string[]) => Promise<string>;

export interface RouteTable {
  readonly protocol: number;
  /** The routes this agent owns, IPv4 and IPv6, in the main table. */
  owned(): Promise<OwnedRoute[]>;
  /** Applies one change; throws a TransientError or PermanentError that says what to fix. */
  apply(change: RouteChange): Promise<void>;
}

/** A route to a VIP exists with another protocol: it is someone else's, so portlb leaves it. */
export class RouteConflictError extends PermanentError {
  override readonly name: string = 'RouteConflictError';
}

const hop = z.object({ gateway: z.string().optional() });
const routeJson = z.object({
  type: z.string().optional(),
  dst: z.string(),
  gateway: z.string().optional(),
  metric: z.number().optional(),
  protocol: z.union([z.string(), z.number()]).optional(),
  nexthops: z.array(hop).optional(),
});
type RouteJson = z.infer<typeof routeJson>;

function parseList(json: string, what: string): RouteJson[] {
  let items: unknown;
  try {
    items = JSON.parse(json.trim() || '[]');
  } catch (cause) {
    throw new PermanentError(`cannot parse ${what}: ${errorMessage(cause)}`, { cause });
  }
  if (!Array.isArray(items)) throw new PermanentError(`cannot parse ${what}: not a list`);
  return items.flatMap((item) => {
    const parsed = routeJson.safeParse(item);
    return parsed.success ? [parsed.data] : [];
  });
}

/** `ip` prints host routes without a length and the default route as `default`. */
function destination(dst: string, family: 4 | 6): string {
  if (dst === 'default') return family === 4 ? '0.0.0.0/0' : '::/0';
  const cidr = dst.includes('/') ? dst : `${dst}/${family === 4 ? 32 : 128}`;
  const canonical = canonicalText(cidr);
  return canonical.ok ? canonical.text : cidr;
}

/** `ip -json route show proto N` (one family) as owned routes. */
export function parseOwnedRoutes(json: string, family: 4 | 6): OwnedRoute[] {
  return parseList(json, 'ip -json route output').map((r) => ({
    vip: destination(r.dst, family),
    nexthops: (r.nexthops ? r.nexthops.map((h) => h.gateway) : [r.gateway])
      .filter((g): g is string => g !== undefined)
      .sort(),
    metric: r.metric ?? 0,
    blackhole: r.type === 'blackhole',
  }));
}

/** Protocols of the routes `ip -N -json route show exact VIP` lists that are not `protocol`. */
export function foreignProtocols(json: string, protocol: number): string[] {
  return parseList(json, 'ip -json route output')
    .map((r) => String(r.protocol ?? 'unspec'))
    .filter((p) => p !== String(protocol));
}

/** The kernel's own words at the end of an `ip` error: `Error: Nexthop has invalid gateway.` */
function kernelSays(text: string): string {
  return (text.split(/Error: |RTNETLINK answers: /).pop() ?? text).trim().replace(/\.$/, '');
}

/** Turns iproute2's complaint into an error that says what is wrong with the node, not with portlb. */
export function classifyIpError(change: RouteChange, error: unknown): Error {
  const text = errorMessage(error);
  const hops = change.kind === 'replace' ? change.nexthops.join(', ') : '';
  if (change.kind === 'replace' && change.create && /File exists/i.test(text)) {
    return new RouteConflictError(
      `${change.vip} got a route after portlb checked the table (${kernelSays(text)}): not overwritten; ` +
        'portlb only changes routes with its own protocol; the next pass looks again',
      { cause: error },
    );
  }
  if (/invalid gateway|No route to host|Network is unreachable/i.test(text)) {
    return new TransientError(
      `cannot route ${change.vip} via ${hops}: the kernel refuses a next hop (${kernelSays(text)}); ` +
        'each LB pod IP must be reachable through a link route on this node (the CNI bridge subnet or ' +
        'per-pod route); portlb does not use onlink. A CNI that routes pods through a gateway is not supported',
      { cause: error },
    );
  }
  if (/Operation not permitted|Permission denied/i.test(text)) {
    return new PermanentError(`cannot change routes: ${text} (the node agent needs CAP_NET_ADMIN)`, {
      cause: error,
    });
  }
  return new PermanentError(`${change.kind} ${change.vip} failed: ${text}`, { cause: error });
}

const familyFlag = (vip: string) => (vip.includes(':') ? '-6' : '-4');

export function createRouteTable(options: {
  readonly protocol: number;
  /** Every command runs as `ip -n NETNS ...`; the process's own namespace when absent. */
  readonly netns?: string | undefined;
  readonly run?: IpRunner;
}): RouteTable {
  const { protocol } = options;
  const proto = String(protocol);
  const run: IpRunner = options.run ?? ((args) => ip(options.netns, ...args));

  const replace = async (change: Extract<RouteChange, { kind: 'replace' }>) => {
    // `show exact` does not take the family from the prefix: without -6 an IPv6 VIP lists nothing.
    const present = await run([
      familyFlag(change.vip),
      '-N',
      '-json',
      'route',
      'show',
      'table',
      'main',
      'exact',
      change.vip,
    ]);
    const foreign = foreignProtocols(present, protocol);
    if (foreign.length > 0) {
      throw new RouteConflictError(
        `${change.vip} already has a route with protocol ${[...new Set(foreign)].join(', ')} in the main table: ` +
          `portlb only changes routes with protocol ${proto}; remove that route or use another VIP`,
      );
    }
    // No next hop: a blackhole (see diffRoutes).
    const hops = change.nexthops.flatMap((h) => ['nexthop', 'via', h]);
    const dst = hops.length > 0 ? [change.vip] : ['blackhole', change.vip];
    const verb = change.create ? 'add' : 'replace';
    await run([familyFlag(change.vip), 'route', verb, ...dst, 'table', 'main', 'proto', proto, ...hops]);
  };

  const remove = async (change: Extract<RouteChange, { kind: 'delete' }>) => {
    try {
      // `proto` in a delete is a match: the kernel will not delete another protocol's route.
      const match = ['table', 'main', 'proto', proto, 'metric', String(change.metric)];
      await run([familyFlag(change.vip), 'route', 'del', change.vip, ...match]);
    } catch (error) {
      if (/No such process/.test(errorMessage(error))) return; // already gone: the goal is met
      throw error;
    }
  };

  return {
    protocol,
    async owned() {
      const show = (family: 4 | 6) =>
        run([`-${family}`, '-json', 'route', 'show', 'table', 'main', 'proto', proto]).then((json) =>
          parseOwnedRoutes(json, family),
        );
      return [...(await show(4)), ...(await show(6))];
    },
    async apply(change) {
      try {
        if (change.kind === 'replace') await replace(change);
        else await remove(change);
      } catch (error) {
        if (error instanceof RouteConflictError) throw error;
        throw classifyIpError(change, error);
      }
    },
  };
}
