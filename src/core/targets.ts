import type { Candidate } from './model.js';
import type { Reason } from './reasons.js';

function rankOf(candidate: Candidate): string {
  return candidate.rank ?? candidate.target;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function before(a: Candidate, b: Candidate): number {
  return compare(rankOf(a), rankOf(b)) || compare(a.target, b.target);
}

/** True when the list is already what normalizeCandidates returns: the common case, checked cheaply. */
function isNormal(candidates: readonly Candidate[]): boolean {
  for (let i = 0; i < candidates.length; i++) {
    const current = candidates[i]!;
    if (current.target === '') return false;
    if (i > 0 && before(candidates[i - 1]!, current) >= 0) return false;
    for (let j = 0; j < i; j++) if (candidates[j]!.target === current.target) return false;
  }
  return true;
}

/**
 * Collapses duplicate candidates (a target counts as healthy only when every report of it says so)
 * and orders them by rank, then target id, so that every writer makes the same choice.
 */
export function normalizeCandidates(candidates: readonly Candidate[]): readonly Candidate[] {
  if (candidates.length <= 16 && isNormal(candidates)) return candidates;
  const byTarget = new Map<string, Candidate>();
  for (const candidate of candidates) {
    if (candidate.target === '') continue;
    const seen = byTarget.get(candidate.target);
    // Unhealthy wins over healthy; on equal health the lower rank, so input order never decides.
    const replaces =
      seen === undefined ||
      (seen.healthy && !candidate.healthy) ||
      (seen.healthy === candidate.healthy && before(candidate, seen) < 0);
    if (replaces) byTarget.set(candidate.target, candidate);
  }
  return [...byTarget.values()].sort(before);
}

export type SingleChoice =
  | { readonly kind: 'keep'; readonly target: string }
  | { readonly kind: 'move'; readonly target: string; readonly reason: Reason }
  | { readonly kind: 'none'; readonly reason: Reason };

/**
 * Single-target choice: keep the current target while it is healthy and its route works; otherwise
 * the lowest-ordered healthy candidate. Keeping a healthy target is what makes a Lease handover
 * move no traffic, and what keeps a target a cloud function chose.
 */
export function chooseSingle(
  current: { target: string; usable: boolean } | undefined,
  candidates: readonly Candidate[],
): SingleChoice {
  const ordered = normalizeCandidates(candidates);
  const healthy = ordered.filter((c) => c.healthy);
  if (current !== undefined) {
    const mine = ordered.find((c) => c.target === current.target);
    if (current.usable && mine?.healthy) return { kind: 'keep', target: current.target };
    const why: Reason = !current.usable
      ? { code: 'blackhole', target: current.target }
      : mine === undefined
        ? { code: 'not_candidate', target: current.target }
        : { code: 'unhealthy', target: current.target, detail: mine.reason };
    const next = healthy.find((c) => c.target !== current.target) ?? healthy[0];
    if (next === undefined) return { kind: 'none', reason: { code: 'none_healthy', cause: why } };
    return { kind: 'move', target: next.target, reason: why };
  }
  const first = healthy[0];
  if (first === undefined) return { kind: 'none', reason: noneHealthy(ordered) };
  return { kind: 'move', target: first.target, reason: { code: 'no_route' } };
}

/** Multi-target choice: the whole healthy set, ordered. */
export function chooseMulti(candidates: readonly Candidate[]): string[] {
  const targets: string[] = [];
  for (const candidate of normalizeCandidates(candidates))
    if (candidate.healthy) targets.push(candidate.target);
  return targets;
}

/** Why no candidate is usable: there is none, or each is unhealthy (listed with its own reason). */
export function noneHealthy(ordered: readonly Candidate[]): Reason {
  if (ordered.length === 0) return { code: 'no_candidate' };
  const detail = ordered.map((c) => `${c.target}${c.reason ? ` (${c.reason})` : ''}`).join(', ');
  return { code: 'none_healthy', detail };
}
