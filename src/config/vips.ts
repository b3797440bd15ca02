import { type Prefix, type Span, spanOf, unmappedIpv4 } from '../core/cidr.js';
import type { Problem } from '../errors.js';
import { type SpecialPurpose, specialPurposeOf } from './special.js';

/*
 * Where VIPs may lie: inside an allowed pool, apart from each other and from node, pod and VPC
 * ranges, and outside special-purpose ranges unless opted in. One sort and one sweep, so that
 * 50,000 services validate as fast as 5: CIDR ranges either nest or are disjoint, so after sorting
 * by first address (wider first), the ranges still open on a stack are exactly the ones that
 * contain the next. IPv4 lives at ::ffff:0:0/96 in that space (spanOf): a range written in its
 * IPv4-mapped form meets the same checks as the IPv4 range.
 */

export interface Placed {
  readonly path: string;
  /** As written: the canonical form, or the mapped form (`::ffff:10.1.1.0/120`) the operator chose. */
  readonly text: string;
  readonly prefix: Prefix;
}

export interface VipInput {
  /** One per service, in order; undefined where the VIP did not parse (the schema reports it). */
  readonly vips: readonly (Placed | undefined)[];
  /** Undefined when some pool did not parse: then no VIP is called outside the pools. */
  readonly pools: readonly Placed[] | undefined;
  /** Node, pod and VPC ranges, and the hosts portlb reaches (peers, targets, backends), no VIP may overlap. */
  readonly reserved: readonly Placed[];
  readonly allowedSpecial: ReadonlySet<SpecialPurpose>;
}

type Kind = 'vip' | 'pool' | 'reserved';

interface Item {
  readonly kind: Kind;
  /** The service index of a VIP; the list index otherwise. */
  readonly index: number;
  readonly placed: Placed;
  readonly span: Span;
}

/** Ranges of one span, and what the ranges around them hold. */
interface Frame {
  readonly last: bigint;
  readonly parent: Frame | undefined;
  /** This frame or one around it is a pool. */
  readonly inPool: boolean;
  /** The VIP listed first among this frame's and those around it. */
  readonly firstVip: Item | undefined;
  /** The nearest reserved range, in this frame or around it. */
  readonly reserved: Item | undefined;
  /** The nearest frame, this one or around it, that holds VIPs. */
  vipFrame: Frame | undefined;
  /** This frame's VIPs no overlap is reported on yet, in list order (the latest pops first). */
  readonly unflagged: Item[];
  /** This frame's VIPs no shadowed range is reported on yet. */
  readonly unshadowing: Item[];
}

function bySpan(a: Item, b: Item): number {
  if (a.span.first !== b.span.first) return a.span.first < b.span.first ? -1 : 1;
  if (a.span.last !== b.span.last) return a.span.last > b.span.last ? -1 : 1;
  return 0;
}

function listText(pools: readonly Placed[]): string {
  if (pools.length === 0) return 'none';
  const shown = pools.slice(0, 5).map((p) => p.text);
  return pools.length > 5 ? `${shown.join(', ')} and ${pools.length - 5} more` : shown.join(', ');
}

export function vipProblems(input: VipInput): Problem[] {
  const perVip: Problem[][] = input.vips.map(() => []);
  const add = (vip: Item, message: string) => perVip[vip.index]?.push({ path: vip.placed.path, message });
  // Special-purpose first: when a VIP is in one, that is what the operator should read first.
  for (const [i, vip] of input.vips.entries()) {
    if (vip !== undefined) {
      const problem = specialProblem(vip, input.allowedSpecial);
      if (problem !== undefined) perVip[i]?.push({ path: vip.path, message: problem });
    }
  }
  const items: Item[] = [];
  const push = (kind: Kind, list: readonly (Placed | undefined)[]) => {
    for (const [index, placed] of list.entries()) {
      if (placed !== undefined) items.push({ kind, index, placed, span: spanOf(placed.prefix) });
    }
  };
  push('vip', input.vips);
  push('pool', input.pools ?? []);
  push('reserved', input.reserved);
  items.sort(bySpan);

  // One message per VIP and kind at most, whatever the nesting: work stays O(n log n).
  const overlapping = new Set<Item>();
  const shadowing = new Set<Item>();
  const overlaps = (vip: Item, earlier: Item) => {
    overlapping.add(vip);
    add(vip, `${vip.placed.text} overlaps ${earlier.placed.path} (${earlier.placed.text})`);
  };
  // An opted-in default route covers every address by definition; longer routes still win.
  const coversAll = (vip: Item) =>
    vip.placed.prefix.length === 0 && input.allowedSpecial.has('default-route');
  const shadows = (vip: Item, range: Item) => {
    shadowing.add(vip);
    if (coversAll(vip)) return;
    add(
      vip,
      `${vip.placed.text} overlaps ${range.placed.path} (${range.placed.text}): a VIP must not capture node, pod or VPC addresses, nor a peer, next hop or backend portlb itself reaches`,
    );
  };
  const pools = input.pools;
  const poolText = pools === undefined ? '' : listText(pools);

  let top: Frame | undefined;
  for (let start = 0; start < items.length; ) {
    const head = items[start]!;
    let end = start + 1;
    while (end < items.length && bySpan(items[end]!, head) === 0) end++;
    const group = items.slice(start, end);
    start = end;
    while (top !== undefined && top.last < head.span.first) top = top.parent;

    const vips = group.filter((i) => i.kind === 'vip').sort((a, b) => a.index - b.index);
    const reserved = group.find((i) => i.kind === 'reserved') ?? top?.reserved;
    const inPool = (top?.inPool ?? false) || group.some((i) => i.kind === 'pool');
    const first = vips[0];
    const around = top?.firstVip;
    // This group's VIPs against each other and against the ranges around them.
    for (const vip of vips) {
      if (pools !== undefined && !inPool)
        add(vip, `${vip.placed.text} is outside allowedVipPools (${poolText})`);
      const here = first !== vip ? first : undefined;
      const earlier =
        around !== undefined && (here === undefined || around.index < here.index) ? around : here;
      if (earlier !== undefined && earlier.index < vip.index) overlaps(vip, earlier);
      if (reserved !== undefined) shadows(vip, reserved);
    }
    // The VIPs around this group, against what lies inside them.
    const range = group.find((i) => i.kind === 'reserved');
    for (
      let f = top?.vipFrame;
      f !== undefined && (first !== undefined || range !== undefined);
      f = f.parent?.vipFrame
    ) {
      while (first !== undefined && (f.unflagged.at(-1)?.index ?? -1) > first.index)
        overlaps(f.unflagged.pop()!, first);
      if (range !== undefined) for (const vip of f.unshadowing.splice(0)) shadows(vip, range);
    }
    const frame: Frame = {
      last: head.span.last,
      parent: top,
      inPool,
      firstVip: around !== undefined && (first === undefined || around.index < first.index) ? around : first,
      reserved,
      vipFrame: top?.vipFrame,
      unflagged: vips.filter((v) => !overlapping.has(v)),
      unshadowing: vips.filter((v) => !shadowing.has(v)),
    };
    if (vips.length > 0) frame.vipFrame = frame;
    top = frame;
  }

  return perVip.flat();
}

function specialProblem(vip: Placed, allowed: ReadonlySet<SpecialPurpose>): string | undefined {
  const refused = specialPurposeOf(vip.prefix).filter((m) => !allowed.has(m.category));
  if (refused.length === 0) return undefined;
  const optIn = refused.map((m) => `"${m.category}"`).join(', ');
  const mapped = unmappedIpv4(vip.prefix);
  if (mapped !== undefined && refused.length === 1 && refused[0]?.category === 'ipv4-mapped') {
    return `${vip.text} is IPv4-mapped IPv6, the IPv4 range ${mapped.text}: did you mean ${mapped.text}? (to announce it as written, add "ipv4-mapped" to allowSpecialPurposeVips)`;
  }
  const ranges = refused.map((m) => m.range).join(', ');
  return `${vip.text} overlaps special-purpose ${ranges}; to use it anyway, add ${optIn} to allowSpecialPurposeVips`;
}
