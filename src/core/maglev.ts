import { jhash } from './jhash.js';

/*
 * Maglev consistent hashing (Eisenbud et al., "Maglev: A Fast and Reliable Software Network Load
 * Balancer", NSDI 2016, §3.4): a lookup table of M entries, M prime, filled from the backends'
 * permutations so that every backend gets M/N entries (±1) and a change to the backend set moves
 * about 1/N of the entries. Every LB that builds it from the same ordered list, seed and size gets
 * the same table, so a flow whose packets the router hands to another LB reaches the same backend.
 * Pure and deterministic: no I/O, no randomness beyond the seed.
 */

/** The default table size: prime, and measured (`bench/maglev.ts`) against render size and apply time. */
export const DEFAULT_TABLE_SIZE = 16_381;

export function isPrime(n: number): boolean {
  if (!Number.isInteger(n) || n < 2) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false;
  return true;
}

const encoder = new TextEncoder();

/**
 * Where a backend's permutation starts and how it steps (the paper's `offset` and `skip`), from two
 * hashes of its name under the shared seed. `skip` is in [1, M-1]: with M prime, every skip walks
 * all M entries.
 */
export function permutationOf(name: string, size: number, seed: number): { offset: number; skip: number } {
  const bytes = encoder.encode(name);
  const offset = jhash(bytes, seed) % size;
  const skip = (jhash(bytes, (seed ^ 0x9e3779b9) >>> 0) % (size - 1)) + 1;
  return { offset, skip };
}

export interface MaglevTable {
  readonly size: number;
  readonly seed: number;
  /** The backends, in the order the table's entries index. */
  readonly backends: readonly string[];
  /** entry[bucket] = index into `backends`. */
  readonly entries: Uint32Array;
}

/**
 * The paper's population: the backends take turns, each claiming the next entry of its own
 * permutation that nobody holds yet, until all M entries are taken. Turn order is the list order,
 * so the caller's canonical order decides ties. Returns entry[bucket] = backend index.
 */
export function populate(perms: readonly { offset: number; skip: number }[], size: number): Uint32Array {
  const entries = new Uint32Array(size);
  if (perms.length === 0) return entries;
  const taken = new Uint8Array(size);
  const next = new Uint32Array(perms.length);
  let filled = 0;
  for (;;) {
    for (let i = 0; i < perms.length; i++) {
      const { offset, skip } = perms[i]!;
      let c = (offset + next[i]! * skip) % size;
      while (taken[c] === 1) {
        next[i]!++;
        c = (offset + next[i]! * skip) % size;
      }
      taken[c] = 1;
      entries[c] = i;
      next[i]!++;
      filled++;
      if (filled === size) return entries;
    }
  }
}

/**
 * The table for an ordered backend list. Throws on an unusable size or duplicate names: the
 * caller checks both first (`checkTableSize`).
 */
export function buildMaglevTable(backends: readonly string[], size: number, seed: number): MaglevTable {
  const problem = checkTableSize(size, backends.length);
  if (problem !== undefined) throw new RangeError(problem);
  if (new Set(backends).size !== backends.length) throw new RangeError('Maglev backends must be distinct');
  const entries = populate(
    backends.map((b) => permutationOf(b, size, seed)),
    size,
  );
  return { size, seed, backends, entries };
}

/** Why a table of this size cannot hold this many backends, or undefined when it can. */
export function checkTableSize(size: number, backends: number): string | undefined {
  if (!isPrime(size)) return `Maglev table size ${size} is not prime`;
  if (backends >= size) return `Maglev table size ${size} must exceed the number of backends (${backends})`;
  return undefined;
}

/** The backend a bucket maps to (undefined for a table without backends). */
export const backendAt = (table: MaglevTable, bucket: number): string | undefined =>
  table.backends.length === 0 ? undefined : table.backends[table.entries[bucket]!];

/** How many entries each backend holds, in list order. */
export function entriesPerBackend(table: MaglevTable): number[] {
  const counts = new Array<number>(table.backends.length).fill(0);
  for (const e of table.entries) counts[e] = (counts[e] ?? 0) + 1;
  return counts;
}

/**
 * The share of buckets whose backend differs between two tables of the same size: the share of
 * new flows that a change sends elsewhere (established flows keep theirs through the LB's state).
 */
export function movedFraction(before: MaglevTable, after: MaglevTable): number {
  if (before.size !== after.size) throw new RangeError('tables of different sizes cannot be compared');
  let moved = 0;
  for (let bucket = 0; bucket < before.size; bucket++) {
    if (backendAt(before, bucket) !== backendAt(after, bucket)) moved++;
  }
  return moved / before.size;
}

/**
 * A short fingerprint of a table's content (size, seed, backend names, entries): two LBs whose
 * fingerprints differ would send some flow to different backends. 64 bits from two seeded hashes.
 */
export function tableFingerprint(table: MaglevTable): string {
  const names = encoder.encode(table.backends.join('\n'));
  // Little-endian words written explicitly, so the fingerprint is the same on any CPU.
  const bytes = new Uint8Array(12 + names.length + 4 * table.size);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, table.size, true);
  view.setUint32(4, table.seed, true);
  view.setUint32(8, names.length, true);
  bytes.set(names, 12);
  for (let i = 0; i < table.size; i++) view.setUint32(12 + names.length + 4 * i, table.entries[i]!, true);
  const hi = jhash(bytes, 0x6d61676c);
  const lo = jhash(bytes, 0x65762121);
  return `${hi.toString(16).padStart(8, '0')}${lo.toString(16).padStart(8, '0')}`;
}
