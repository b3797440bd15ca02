import ipaddr from 'ipaddr.js';

/** A parsed CIDR prefix. `text` is the canonical form (`10.1.1.0/24`, `2001:db8::/64`). */
export interface Prefix {
  readonly text: string;
  readonly family: 4 | 6;
  readonly length: number;
  /** The network address as a big integer, for overlap tests. */
  readonly network: bigint;
}

export type PrefixResult = { ok: true; prefix: Prefix } | { ok: false; reason: string };

function toBigInt(bytes: number[]): bigint {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return value;
}

function familyBits(family: 4 | 6): number {
  return family === 4 ? 32 : 128;
}

const IPV4_CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/**
 * The common case, dotted-quad IPv4, without the general parser: the planner canonicalises every
 * VIP it reads, tens of thousands per pass. Returns undefined to defer to the general parser
 * (which refuses leading zeros, that some parsers read as octal, and anything unusual).
 */
function parseIpv4Fast(input: string): PrefixResult | undefined {
  const match = IPV4_CIDR.exec(input);
  if (match === null) return undefined;
  const parts = match.slice(1, 5);
  if (parts.some((p) => p.length > 1 && p.startsWith('0'))) return undefined;
  const octets = parts.map(Number);
  const length = Number(match[5]);
  if (octets.some((o) => o > 255) || length > 32) return undefined;
  const value = ((octets[0]! << 24) >>> 0) + (octets[1]! << 16) + (octets[2]! << 8) + octets[3]!;
  const mask = length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
  const network = (value & mask) >>> 0;
  const text = `${network >>> 24}.${(network >>> 16) & 255}.${(network >>> 8) & 255}.${network & 255}/${length}`;
  if (network !== value) return { ok: false, reason: `"${input}" has host bits set; did you mean ${text}?` };
  return { ok: true, prefix: { text, family: 4, length, network: BigInt(network) } };
}

export type CanonicalResult = { ok: true; text: string } | { ok: false; reason: string };

/**
 * The canonical text of a prefix, or why it has none. Cheaper than parsePrefix for the planner's
 * hot path: a dotted-quad IPv4 prefix that is already canonical comes back as itself.
 */
export function canonicalText(input: string): CanonicalResult {
  const match = IPV4_CIDR.exec(input);
  if (match !== null) {
    const octets = [Number(match[1]), Number(match[2]), Number(match[3]), Number(match[4])];
    const length = Number(match[5]);
    const plain = octets.every((o, i) => o <= 255 && String(o) === match[i + 1]);
    if (plain && length <= 32) {
      const value = ((octets[0]! << 24) >>> 0) + (octets[1]! << 16) + (octets[2]! << 8) + octets[3]!;
      const mask = length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
      if ((value & mask) >>> 0 === value && String(length) === match[5]) return { ok: true, text: input };
    }
  }
  const parsed = parsePrefix(input);
  return parsed.ok ? { ok: true, text: parsed.prefix.text } : parsed;
}

const DOTTED_TAIL = /^(.*:)(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/**
 * IPv6 text whose last 32 bits are written as a dotted quad (`::10.1.1.0`, `::ffff:10.1.1.0`), with
 * those bits in hex instead. ipaddr.js reads every `::a.b.c.d` as IPv4-mapped (`::ffff:a.b.c.d`),
 * which would make the IPv4-compatible `::10.1.1.0/120` and the mapped range one and the same.
 */
function hexTail(text: string): string {
  const match = DOTTED_TAIL.exec(text);
  if (match === null) return text;
  const [a, b, c, d] = match.slice(2, 6).map(Number) as [number, number, number, number];
  if ([a, b, c, d].some((o) => o > 255)) return text;
  return `${match[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
}

/**
 * Parses `a.b.c.d/n` or `x::/n`. A prefix with host bits set (`10.1.1.5/24`) is refused rather than
 * silently masked: announcing a different range than the operator wrote would be a surprise.
 */
export function parsePrefix(input: string): PrefixResult {
  const fast = parseIpv4Fast(input);
  if (fast !== undefined) return fast;
  if (!input.includes('/'))
    return { ok: false, reason: `"${input}" is not a CIDR (expected address/length)` };
  // ipaddr.js also accepts octal (`010.1.1.0`), hex and single-integer IPv4, silently meaning
  // another range than the operator wrote: only dotted decimal is a VIP.
  const written = input.slice(0, input.lastIndexOf('/'));
  if (!written.includes(':') && !ipaddr.IPv4.isValidFourPartDecimal(written)) {
    return { ok: false, reason: `"${input}" is not a valid CIDR (IPv4 must be four decimal octets)` };
  }
  let parsed: [ipaddr.IPv4 | ipaddr.IPv6, number];
  try {
    parsed = ipaddr.parseCIDR(
      written.includes('.') ? `${hexTail(written)}${input.slice(written.length)}` : input,
    );
  } catch {
    return { ok: false, reason: `"${input}" is not a valid CIDR` };
  }
  const [address, length] = parsed;
  const family = address.kind() === 'ipv4' ? 4 : 6;
  const bits = familyBits(family);
  const value = toBigInt(address.toByteArray());
  const hostMask = (1n << BigInt(bits - length)) - 1n;
  const network = value & ~hostMask;
  const canonicalAddress =
    family === 4
      ? ipaddr.IPv4.networkAddressFromCIDR(input).toString()
      : ipaddr.IPv6.networkAddressFromCIDR(input).toString();
  const text = `${canonicalAddress}/${length}`;
  if (network !== value) {
    return { ok: false, reason: `"${input}" has host bits set; did you mean ${text}?` };
  }
  return { ok: true, prefix: { text, family, length, network } };
}

/** Parses a prefix that is known to be valid (from validated config); throws on a programming error. */
export function prefix(input: string): Prefix {
  const result = parsePrefix(input);
  if (!result.ok) throw new TypeError(result.reason);
  return result.prefix;
}

export function isAddress(input: string): boolean {
  return ipaddr.isValid(input) && (ipaddr.IPv4.isValidFourPartDecimal(input) || ipaddr.IPv6.isValid(input));
}

export function addressFamily(input: string): 4 | 6 | undefined {
  if (!isAddress(input)) return undefined;
  return ipaddr.parse(input).kind() === 'ipv4' ? 4 : 6;
}

/** True when `outer` contains every address of `inner`. */
export function contains(outer: Prefix, inner: Prefix): boolean {
  if (outer.family !== inner.family || outer.length > inner.length) return false;
  const shift = BigInt(familyBits(outer.family) - outer.length);
  return inner.network >> shift === outer.network >> shift;
}

export function overlaps(a: Prefix, b: Prefix): boolean {
  return contains(a, b) || contains(b, a);
}

/** True when the address lies inside the prefix. */
export function containsAddress(outer: Prefix, address: string): boolean {
  const family = addressFamily(address);
  if (family === undefined) return false;
  const host = prefix(`${address}/${familyBits(family)}`);
  return contains(outer, host);
}

const MAPPED_PREFIX = 0xffffn << 32n; // ::ffff:0:0/96, where IPv4 lives inside IPv6
const IPV4_SPACE = (1n << 32n) - 1n;

function ipv4Text(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}

/**
 * The IPv4 range an IPv4-mapped IPv6 prefix stands for (`::ffff:10.1.1.0/120` -> `10.1.1.0/24`);
 * undefined for every other prefix. Traffic to a mapped address is IPv4 on the wire.
 */
export function unmappedIpv4(p: Prefix): Prefix | undefined {
  if (p.family !== 6 || p.length < 96 || p.network >> 32n !== 0xffffn) return undefined;
  const value = Number(p.network & IPV4_SPACE);
  const length = p.length - 96;
  return { text: `${ipv4Text(value)}/${length}`, family: 4, length, network: BigInt(value) };
}

/** A prefix's first and last address in one 128-bit space: IPv4 as its mapped IPv6 form. */
export interface Span {
  readonly first: bigint;
  readonly last: bigint;
}

/**
 * Where a prefix lies once IPv4 is placed at ::ffff:0:0/96, as dual-stack sockets place it: there
 * `10.1.1.0/24` and `::ffff:10.1.1.0/120` are one range, so overlap tests cannot be sidestepped by
 * writing an IPv4 range in its mapped form.
 */
export function spanOf(p: Prefix): Span {
  const first = p.family === 4 ? MAPPED_PREFIX | p.network : p.network;
  const hostBits = BigInt((p.family === 4 ? 32 : 128) - p.length);
  return { first, last: first | ((1n << hostBits) - 1n) };
}

/** True when the two spans share an address (CIDR spans either nest or are disjoint). */
export function spansOverlap(a: Span, b: Span): boolean {
  return a.first <= b.last && b.first <= a.last;
}

export type AddressResult = { ok: true; text: string; host: Prefix } | { ok: false; reason: string };

/**
 * An IPv4 (dotted decimal) or IPv6 address: its canonical text (a zone such as `%eth0` kept) and
 * itself as a host prefix (/32, /128), for comparisons.
 */
export function parseAddress(input: string): AddressResult {
  if (!isAddress(input)) return { ok: false, reason: `"${input}" is not an IPv4 or IPv6 address` };
  const zoneAt = input.indexOf('%');
  const bare = zoneAt < 0 ? input : input.slice(0, zoneAt);
  const parsed = parsePrefix(`${bare}/${bare.includes(':') ? 128 : 32}`);
  if (!parsed.ok) return parsed;
  const text = parsed.prefix.text.slice(0, parsed.prefix.text.lastIndexOf('/'));
  return { ok: true, text: zoneAt < 0 ? text : `${text}${input.slice(zoneAt)}`, host: parsed.prefix };
}
