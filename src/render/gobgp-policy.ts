import ipaddr from 'ipaddr.js';
import type { Prefix } from '../core/cidr.js';
import { ConfigError } from '../errors.js';
import type { FamilyPolicy, LbPolicy } from './policy.js';

/**
 * GoBGP's config file takes `next-hop-in-list` as addresses only (ranges only through its API),
 * so the next-hop ranges are written out host by host, up to this many per family.
 */
export const MAX_GOBGP_NEXT_HOPS = 1024;

const LB_SET = 'portlb-lb';
const ROUTER_SET = 'portlb-router';
const IMPORT = 'portlb-lb-in';
const EXPORT = 'portlb-lb-out';

/** The usable host addresses of a range: no network or broadcast address where the range has them. */
export function hostAddresses(range: Prefix, limit: number): string[] | undefined {
  const width = range.family === 4 ? 32 : 128;
  const size = 1n << BigInt(width - range.length);
  const ends = size > 2n ? 1n : 0n;
  const count = size - 2n * ends + (range.family === 6 ? ends : 0n);
  if (count > BigInt(limit)) return undefined;
  const out: string[] = [];
  for (let i = 0n; i < count; i++) out.push(format(range.network + ends + i, range.family));
  return out;
}

function format(value: bigint, family: 4 | 6): string {
  const bytes: number[] = [];
  for (let i = family === 4 ? 3 : 15; i >= 0; i--) bytes.push(Number((value >> BigInt(8 * i)) & 255n));
  return ipaddr.fromByteArray(bytes).toString();
}

function nextHopList(p: FamilyPolicy): string[] {
  const hosts: string[] = [];
  for (const range of p.nextHops) {
    const these = hostAddresses(range, MAX_GOBGP_NEXT_HOPS - hosts.length);
    if (these === undefined) {
      throw new ConfigError(
        `render rr --flavor gobgp: GoBGP's config file matches next hops by address, not by range, and ${range.text} has more than ${MAX_GOBGP_NEXT_HOPS} addresses in all; use --flavor frr (which matches ranges), or a smaller node range`,
        [{ path: 'clusterNetworks', message: `${range.text}: too many next-hop addresses for gobgp` }],
      );
    }
    hosts.push(...these);
  }
  // Eight to a line keeps the TOML readable.
  const lines: string[] = [];
  for (let i = 0; i < hosts.length; i += 8) {
    lines.push(
      `        ${hosts
        .slice(i, i + 8)
        .map((h) => `"${h}"`)
        .join(', ')},`,
    );
  }
  return lines;
}

const familyName = (f: 4 | 6) => (f === 4 ? 'ipv4-unicast' : 'ipv6-unicast');
const vipSet = (f: 4 | 6) => `portlb-vip-v${f}`;

/** Goes under `[global]`: policy in GoBGP (not a route server) applies to the global RIB. */
export function gobgpApplyPolicy(): string[] {
  return [
    '[global.apply-policy.config]',
    `  import-policy-list = ["${IMPORT}"]`,
    '  default-import-policy = "reject-route"',
    `  export-policy-list = ["${EXPORT}"]`,
    '  default-export-policy = "accept-route"',
  ];
}

/** A statement's head: its name and the neighbor set it is about (where routes come from or go to). */
function statement(name: string, set: string): string[] {
  return [
    '  [[policy-definitions.statements]]',
    `    name = "${name}"`,
    '    [policy-definitions.statements.conditions.match-neighbor-set]',
    `      neighbor-set = "${set}"`,
  ];
}

const disposition = (d: 'accept-route' | 'reject-route') => [
  '    [policy-definitions.statements.actions]',
  `      route-disposition = "${d}"`,
];

/** The LB filter as GoBGP defined sets and policies (the same filter FRR renders as route-maps). */
export function gobgpPolicy(policy: LbPolicy, router: string): string[] {
  const out = [
    '# LB filter (default deny): from LB speakers only VIP prefixes of their own family with a next',
    '# hop where the LBs are; nothing from the router; nothing back to LB speakers.',
  ];
  for (const p of policy.families) {
    out.push('[[defined-sets.prefix-sets]]', `  prefix-set-name = "${vipSet(p.family)}"`);
    for (const a of p.accept) {
      out.push('  [[defined-sets.prefix-sets.prefix-list]]', `    ip-prefix = "${a.prefix.text}"`);
      if (a.maxLength > a.prefix.length)
        out.push(`    masklength-range = "${a.prefix.length}..${a.maxLength}"`);
    }
  }
  out.push(
    '[[defined-sets.neighbor-sets]]',
    `  neighbor-set-name = "${LB_SET}"`,
    `  neighbor-info-list = [${policy.listenRanges.map((r) => `"${r.text}"`).join(', ')}]`,
    '[[defined-sets.neighbor-sets]]',
    `  neighbor-set-name = "${ROUTER_SET}"`,
    `  neighbor-info-list = ["${router}"]`,
    '',
    '[[policy-definitions]]',
    `  name = "${IMPORT}"`,
  );
  for (const p of policy.families) {
    out.push(
      ...statement(`vip-v${p.family}`, LB_SET),
      '    [policy-definitions.statements.conditions.match-prefix-set]',
      `      prefix-set = "${vipSet(p.family)}"`,
      '    [policy-definitions.statements.conditions.bgp-conditions]',
      `      afi-safi-in-list = ["${familyName(p.family)}"]`,
      '      next-hop-in-list = [',
      ...nextHopList(p),
      '      ]',
      ...disposition('accept-route'),
    );
  }
  out.push(
    '',
    '[[policy-definitions]]',
    `  name = "${EXPORT}"`,
    // The router's address may lie inside the LB ranges: it is matched first.
    ...statement('to-router', ROUTER_SET),
    ...disposition('accept-route'),
    ...statement('not-to-lbs', LB_SET),
    ...disposition('reject-route'),
  );
  return out;
}
