import type { Config } from '../config/load.js';
import { DEFAULT_DATA_PLANE } from '../config/schema.js';
import { addressFamily, prefix } from '../core/cidr.js';
import { ConfigError } from '../errors.js';
import { CommandError } from '../system/exec.js';
import { frontendsOf } from './model.js';
import { intentOf } from './nft-table.js';
import type { Runner } from './system.js';
import { tunnelMac } from './tunnel.js';
import { parseTunnelLive, type TunnelLive } from './tunnel-device.js';
import { localRoutes } from './tunnel-writer.js';

/*
 * The backend side of `forwarding: tunnel` (`portlb backend-setup`, or the lab): what a backend
 * needs to take a tunnelled packet for the VIP and answer the client directly.
 *
 * 1. A decapsulating device: VXLAN with the tunnel's VNI and UDP port and the MAC the LBs write
 *    for this backend (02:70 + its address) for nftables; an `external` ipip device for ipvs
 *    (`lvs_method TUN` sends IPIP). The packet comes out of it unchanged, the VIP as destination.
 * 2. The VIP ranges as local routes, so the backend's stack takes the packet and its replies
 *    leave with the VIP as source, straight to the client.
 * 3. rp_filter loose or off where the tunnel enters: the client's address routes out another
 *    interface, and strict reverse-path filtering drops what comes in through the tunnel.
 * 4. A small nftables table of its own: the service port mapped to the port the backend listens
 *    on (the tunnel keeps the client's destination port; Kubernetes backends listen on their
 *    targetPort), and the MSS of its SYN-ACKs from the VIP lowered so the client's packets fit the
 *    tunnel's overhead (VXLAN: 50 bytes).
 *
 * It needs CAP_NET_ADMIN in the backend's network namespace, and a writable /proc/sys for the
 * rp_filter sysctls (or the pod's securityContext.sysctls setting them instead: see docs).
 */

export const BACKEND_TABLE = 'portlb-backend';
const aliasOf = (owner: string) => `portlb backend owner=${owner}`;
const backendMarker = (owner: string, intent: string) =>
  `managed by portlb backend-setup (owner ${owner}) rules=${intent}`;

export interface BackendSetupOptions {
  readonly config: Pick<Config, 'owner' | 'services' | 'dataPlane'>;
  /** This backend's own address (its pod IP): the tunnel's outer destination, and its MAC's source. */
  readonly address: string;
  /** The port it listens on for every service; else each service's static entry for this address, else the service port. */
  readonly port?: number | undefined;
}

export interface BackendPlan {
  readonly encap: 'vxlan' | 'ipip';
  readonly device: string;
  readonly create: readonly (readonly string[])[];
  readonly vips: readonly string[];
  /** The nftables table, one transaction (declare, delete, write). */
  readonly nft: string;
  /** The table's comment: owner and rules hash, so a rerun that would write the same rules does not. */
  readonly marker: string;
  /** sysctl name -> the value it needs at most (rp_filter: 0 off, 2 loose; 1, strict, drops). */
  readonly rpFilter: readonly string[];
}

function ownPort(options: BackendSetupOptions, service: Config['services'][number]): number | undefined {
  if (options.port !== undefined) return options.port;
  if (!('static' in service.backends)) return undefined;
  return service.backends.static.find((b) => b.address === options.address)?.port;
}

/** The backend's setup for a config, pure. */
export function planBackend(options: BackendSetupOptions): BackendPlan {
  const { config, address } = options;
  const dataPlane = config.dataPlane ?? DEFAULT_DATA_PLANE;
  if (addressFamily(address) !== 4) {
    throw new ConfigError('backend-setup needs this backend’s IPv4 address', [
      { path: '--address', message: `${address} is not an IPv4 address (tunnel forwarding carries IPv4)` },
    ]);
  }
  // As the LBs (render-tunnel.ts): the tunnel carries IPv4 VIPs only, so no IPv6 VIP is made local.
  const ipv6 = config.services.flatMap((s, i) =>
    prefix(s.vip).family === 6
      ? [{ path: `services[${i}].vip`, message: `${s.vip}: tunnel forwarding carries IPv4 VIPs only` }]
      : [],
  );
  if (ipv6.length > 0) throw new ConfigError('backend-setup cannot serve these VIPs', ipv6);
  const t = dataPlane.tunnel;
  const encap = dataPlane.kind === 'ipvs' ? 'ipip' : 'vxlan';
  const device = encap === 'vxlan' ? t.device : 'plbipip0';
  const create =
    encap === 'vxlan'
      ? [
          [
            'ip',
            'link',
            'add',
            device,
            'type',
            'vxlan',
            'id',
            String(t.vni),
            'dstport',
            String(t.port),
            'nolearning',
          ],
          ['ip', 'link', 'set', device, 'address', tunnelMac(address), 'alias', aliasOf(config.owner), 'up'],
        ]
      : [
          ['ip', 'link', 'add', device, 'type', 'ipip', 'external'],
          ['ip', 'link', 'set', device, 'alias', aliasOf(config.owner), 'up'],
        ];
  const vips = config.services.map((s) => prefix(s.vip).text);
  const v4 = config.services;
  const redirects = v4.flatMap((s) => {
    const to = ownPort(options, s);
    const frontends = frontendsOf(s).filter((f) => f.port !== to);
    if (to === undefined || frontends.length === 0) return [];
    return (['tcp', 'udp'] as const).flatMap((proto) => {
      const ports = frontends.filter((f) => f.protocol === proto).map((f) => f.port);
      if (ports.length === 0) return [];
      const set = ports.length === 1 ? String(ports[0]) : `{ ${ports.join(', ')} }`;
      return [
        `iifname "${device}" ip daddr ${prefix(s.vip).text} ${proto} dport ${set} dnat ip to ${address}:${to}`,
      ];
    });
  });
  const overhead = encap === 'vxlan' ? 50 : 20;
  const mss = Math.min(t.mss, 1500 - overhead - 40);
  const clamps = v4.map(
    (s) =>
      `ct direction reply ct original ip daddr ${prefix(s.vip).text} tcp flags & (syn | ack) == syn | ack tcp option maxseg size > ${mss} tcp option maxseg size set ${mss}`,
  );
  const table = `table inet ${BACKEND_TABLE}`;
  const rules = [...redirects, '--', ...clamps].join('\n');
  const body = [
    `${table} {`,
    `\tcomment "${backendMarker(config.owner, intentOf(rules))}"`,
    '\tchain prerouting {',
    '\t\ttype nat hook prerouting priority dstnat; policy accept;',
    ...redirects.map((r) => `\t\t${r}`),
    '\t}',
    '\tchain output {',
    '\t\ttype filter hook output priority mangle; policy accept;',
    ...clamps.map((c) => `\t\t${c}`),
    '\t}',
    '}',
  ];
  const sysctlName = (dev: string) => `net.ipv4.conf.${dev.replaceAll('.', '/')}.rp_filter`;
  return {
    encap,
    device,
    create,
    vips,
    nft: `${table}\ndelete ${table}\n${body.join('\n')}\n`,
    marker: backendMarker(config.owner, intentOf(rules)),
    rpFilter: ['net.ipv4.conf.all.rp_filter', sysctlName(device)],
  };
}

export interface BackendReport {
  readonly device: string;
  readonly changed: readonly string[];
  /** What is still missing, and how to fix it; empty when the backend can take tunnelled flows. */
  readonly problems: readonly string[];
}

function deviceMatches(plan: BackendPlan, live: TunnelLive, options: BackendSetupOptions): boolean {
  const d = live.device;
  if (d === undefined || !d.up) return false;
  if (plan.encap === 'ipip') return d.kind === 'ipip';
  const t = (options.config.dataPlane ?? DEFAULT_DATA_PLANE).tunnel;
  return d.kind === 'vxlan' && d.vni === t.vni && d.port === t.port;
}

async function readDevice(run: Runner, device: string): Promise<TunnelLive> {
  const local = await localRoutes(run);
  try {
    const link = (await run(['ip', '-j', '-d', 'link', 'show', 'dev', device])).stdout;
    return parseTunnelLive({ link, local });
  } catch (error) {
    if (error instanceof CommandError && /does not exist/.test(error.stderr))
      return parseTunnelLive({ local });
    throw error;
  }
}

async function macOf(run: Runner, device: string): Promise<string | undefined> {
  const out = (await run(['ip', '-j', 'link', 'show', 'dev', device])).stdout;
  return (JSON.parse(out) as { address?: string }[])[0]?.address;
}

/** The table's comment (nft's JSON leaves table comments out, so this reads the text). */
async function tableComment(run: Runner): Promise<string | undefined> {
  try {
    const text = (await run(['nft', '-t', 'list', 'table', 'inet', BACKEND_TABLE])).stdout;
    return /^\tcomment "([^"]*)"$/m.exec(text)?.[1];
  } catch (error) {
    if (error instanceof CommandError && /No such file or directory/.test(error.stderr)) return undefined;
    throw error;
  }
}

/**
 * Sets the backend up (idempotent: a second run changes nothing) and says what it changed and
 * what it could not. A device of that name that portlb did not create is left alone and reported.
 */
export async function setUpBackend(run: Runner, options: BackendSetupOptions): Promise<BackendReport> {
  const plan = planBackend(options);
  const changed: string[] = [];
  const problems: string[] = [];
  const live = await readDevice(run, plan.device);
  const ours = live.device?.alias === aliasOf(options.config.owner);
  const macOk =
    plan.encap === 'ipip' ||
    (await macOf(run, plan.device).catch(() => undefined)) === tunnelMac(options.address);
  if (live.device !== undefined && !ours) {
    problems.push(
      `${plan.device} exists and is not portlb's (alias ${JSON.stringify(live.device.alias ?? '')}): left alone`,
    );
  } else if (!deviceMatches(plan, live, options) || !macOk) {
    if (live.device !== undefined) await run(['ip', 'link', 'del', plan.device]);
    try {
      for (const step of plan.create) await run(step);
      changed.push(
        `${plan.device}: ${plan.encap} decapsulation${plan.encap === 'vxlan' ? `, MAC ${tunnelMac(options.address)}` : ''}`,
      );
    } catch (error) {
      problems.push(
        `cannot create ${plan.device} (${plan.encap}): ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  for (const vip of plan.vips) {
    if (live.local.includes(vip)) continue;
    await run(['ip', 'route', 'replace', 'local', vip, 'dev', 'lo']);
    changed.push(`${vip} local`);
  }
  for (const name of plan.rpFilter) {
    const value = (await run(['sysctl', '-n', name]).catch(() => ({ stdout: '' }))).stdout.trim();
    if (value === '0' || value === '2') continue;
    // Loose, not off: a packet whose source does not route anywhere is still dropped.
    const ok = await run(['sysctl', '-qw', `${name}=2`]).then(
      () => true,
      () => false,
    );
    if (ok) changed.push(`${name}=2 (was ${value || 'unreadable'})`);
    else {
      problems.push(
        `${name} is ${value || 'unreadable'} and cannot be written here: strict rp_filter drops tunnelled packets; set net.ipv4.conf.all.rp_filter and net.ipv4.conf.default.rp_filter to 2 in the pod's securityContext.sysctls`,
      );
    }
  }
  if ((await tableComment(run)) !== plan.marker) {
    await run(['nft', '-f', '-'], { input: plan.nft });
    changed.push(`table inet ${BACKEND_TABLE}`);
  }
  return { device: plan.device, changed, problems };
}

/** Takes away what `setUpBackend` made: the device (if portlb's), the local VIP routes, the table. */
export async function removeBackend(run: Runner, options: BackendSetupOptions): Promise<BackendReport> {
  const plan = planBackend(options);
  const live = await readDevice(run, plan.device);
  const changed: string[] = [];
  if (live.device?.alias === aliasOf(options.config.owner)) {
    await run(['ip', 'link', 'del', plan.device]);
    changed.push(`${plan.device} deleted`);
  }
  for (const vip of plan.vips.filter((v) => live.local.includes(v))) {
    await run(['ip', 'route', 'del', 'local', vip, 'dev', 'lo']);
    changed.push(`${vip} no longer local`);
  }
  const table = `table inet ${BACKEND_TABLE}`;
  await run(['nft', '-f', '-'], { input: `${table}\ndelete ${table}\n` });
  return { device: plan.device, changed, problems: [] };
}
