import { z } from 'zod';
import { overlaps, prefix } from '../core/cidr.js';
import { PermanentError } from '../errors.js';
import type { PlaneModel } from './model.js';
import type { WriteReason } from './nftables-live.js';
import { tunnelEndpoints, tunnelMac } from './tunnel.js';

/*
 * The LB side of `forwarding: tunnel` outside nftables, as plain data and a pure decision: the
 * VXLAN device (`ip link`), its forwarding table (backend MAC -> backend address, `bridge fdb`),
 * and, for the LB's own connections, a route of each VIP range into the device. The steps are
 * idempotent commands; the writer runs them in order and reads everything back at the next sync.
 */

export interface TunnelLive {
  readonly device?: {
    readonly kind?: string;
    readonly vni?: number;
    readonly port?: number;
    readonly learning?: boolean;
    readonly alias?: string;
    readonly up: boolean;
    readonly noarp: boolean;
  };
  /** The device's forwarding entries that name a remote address. */
  readonly fdb: readonly { readonly mac: string; readonly dst: string }[];
  /** Destinations of the routes on the device (main table). */
  readonly routes: readonly string[];
  /** Local routes (`table local type local`) of this namespace. */
  readonly local: readonly string[];
}

const link = z.array(
  z.looseObject({
    flags: z.array(z.string()).default([]),
    ifalias: z.string().optional(),
    linkinfo: z
      .looseObject({
        info_kind: z.string().optional(),
        info_data: z
          .looseObject({
            id: z.number().optional(),
            port: z.number().optional(),
            learning: z.boolean().optional(),
          })
          .optional(),
      })
      .optional(),
  }),
);
const fdb = z.array(z.looseObject({ mac: z.string(), dst: z.string().optional() }));
const routes = z.array(z.looseObject({ dst: z.string() }));

/** `ip -j route` prints a host route without its length. */
const asPrefix = (dst: string) =>
  dst === 'default' ? '0.0.0.0/0' : dst.includes('/') ? dst : `${dst}/${dst.includes(':') ? 128 : 32}`;

function parse<T>(schema: z.ZodType<T>, text: string, what: string): T {
  const result = schema.safeParse(JSON.parse(text.trim() === '' ? '[]' : text));
  if (!result.success)
    throw new PermanentError(`${what} printed something unexpected: ${result.error.message}`);
  return result.data;
}

/** Reads `ip -j -d link show dev D`, `bridge -j fdb show dev D`, `ip -j route show dev D` and the local routes. */
export function parseTunnelLive(out: {
  readonly link?: string;
  readonly fdb?: string;
  readonly routes?: string;
  readonly local: string;
}): TunnelLive {
  const device = out.link === undefined ? undefined : parse(link, out.link, 'ip -j -d link')[0];
  const info = device?.linkinfo?.info_data;
  return {
    ...(device && {
      device: {
        kind: device.linkinfo?.info_kind,
        vni: info?.id,
        port: info?.port,
        learning: info?.learning,
        alias: device.ifalias,
        up: device.flags.includes('UP'),
        noarp: device.flags.includes('NOARP'),
      },
    }),
    fdb: parse(fdb, out.fdb ?? '[]', 'bridge -j fdb').flatMap((e) =>
      e.dst ? [{ mac: e.mac, dst: e.dst }] : [],
    ),
    routes: parse(routes, out.routes ?? '[]', 'ip -j route').map((r) => asPrefix(r.dst)),
    local: parse(routes, out.local, 'ip -j route show table local').map((r) => asPrefix(r.dst)),
  };
}

export const deviceAlias = (owner: string) => `portlb owner=${owner}`;

export type TunnelPlan =
  | { readonly action: 'refuse'; readonly reason: WriteReason }
  | {
      readonly action: 'apply';
      readonly steps: readonly (readonly string[])[];
      /** What the steps change, for the log. */
      readonly changes: readonly string[];
      /** The rules are right but the LB's own traffic cannot use them. */
      readonly notServing?: string;
    };

interface DeviceSteps {
  readonly steps: string[][];
  readonly changes: string[];
  /** The device is (re)created: it has no forwarding entries or routes yet. */
  readonly fresh: boolean;
}

function deviceSteps(model: PlaneModel, live: TunnelLive): DeviceSteps | WriteReason {
  const { device: name, vni, port } = model.tunnel;
  const d = live.device;
  const create = [
    ['ip', 'link', 'add', name, 'type', 'vxlan', 'id', String(vni), 'dstport', String(port), 'nolearning'],
    ['ip', 'link', 'set', name, 'alias', deviceAlias(model.owner)],
    // No ARP: the inner destination MAC is written by the rules, never resolved.
    ['ip', 'link', 'set', name, 'arp', 'off', 'up'],
  ];
  if (d === undefined)
    return { steps: create, changes: [`created ${name} (vxlan ${vni}, UDP ${port})`], fresh: true };
  if (d.alias !== deviceAlias(model.owner)) {
    return {
      code: 'not_owned',
      detail: `interface ${name} exists and is not portlb's (alias ${JSON.stringify(d.alias ?? '')}, not "${deviceAlias(model.owner)}"): portlb changes no interface it did not create`,
    };
  }
  if (d.kind !== 'vxlan' || d.vni !== vni || d.port !== port || d.learning !== false) {
    return {
      steps: [['ip', 'link', 'del', name], ...create],
      changes: [`recreated ${name}: vxlan ${d.vni}/UDP ${d.port} -> ${vni}/${port}`],
      fresh: true,
    };
  }
  if (!d.up || !d.noarp) return { steps: [create[2]!], changes: [`${name} set up, arp off`], fresh: false };
  return { steps: [], changes: [], fresh: false };
}

/**
 * The commands that bring the device, its forwarding table and the VIP routes to what the model
 * needs; none when all is in place. A device of that name that portlb did not create is refused.
 */
export function planTunnel(model: PlaneModel, live: TunnelLive): TunnelPlan {
  const name = model.tunnel.device;
  const device = deviceSteps(model, live);
  if ('code' in device) return { action: 'refuse', reason: device };
  const { fresh } = device;
  const have = new Map((fresh ? [] : live.fdb).map((e) => [e.mac, e.dst]));
  const want = new Map(tunnelEndpoints(model).map((b) => [tunnelMac(b.address), b.address]));
  const steps = [...device.steps];
  const changes = [...device.changes];
  // New backends first, gone ones after: a packet never finds a MAC the table lacks for a backend still in the rules.
  for (const [mac, dst] of want) {
    if (have.get(mac) !== dst) {
      steps.push(['bridge', 'fdb', 'replace', mac, 'dev', name, 'dst', dst, 'self', 'permanent']);
      changes.push(`+${dst}`);
    }
  }
  for (const [mac, dst] of have) {
    if (!want.has(mac)) {
      steps.push(['bridge', 'fdb', 'del', mac, 'dev', name, 'self']);
      changes.push(`-${dst}`);
    }
  }
  const vips = model.tunnel.ownTraffic ? model.services.map((s) => prefix(s.vip).text) : [];
  const routed = new Set(fresh ? [] : live.routes.map((r) => prefix(r).text));
  for (const vip of vips) {
    if (!routed.has(vip)) {
      steps.push(['ip', 'route', 'replace', vip, 'dev', name]);
      changes.push(`route ${vip}`);
    }
  }
  for (const r of routed) {
    if (!vips.includes(r)) {
      steps.push(['ip', 'route', 'del', r, 'dev', name]);
      changes.push(`no route ${r}`);
    }
  }
  const localVips = vips.filter((v) => live.local.some((l) => overlaps(prefix(l), prefix(v))));
  return {
    action: 'apply',
    steps,
    changes,
    ...(localVips.length > 0 && {
      notServing: `the VIP range ${localVips.join(', ')} is local in this namespace: the LB's own connections to it (health probes through the VIP, the tunnel check) stay here instead of going through the tunnel; with forwarding tunnel the LB must not take the VIP as local`,
    }),
  };
}
