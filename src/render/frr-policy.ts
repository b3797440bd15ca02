import type { AcceptedRange, FamilyPolicy, LbPolicy } from './policy.js';

/** FRR names for the LB filter; the router and the route reflectors share them. */
export const frrNames = {
  vips: (f: 4 | 6) => `portlb-vip-v${f}`,
  nextHops: (f: 4 | 6) => `portlb-nexthop-v${f}`,
  /** Inbound from LB speakers (RR) and from the route reflectors (router). */
  vipIn: (f: 4 | 6) => `portlb-vip-in-v${f}`,
  /** Everything refused: the LB sessions are announce-only, the router sends the RRs nothing. */
  deny: 'portlb-deny',
};

const ip = (f: 4 | 6) => (f === 4 ? 'ip' : 'ipv6');

/** FRR refuses `le` equal to the prefix length (it needs len < le). */
function entry(name: string, f: 4 | 6, seq: number, range: AcceptedRange): string {
  const le = range.maxLength > range.prefix.length ? ` le ${range.maxLength}` : '';
  return `${ip(f)} prefix-list ${name} seq ${seq} permit ${range.prefix.text}${le}`;
}

function family(p: FamilyPolicy): string[] {
  const f = p.family;
  const bits = f === 4 ? 32 : 128;
  return [
    ...p.accept.map((a, i) => entry(frrNames.vips(f), f, 5 * (i + 1), a)),
    ...p.nextHops.map((h, i) => entry(frrNames.nextHops(f), f, 5 * (i + 1), { prefix: h, maxLength: bits })),
    // A route must match both lists; anything else falls through to the route-map's implicit deny.
    `route-map ${frrNames.vipIn(f)} permit 10`,
    ` match ${ip(f)} address prefix-list ${frrNames.vips(f)}`,
    ` match ${ip(f)} next-hop prefix-list ${frrNames.nextHops(f)}`,
    'exit',
  ];
}

/** The prefix-lists and route-maps of the LB filter, appended after `router bgp`. */
export function frrPolicy(policy: LbPolicy): string[] {
  return [
    '! LB filter (default deny): a VIP prefix of its own family, with a next hop where the LBs are.',
    ...policy.families.flatMap(family),
  ];
}

export const frrDenyAll = (): string[] => [`route-map ${frrNames.deny} deny 10`, 'exit'];
