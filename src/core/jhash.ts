/*
 * Bob Jenkins' lookup3 hash as the Linux kernel implements it (`include/linux/jhash.h`), and
 * nftables' `jhash ... mod M seed S` on top of it. Written here so that portlb can say, without
 * the kernel, which Maglev bucket a flow falls into: the same 16 bytes, the same seed, the same
 * scaling as `nft_jhash_eval`. Pure.
 */

const INITVAL = 0xdeadbeef;

const rol = (x: number, k: number) => ((x << k) | (x >>> (32 - k))) >>> 0;

/** The kernel reads 32-bit words in CPU order: little-endian on x86-64 and arm64. */
const word = (k: Uint8Array, at: number) =>
  ((k[at] ?? 0) | ((k[at + 1] ?? 0) << 8) | ((k[at + 2] ?? 0) << 16) | ((k[at + 3] ?? 0) << 24)) >>> 0;

function mix(s: [number, number, number]): void {
  let [a, b, c] = s;
  a = (a - c) >>> 0;
  a = (a ^ rol(c, 4)) >>> 0;
  c = (c + b) >>> 0;
  b = (b - a) >>> 0;
  b = (b ^ rol(a, 6)) >>> 0;
  a = (a + c) >>> 0;
  c = (c - b) >>> 0;
  c = (c ^ rol(b, 8)) >>> 0;
  b = (b + a) >>> 0;
  a = (a - c) >>> 0;
  a = (a ^ rol(c, 16)) >>> 0;
  c = (c + b) >>> 0;
  b = (b - a) >>> 0;
  b = (b ^ rol(a, 19)) >>> 0;
  a = (a + c) >>> 0;
  c = (c - b) >>> 0;
  c = (c ^ rol(b, 4)) >>> 0;
  b = (b + a) >>> 0;
  s[0] = a;
  s[1] = b;
  s[2] = c;
}

function final(s: [number, number, number]): number {
  let [a, b, c] = s;
  c = ((c ^ b) - rol(b, 14)) >>> 0;
  a = ((a ^ c) - rol(c, 11)) >>> 0;
  b = ((b ^ a) - rol(a, 25)) >>> 0;
  c = ((c ^ b) - rol(b, 16)) >>> 0;
  a = ((a ^ c) - rol(c, 4)) >>> 0;
  b = ((b ^ a) - rol(a, 14)) >>> 0;
  c = ((c ^ b) - rol(b, 24)) >>> 0;
  return c;
}

/** `jhash(key, length, initval)` of the kernel, for any byte length. */
export function jhash(key: Uint8Array, initval: number): number {
  let length = key.length;
  const start = (INITVAL + length + initval) >>> 0;
  const s: [number, number, number] = [start, start, start];
  let at = 0;
  while (length > 12) {
    s[0] = (s[0] + word(key, at)) >>> 0;
    s[1] = (s[1] + word(key, at + 4)) >>> 0;
    s[2] = (s[2] + word(key, at + 8)) >>> 0;
    mix(s);
    length -= 12;
    at += 12;
  }
  if (length === 0) return s[2];
  // The tail: bytes past the end count as zero, which is what the kernel's fall-through adds.
  s[0] = (s[0] + word(key.subarray(at, at + Math.min(4, length)), 0)) >>> 0;
  if (length > 4) s[1] = (s[1] + word(key.subarray(at + 4, at + Math.min(8, length)), 0)) >>> 0;
  if (length > 8) s[2] = (s[2] + word(key.subarray(at + 8, at + length), 0)) >>> 0;
  return final(s);
}

/** The kernel's `reciprocal_scale`: `(hash * modulus) >> 32`, what nft's `mod M` computes. */
export const reciprocalScale = (hash: number, modulus: number): number =>
  Math.floor((hash * modulus) / 2 ** 32);

/** A flow as nftables hashes it: IPv4 source, source port, destination, destination port. */
export interface FlowTuple {
  readonly saddr: string;
  readonly sport: number;
  readonly daddr: string;
  readonly dport: number;
}

/** A dotted-quad IPv4 address as its four bytes; a RangeError for anything else. */
export function ipv4Bytes(address: string): number[] {
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new RangeError(`${address} is not an IPv4 address`);
  }
  return parts;
}

/**
 * The 16 bytes `jhash ip saddr . tcp sport . ip daddr . tcp dport` hashes: each part of the
 * concatenation sits in its own 32-bit register, network byte order, a port padded with zeros.
 */
export function flowKeyBytes(flow: FlowTuple): Uint8Array {
  return Uint8Array.from([
    ...ipv4Bytes(flow.saddr),
    flow.sport >> 8,
    flow.sport & 0xff,
    0,
    0,
    ...ipv4Bytes(flow.daddr),
    flow.dport >> 8,
    flow.dport & 0xff,
    0,
    0,
  ]);
}

/** The bucket nftables computes for a flow: `jhash <flow> mod modulus seed seed`. */
export const flowBucket = (flow: FlowTuple, modulus: number, seed: number): number =>
  reciprocalScale(jhash(flowKeyBytes(flow), seed), modulus);
