import { ConfigError } from '../errors.js';
import type { Frontend, PlaneModel, PlaneService } from './model.js';
import {
  flowMapDefinition,
  formatChain,
  formatTable,
  frontendChain,
  hookSpec,
  intentOf,
  ownerChain,
  type RenderedNftables,
  tableComment,
  tableOf,
} from './nft-table.js';
import type { NftChain, NftHook } from './nftables-forwarding.js';
import type { LiveTable } from './nftables-live.js';
import { backendMark, maglevTableOf, tunnelEndpoints, tunnelMac } from './tunnel.js';

/*
 * `forwarding: tunnel` in nftables, pure. A netdev table, because only the netdev family can
 * `fwd` a packet to another interface unchanged:
 *
 * - `ingress` (on the interfaces VIP traffic arrives on) sends each frontend's packets to its
 *   chain. That chain looks the flow up in the frontend's flow map (the LB's connection state:
 *   5-tuple -> backend, refreshed by every packet, forgotten after `flowTimeoutSeconds` idle);
 *   a flow without state takes `jhash(5-tuple, seed) mod M` into the service's Maglev map and is
 *   remembered. The packet leaves through the VXLAN device with the backend's MAC as its inner
 *   destination, the VIP still its IP destination; the device's forwarding table maps that MAC
 *   to the backend's address.
 * - `egress` (on the VXLAN device; `ownTraffic`) does the same for the LB's own connections to the
 *   VIP (routed into the device), and sends a packet carrying a backend's mark (`ping -m`) to that
 *   backend: the per-backend tunnel check.
 * - VIP traffic no frontend takes is dropped: the LB has no local VIP in this mode, so it would
 *   otherwise be routed back where it came from.
 *
 * Why not conntrack's ct mark: the LB sees one direction only, and conntrack marks the client's
 * ACK after a SYN it saw without its SYN-ACK as invalid (no entry, no mark). The flow map needs
 * no reply direction.
 */

const FLOW_KEY = (f: Frontend) => `ip saddr . ${f.protocol} sport . ip daddr . ${f.protocol} dport`;

export const flowMapName = (service: string, f: Frontend) => `flows-${service}-${f.protocol}-${f.port}`;
export const maglevMapName = (service: string) => `maglev-${service}`;
const ownChain = (service: string, f: Frontend) => `own-${service}-${f.protocol}-${f.port}`;
const BACKENDS_MAP = 'backends';

/** A duration as nft prints it: `15m`, `1h30m`, `1d`. */
export function nftDuration(seconds: number): string {
  const parts: [number, string][] = [
    [Math.floor(seconds / 86_400), 'd'],
    [Math.floor((seconds % 86_400) / 3600), 'h'],
    [Math.floor((seconds % 3600) / 60), 'm'],
    [seconds % 60, 's'],
  ];
  return parts
    .filter(([n]) => n > 0)
    .map(([n, unit]) => `${n}${unit}`)
    .join('');
}

const hex32 = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;

interface NftMap {
  readonly name: string;
  readonly declaration: readonly string[];
  readonly elements?: readonly string[];
}

function formatMap(map: NftMap): string {
  const lines = [`\tmap ${map.name} {`, ...map.declaration.map((d) => `\t\t${d}`)];
  const elements = map.elements ?? [];
  if (elements.length > 0) {
    const rows: string[] = [];
    for (let i = 0; i < elements.length; i += 4) rows.push(elements.slice(i, i + 4).join(', '));
    lines.push(`\t\telements = { ${rows.join(',\n\t\t\t     ')} }`);
  }
  lines.push('\t}');
  return lines.join('\n');
}

function refuseIpv6(model: PlaneModel): void {
  const problems = model.services.flatMap((s, i) =>
    s.frontends.some((f) => f.family === 6)
      ? [
          {
            path: `services[${i}].vip`,
            message: `${s.vip}: tunnel forwarding carries IPv4 VIPs only (use nat)`,
          },
        ]
      : [],
  );
  if (problems.length > 0)
    throw new ConfigError('dataPlane.forwarding tunnel cannot serve these VIPs', problems);
}

/** Chains of one frontend's choice: the flow's remembered backend, else its Maglev entry (remembered). */
function choiceRules(model: PlaneModel, s: PlaneService, f: Frontend, then: string): string[] {
  const key = FLOW_KEY(f);
  const flows = flowMapName(s.name, f);
  const rules = [`ether daddr set ${key} map @${flows} update @${flows} { ${key} : ether daddr } ${then}`];
  if (s.backends.length === 0) return rules; // draining only: established flows, no new ones
  const pick = `meta mark set jhash ${key} mod ${model.tableSize} seed 0x${model.seed.toString(16)} ether daddr set meta mark map @${maglevMapName(s.name)} meta mark set 0x00000000`;
  // The second form is for a full flow map: `add` fails, the flow still follows the table.
  return [...rules, `${pick} add @${flows} { ${key} : ether daddr } ${then}`, `${pick} ${then}`];
}

function mapsOf(model: PlaneModel): NftMap[] {
  const { maxFlows, flowTimeoutSeconds, ownTraffic } = model.tunnel;
  const flows = model.services.flatMap((s) =>
    s.frontends.map((f) => ({
      name: flowMapName(s.name, f),
      declaration: [
        `typeof ${FLOW_KEY(f)} : ether daddr`,
        `size ${maxFlows}`,
        'flags dynamic,timeout',
        `timeout ${nftDuration(flowTimeoutSeconds)}`,
      ],
    })),
  );
  const maglev = model.services
    .filter((s) => s.backends.length > 0)
    .map((s) => {
      const table = maglevTableOf(s, model);
      const macs = s.backends.map((b) => tunnelMac(b.address));
      return {
        name: maglevMapName(s.name),
        declaration: ['type mark : ether_addr'],
        elements: Array.from(table.entries, (e, bucket) => `${hex32(bucket)} : ${macs[e]}`),
      };
    });
  const probes = ownTraffic
    ? [
        {
          name: BACKENDS_MAP,
          declaration: ['type mark : ether_addr'],
          elements: tunnelEndpoints(model).map(
            (b) => `${hex32(backendMark(b.address))} : ${tunnelMac(b.address)}`,
          ),
        },
      ]
    : [];
  return [...flows, ...maglev, ...probes];
}

function chainsOf(model: PlaneModel): NftChain[] {
  const { device, interfaces, ownTraffic } = model.tunnel;
  const routed = model.services.filter((s) => s.backends.length + s.draining.length > 0);
  const drops = model.services.map((s) => `ip daddr ${s.vip} drop`);
  const jumps = (name: (service: string, f: Frontend) => string) =>
    routed.flatMap((s) =>
      s.frontends.map((f) => `ip daddr ${f.vip} ${f.protocol} dport ${f.port} jump ${name(s.name, f)}`),
    );
  const hook = (h: 'ingress' | 'egress', devices: readonly string[]): NftHook => ({
    type: 'filter',
    hook: h,
    priority: 'filter',
    devices,
  });
  const ingress: NftChain = {
    name: 'ingress',
    hook: hook('ingress', interfaces),
    rules: [...jumps(frontendChain), ...drops],
  };
  const perFrontend = routed.flatMap((s) =>
    s.frontends.map((f) => ({
      name: frontendChain(s.name, f),
      rules: choiceRules(model, s, f, `fwd to "${device}"`),
    })),
  );
  if (!ownTraffic) return [ingress, ...perFrontend];
  const probe = routed.map(
    (s) => `meta mark != 0x00000000 ip daddr ${s.vip} ether daddr set meta mark map @${BACKENDS_MAP} accept`,
  );
  const egress: NftChain = {
    name: 'egress',
    hook: hook('egress', [device]),
    rules: [...probe, ...jumps(ownChain), ...drops],
  };
  const own = routed.flatMap((s) =>
    s.frontends.map((f) => ({ name: ownChain(s.name, f), rules: choiceRules(model, s, f, 'accept') })),
  );
  return [ingress, egress, ...perFrontend, ...own];
}

/**
 * The transaction from the live table to this one: the flow maps stay (with their elements, the
 * established flows' backends) when their definition is unchanged, and so do base chains whose
 * hook is unchanged (their hooks stay registered, no packet passes unseen); every rule goes and
 * comes back, every other chain and map is replaced. One `nft -f`: all of it, or nothing.
 */
function transition(
  model: PlaneModel,
  body: string,
  chains: readonly NftChain[],
  maps: readonly NftMap[],
  live: LiveTable | undefined,
): string {
  if (live === undefined) return body;
  const table = tableOf('netdev');
  const baseWanted = new Map(
    chains.filter((c) => c.hook).map((c) => [c.name, hookSpec(c.hook!.hook, 0, c.hook!.devices ?? [])]),
  );
  const { maxFlows, flowTimeoutSeconds } = model.tunnel;
  const flowsWanted = new Set(maps.filter((m) => m.name.startsWith('flows-')).map((m) => m.name));
  const deletes = [
    ...Object.entries(live.chains)
      .filter(([name, hook]) => hook === undefined || baseWanted.get(name) !== hook)
      .map(([name]) => `delete chain netdev ${NFT_NAME} ${name}`),
    ...Object.entries(live.maps)
      .filter(
        ([name, definition]) =>
          !flowsWanted.has(name) || definition !== flowMapDefinition(maxFlows, flowTimeoutSeconds),
      )
      .map(([name]) => `delete map netdev ${NFT_NAME} ${name}`),
  ];
  // The table exists with its comment; nft refuses a second comment for it in one script.
  const withoutComment = body.replace(`\n${tableComment(model.owner)}`, '');
  return [table, `flush ${table}`, ...deletes, withoutComment].join('\n');
}

const NFT_NAME = 'portlb';

/** portlb's netdev table for `forwarding: tunnel`. */
export function renderTunnelTable(model: PlaneModel): RenderedNftables {
  refuseIpv6(model);
  const maps = mapsOf(model);
  const chains = chainsOf(model);
  const blocks = [...maps.map(formatMap), ...chains.map(formatChain)];
  const intent = intentOf(formatTable('netdev', model.owner, blocks));
  const owner = ownerChain(model.owner, intent);
  const all = [...chains, owner];
  const body = formatTable('netdev', model.owner, [...maps.map(formatMap), ...all.map(formatChain)]);
  return {
    family: 'netdev',
    body,
    script: body,
    scriptFor: (live) => transition(model, body, all, maps, live),
    ruleMaps: maps.filter((m) => !m.name.startsWith('flows-')).map((m) => m.name),
    intent,
    owner: model.owner,
    shape: Object.fromEntries(all.map((c) => [c.name, c.rules.length])),
  };
}
