import { type Prefix, prefix, type Span, spanOf, spansOverlap, unmappedIpv4 } from '../core/cidr.js';

/*
 * Special-purpose address ranges (the IANA IPv4 and IPv6 Special-Purpose Address Registries, plus
 * the clouds' instance service addresses) that a VIP must not capture without an explicit opt-in:
 * announcing one would take traffic a host keeps for itself (loopback, link-local, the metadata
 * server), that is not unicast (multicast, broadcast), or that means "everything" (a /0).
 *
 * Left out on purpose, so they need no opt-in: the documentation ranges (192.0.2.0/24,
 * 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32), which no network routes and every example uses;
 * private, shared (100.64.0.0/10), benchmarking and ULA space, where real VIPs live.
 */

export const SPECIAL_PURPOSE_CATEGORIES = [
  'unspecified',
  'loopback',
  'link-local',
  'cloud-metadata',
  'multicast',
  'broadcast',
  'reserved',
  'ipv4-mapped',
  'ipv4-compatible',
  'default-route',
] as const;

export type SpecialPurpose = (typeof SPECIAL_PURPOSE_CATEGORIES)[number];

interface SpecialRange {
  readonly category: SpecialPurpose;
  readonly prefix: Prefix;
  readonly span: Span;
  readonly what: string;
}

function range(category: SpecialPurpose, cidr: string, what: string): SpecialRange {
  const p = prefix(cidr);
  return { category, prefix: p, span: spanOf(p), what };
}

const RANGES: readonly SpecialRange[] = [
  range('cloud-metadata', '169.254.169.254/32', 'the cloud instance metadata address'),
  range('cloud-metadata', 'fd00:ec2::254/128', "AWS's IPv6 instance metadata address"),
  range('cloud-metadata', 'fd00:ec2::253/128', "AWS's IPv6 DNS resolver"),
  range('cloud-metadata', 'fd00:ec2::123/128', "AWS's IPv6 time service"),
  range('cloud-metadata', 'fd20:ce::254/128', "Google Cloud's IPv6 metadata address"),
  range('broadcast', '255.255.255.255/32', 'limited broadcast'),
  range('unspecified', '0.0.0.0/8', '"this network", with the unspecified address 0.0.0.0'),
  range('loopback', '127.0.0.0/8', 'loopback'),
  range('link-local', '169.254.0.0/16', 'link-local'),
  range('multicast', '224.0.0.0/4', 'multicast'),
  range('reserved', '240.0.0.0/4', 'reserved for future use'),
  range('unspecified', '::/128', 'the unspecified address'),
  range('loopback', '::1/128', 'loopback'),
  range('ipv4-compatible', '::/96', 'deprecated IPv4-compatible IPv6'),
  range('ipv4-mapped', '::ffff:0:0/96', 'IPv4-mapped IPv6'),
  range('link-local', 'fe80::/10', 'link-local'),
  range('multicast', 'ff00::/8', 'multicast'),
];

export interface SpecialMatch {
  readonly category: SpecialPurpose;
  /** `127.0.0.0/8 (loopback)`. */
  readonly range: string;
}

/**
 * The special-purpose categories of a prefix: the most specific range that holds it (so
 * 169.254.169.254/32 is `cloud-metadata`, not also `link-local`), and every range it covers
 * (`128.0.0.0/1` is link-local, multicast, reserved, broadcast...). IPv4 ranges are compared in the
 * mapped space, so the mapped form of a loopback range is loopback too; IPv6 ranges apply only to
 * IPv6 prefixes, since every IPv4 range lies inside ::ffff:0:0/96 there. A /0 is `default-route`
 * alone: it covers them all.
 */
export function specialPurposeOf(p: Prefix): SpecialMatch[] {
  if (p.length === 0) return [{ category: 'default-route', range: `${p.text} (a default route)` }];
  const span = spanOf(p);
  let holder: SpecialRange | undefined;
  const covered: SpecialRange[] = [];
  for (const r of RANGES) {
    if ((r.prefix.family === 6 && p.family !== 6) || !spansOverlap(span, r.span)) continue;
    const inside = r.span.first <= span.first && span.last <= r.span.last;
    if (!inside) covered.push(r);
    else if (holder === undefined || r.span.last - r.span.first < holder.span.last - holder.span.first)
      holder = r;
  }
  const found = new Map<SpecialPurpose, SpecialMatch>();
  for (const r of holder === undefined ? covered : [holder, ...covered]) {
    if (!found.has(r.category))
      found.set(r.category, { category: r.category, range: `${r.prefix.text} (${r.what})` });
  }
  return [...found.values()];
}

export type AddressUse = { ok: true } | { ok: false; reason: string };

/** Categories that no peer, next hop or backend can be: not one host's unicast address. */
const NEVER_A_HOST: ReadonlySet<SpecialPurpose> = new Set([
  'unspecified',
  'multicast',
  'broadcast',
  'reserved',
  'cloud-metadata',
]);

/**
 * Whether a host address (/32, /128) can be a peer, a next hop or a backend. Loopback and link-local
 * can (a backend on the LB box itself, BGP over link-local); an IPv4-mapped address is refused with
 * the IPv4 address it stands for, since peers and routes must be written in their own family.
 */
export function hostAddressUse(host: Prefix): AddressUse {
  const mapped = unmappedIpv4(host);
  if (mapped !== undefined) {
    return { ok: false, reason: `is IPv4-mapped IPv6: did you mean ${mapped.text.replace(/\/32$/, '')}?` };
  }
  const bad = specialPurposeOf(host).find((m) => NEVER_A_HOST.has(m.category));
  return bad === undefined ? { ok: true } : { ok: false, reason: `is in ${bad.range}, not a host's address` };
}
