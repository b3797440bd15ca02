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
    parsed = ipaddr.parseCIDR(input);
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
