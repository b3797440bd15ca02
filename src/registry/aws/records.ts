import { createHash } from 'node:crypto';
import { canonicalText } from '../../core/cidr.js';
import { MAX_TAGS_PER_RESOURCE } from '../../providers/aws/tables.js';

/*
 * Route records: which routes portlb created in a managed table, kept as tags on that table
 * because single EC2 routes cannot carry tags (external-dns keeps a TXT record beside each record
 * for the same reason). A route whose VIP is recorded stays portlb's after its VIP leaves the
 * config, so it can be deleted rather than left pointing at an ENI that may later serve something
 * else.
 *
 *   key    portlb.io/routes/<owner>/<12 hex of SHA-256 over the value>   at most 17 + 63 + 1 + 12 = 93 of 128 chars
 *   value  <vip> <vip> ...   canonical CIDRs, sorted, space-separated, at most 256 chars
 *   e.g.   portlb.io/routes/portlb/5d2c0f7a91be = 192.0.2.0/24 198.51.100.16/28 2001:db8:1::/64
 *
 * Packed, because EC2 allows 50 tags per resource and candidacies live on the same tables: one tag
 * per VIP would cap a table at a few dozen VIPs, packed ones hold about 16 IPv4 or 5 IPv6 VIPs each.
 * The VIPs sit in the value, where CIDR text (`.`, `:`, `/`, hex digits) is allowed by every AWS
 * tag checker, and the key is a hash of the value, so a record tag never changes once written:
 * adding a VIP writes a new tag, removing one writes the rest anew and then deletes the old tag.
 * Writers racing with different sets therefore never overwrite each other (EC2 has no conditional
 * tag write); at worst a VIP stays recorded a pass longer. A VIP is recorded when any tag lists it.
 */

export const ROUTE_RECORD_PREFIX = 'portlb.io/routes/';
const MAX_VALUE = 256;
const HASH_CHARS = 12;

/** One table's records: the tags as found, and the union of their VIPs. */
export interface TableRecords {
  /** Record tag key -> its VIPs (canonical), as read. */
  readonly chunks: ReadonlyMap<string, readonly string[]>;
  readonly vips: ReadonlySet<string>;
  /** Record tags that do not parse: reported, never trusted for ownership. */
  readonly problems: readonly { key: string; message: string }[];
}

export function recordKey(owner: string, value: string): string {
  const hash = createHash('sha256').update(value).digest('hex').slice(0, HASH_CHARS);
  return `${ROUTE_RECORD_PREFIX}${owner}/${hash}`;
}

/** Reads this owner's route records from one table's tags. */
export function decodeRecords(tags: Readonly<Record<string, string>>, owner: string): TableRecords {
  const prefix = `${ROUTE_RECORD_PREFIX}${owner}/`;
  const chunks = new Map<string, string[]>();
  const vips = new Set<string>();
  const problems: { key: string; message: string }[] = [];
  for (const [key, value] of Object.entries(tags)) {
    if (!key.startsWith(prefix)) continue;
    const parsed = value
      .split(' ')
      .filter((v) => v !== '')
      .map(canonicalText);
    const bad = parsed.find((p) => !p.ok);
    if (bad !== undefined && !bad.ok) {
      problems.push({ key, message: `not a list of CIDRs: ${bad.reason}` });
      continue;
    }
    const list = parsed.flatMap((p) => (p.ok ? [p.text] : []));
    chunks.set(key, list);
    for (const vip of list) vips.add(vip);
  }
  return { chunks, vips, problems };
}

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The record tags that hold exactly `target`, changing as few of the `existing` ones as it can:
 * an existing tag stays when all its VIPs are still wanted (and it is at least half full: smaller
 * ones are merged with whatever is written anyway); the rest is packed anew, sorted, in values of
 * at most 256 characters. Deterministic, so writers with the same view write the same tags.
 */
export function packRecords(
  owner: string,
  target: ReadonlySet<string>,
  existing: ReadonlyMap<string, readonly string[]>,
): Map<string, string> {
  const out = new Map<string, string>();
  const covered = new Set<string>();
  for (const key of [...existing.keys()].sort(byText)) {
    const vips = existing.get(key) ?? [];
    const value = vips.join(' ');
    const keep =
      vips.length > 0 &&
      key === recordKey(owner, value) && // a hand-edited tag is rewritten properly
      value.length >= MAX_VALUE / 2 &&
      vips.every((v) => target.has(v) && !covered.has(v));
    if (!keep) continue;
    out.set(key, value);
    for (const v of vips) covered.add(v);
  }
  let value = '';
  const flush = () => {
    if (value !== '') out.set(recordKey(owner, value), value);
    value = '';
  };
  for (const vip of [...target].filter((v) => !covered.has(v)).sort(byText)) {
    if (value !== '' && value.length + 1 + vip.length > MAX_VALUE) flush();
    value = value === '' ? vip : `${value} ${vip}`;
  }
  flush();
  return out;
}

/** Going from one set of record tags to another: what to create (first) and delete (after). */
export interface RecordStep {
  readonly create: readonly { Key: string; Value: string }[];
  readonly remove: readonly string[];
}

export function recordStep(from: ReadonlyMap<string, unknown>, to: ReadonlyMap<string, string>): RecordStep {
  return {
    create: [...to]
      .filter(([key]) => !from.has(key))
      .map(([Key, Value]) => ({ Key, Value }))
      .sort((a, b) => byText(a.Key, b.Key)),
    remove: [...from.keys()].filter((key) => !to.has(key)).sort(byText),
  };
}

/** Tags a table holds at the peak of this step (new tags go in before old ones come out). */
export function peakTags(tagCount: number, step: RecordStep): number {
  return tagCount + step.create.length;
}

export function tagLimitMessage(table: string, tagCount: number, step: RecordStep, vips: string): string {
  return `route table ${table} has ${tagCount} tags and recording ${vips} needs ${step.create.length} more before ${step.remove.length} can go (${peakTags(tagCount, step)} > ${MAX_TAGS_PER_RESOURCE}, the EC2 limit per resource); its routes are left unchanged: remove unused tags from it, or route fewer VIPs through it`;
}

export function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((v) => b.has(v));
}
