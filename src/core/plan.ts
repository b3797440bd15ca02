import { canonicalText } from './cidr.js';
import type { Candidate, Change, DesiredRoute, ObservedRoute, Plan, PlanOptions, Skipped } from './model.js';
import { type Reason, reasonText } from './reasons.js';
import { chooseMulti, chooseSingle, noneHealthy, normalizeCandidates } from './targets.js';

interface DesiredVip {
  readonly vip: string;
  readonly service: string;
  readonly candidates: readonly Candidate[];
}

interface Slot {
  readonly owned: ObservedRoute[];
  readonly foreign: ObservedRoute[];
}

const EMPTY_SLOT: Slot = Object.freeze({ owned: [], foreign: [] });

interface Out {
  readonly changes: Change[];
  readonly skipped: Skipped[];
}

/** Make before break: within one destination, new routes go in before old ones come out. */
const changeOrder = { create: 0, replace: 1, delete: 2 } as const;

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function byDestination(a: { table?: string; vip: string }, b: typeof a): number {
  return compare(a.table ?? '', b.table ?? '') || compare(a.vip, b.vip);
}

/** Canonical VIP text, parsed once per distinct string within one plan (observed repeats each VIP per target). */
type Canonicalizer = (vip: string) => ReturnType<typeof canonicalText>;

function canonicalizer(): Canonicalizer {
  const seen = new Map<string, ReturnType<typeof canonicalText>>();
  return (vip) => {
    let result = seen.get(vip);
    if (result === undefined) {
      result = canonicalText(vip);
      seen.set(vip, result);
    }
    return result;
  };
}

/** Merges desired routes per canonical VIP; odd input becomes a skipped entry, never an exception. */
function collectDesired(
  desired: readonly DesiredRoute[],
  canonical: Canonicalizer,
  skipped: Skipped[],
): Map<string, DesiredVip> {
  const result = new Map<string, DesiredVip>();
  const sharedBy = new Map<string, string[]>(); // VIP -> services, only for VIPs wanted twice
  for (const route of desired) {
    const parsed = canonical(route.vip);
    if (!parsed.ok) {
      skipped.push({ vip: route.vip, reason: { code: 'invalid_vip', detail: parsed.reason } });
      continue;
    }
    const vip = parsed.text;
    const entry = result.get(vip);
    if (entry === undefined) {
      const candidates = normalizeCandidates(route.candidates);
      // Usually already canonical and ordered: keep the caller's object rather than copy it.
      const same = vip === route.vip && candidates === route.candidates;
      result.set(vip, same ? route : { vip, service: route.service, candidates });
      continue;
    }
    const services = sharedBy.get(vip) ?? [entry.service];
    services.push(route.service);
    sharedBy.set(vip, services);
    result.set(vip, {
      ...entry,
      candidates: normalizeCandidates([...entry.candidates, ...route.candidates]),
    });
  }
  for (const [vip, services] of sharedBy) {
    skipped.push({ vip, reason: { code: 'shared_vip', detail: services.join(', ') } });
  }
  return result;
}

/** Groups observed routes by table and canonical VIP; routes outside the managed tables are left alone. */
function collectObserved(
  observed: readonly ObservedRoute[],
  options: PlanOptions,
  canonical: Canonicalizer,
  skipped: Skipped[],
): Map<string, Map<string, Slot>> {
  const tables = new Map<string, Map<string, Slot>>(options.tables.map((t) => [t, new Map()]));
  for (const route of observed) {
    const slots = tables.get(route.table);
    if (slots === undefined) {
      if (route.owner === options.owner) {
        skipped.push({
          table: route.table,
          vip: route.vip,
          target: route.target,
          reason: { code: 'table_not_managed' },
        });
      }
      continue;
    }
    const parsed = canonical(route.vip);
    if (!parsed.ok) continue; // not a destination portlb could have written
    const vip = parsed.text;
    let slot = slots.get(vip);
    if (slot === undefined) {
      slot = { owned: [], foreign: [] };
      slots.set(vip, slot);
    }
    (route.owner === options.owner ? slot.owned : slot.foreign).push(
      route.vip === vip ? route : { ...route, vip },
    );
  }
  return tables;
}

/** Someone else's routes beside (or instead of) portlb's: left alone, and listed as such. */
function listForeign(table: string, vip: string, routes: readonly ObservedRoute[], out: Out): void {
  for (const route of routes) {
    out.skipped.push({ table, vip, target: route.target, reason: { code: 'foreign', detail: route.owner } });
  }
}

function planSingle(table: string, want: DesiredVip, slot: Slot, options: PlanOptions, out: Out): void {
  const { vip } = want;
  const policy = options.policy ?? 'sync';
  const owned = [...slot.owned].sort(
    (a, b) =>
      compare(a.state === 'active' ? '0' : '1', b.state === 'active' ? '0' : '1') ||
      compare(a.target, b.target),
  );
  const current = owned[0];
  for (const extra of owned.slice(1)) {
    out.skipped.push({
      table,
      vip,
      target: extra.target,
      reason: { code: 'duplicate_observed' },
    });
  }
  if (current === undefined && slot.foreign.length > 0) {
    // The lowest-ordered foreign route names the holder, so input order never decides.
    const [holder, ...others] = [...slot.foreign].sort(
      (a, b) => compare(a.target, b.target) || compare(a.owner ?? '', b.owner ?? ''),
    );
    out.skipped.push({
      table,
      vip,
      target: holder?.target,
      reason: { code: 'foreign_holder', detail: holder?.owner },
    });
    listForeign(table, vip, others, out);
    return;
  }
  listForeign(table, vip, slot.foreign, out);
  const choice = chooseSingle(
    current && { target: current.target, usable: current.state === 'active' },
    want.candidates,
  );
  if (choice.kind === 'keep') return;
  if (choice.kind === 'none') {
    if (current !== undefined && (options.whenNoneHealthy ?? 'keep') === 'withdraw' && policy === 'sync') {
      out.changes.push({
        kind: 'delete',
        table,
        vip,
        target: current.target,
        reason: choice.reason,
        id: current.id,
      });
      return;
    }
    const reason: Reason = current
      ? { code: 'kept', target: current.target, cause: choice.reason }
      : choice.reason;
    out.skipped.push({ table, vip, target: current?.target, reason });
    return;
  }
  if (current === undefined) {
    out.changes.push({ kind: 'create', table, vip, target: choice.target, reason: choice.reason });
  } else if (policy === 'create-only') {
    out.skipped.push({
      table,
      vip,
      target: current.target,
      reason: { code: 'policy', detail: policy, cause: choice.reason },
    });
  } else {
    out.changes.push({
      kind: 'replace',
      table,
      vip,
      from: current.target,
      target: choice.target,
      reason: choice.reason,
      id: current.id,
    });
  }
}

function planMulti(table: string, want: DesiredVip, slot: Slot, options: PlanOptions, out: Out): void {
  const { vip } = want;
  const policy = options.policy ?? 'sync';
  // Target sets are small (a handful of LB nodes): arrays beat Sets here, and this runs per VIP.
  let wanted = chooseMulti(want.candidates);
  if (wanted.length === 0) {
    const reason = noneHealthy(want.candidates);
    if ((options.whenNoneHealthy ?? 'withdraw') === 'keep') {
      wanted = slot.owned.map((r) => r.target);
      out.skipped.push({ table, vip, reason: { code: 'kept', cause: reason } });
    } else {
      out.skipped.push({ table, vip, reason });
    }
  }
  listForeign(table, vip, slot.foreign, out);
  const have: string[] = [];
  const byTarget =
    slot.owned.length > 1
      ? [...slot.owned].sort((a, b) => compare(a.target, b.target) || compare(a.id ?? '', b.id ?? ''))
      : slot.owned;
  for (const route of byTarget) {
    const unwanted = !wanted.includes(route.target);
    const duplicate = have.includes(route.target);
    if (!unwanted && !duplicate) {
      have.push(route.target);
      if (route.state !== 'active') {
        out.skipped.push({
          table,
          vip,
          target: route.target,
          reason: { code: 'inactive' },
        });
      }
      continue;
    }
    const reason: Reason = duplicate ? { code: 'duplicate' } : unwantedReason(route.target, want.candidates);
    if (policy === 'sync') {
      out.changes.push({ kind: 'delete', table, vip, target: route.target, reason, id: route.id });
    } else {
      out.skipped.push({
        table,
        vip,
        target: route.target,
        reason: { code: 'policy', detail: policy, cause: reason },
      });
    }
  }
  for (const target of wanted) {
    if (!have.includes(target))
      out.changes.push({ kind: 'create', table, vip, target, reason: { code: 'healthy' } });
  }
}

function unwantedReason(target: string, candidates: readonly Candidate[]): Reason {
  const candidate = candidates.find((c) => c.target === target);
  if (candidate === undefined) return { code: 'not_candidate' };
  return { code: 'unhealthy', detail: candidate.reason };
}

/**
 * The pure diff between what should route where and what does. It only ever replaces or deletes
 * routes that carry `options.owner`, and only in `options.tables`; everything it leaves alone on
 * purpose comes back in `skipped` with the reason. Output order is deterministic.
 */
export function plan(
  desired: readonly DesiredRoute[],
  observed: readonly ObservedRoute[],
  options: PlanOptions,
): Plan {
  const out: Out = { changes: [], skipped: [] };
  const canonical = canonicalizer();
  const wanted = collectDesired(desired, canonical, out.skipped);
  const tables = collectObserved(observed, options, canonical, out.skipped);
  // Iteration order does not matter: the output is sorted once at the end.
  for (const [table, slots] of tables) {
    for (const [vip, want] of wanted) {
      const slot = slots.get(vip) ?? EMPTY_SLOT;
      if (options.cardinality === 'single') planSingle(table, want, slot, options, out);
      else planMulti(table, want, slot, options, out);
    }
    for (const [vip, slot] of slots) {
      if (wanted.has(vip)) continue;
      // Someone else's route to a VIP portlb does not serve: never touched, but said so.
      listForeign(table, vip, slot.foreign, out);
      for (const route of slot.owned) {
        if ((options.policy ?? 'sync') === 'sync') {
          out.changes.push({
            kind: 'delete',
            table,
            vip,
            target: route.target,
            reason: { code: 'not_desired' },
            id: route.id,
          });
        } else {
          out.skipped.push({
            table,
            vip,
            target: route.target,
            reason: { code: 'policy', detail: options.policy, cause: { code: 'not_desired' } },
          });
        }
      }
    }
  }
  out.changes.sort(
    (a, b) => byDestination(a, b) || changeOrder[a.kind] - changeOrder[b.kind] || compare(a.target, b.target),
  );
  out.skipped.sort(
    (a, b) =>
      byDestination(a, b) ||
      compare(a.target ?? '', b.target ?? '') ||
      compare(a.reason.code, b.reason.code) ||
      compare(reasonText(a.reason), reasonText(b.reason)),
  );
  return out;
}

/**
 * The routes `owner` holds once `changes` are applied to `observed`: what a provider that takes
 * the whole set at once (a BGP session, MetalLB's `Set`) is handed instead of the changes.
 */
export function afterChanges(
  observed: readonly ObservedRoute[],
  changes: readonly Change[],
  owner: string,
): ObservedRoute[] {
  const routes = observed.filter((r) => r.owner === owner);
  const drop = (table: string, vip: string, target: string, id?: string) => {
    const at = routes.findIndex(
      (r) => r.table === table && r.vip === vip && r.target === target && (id === undefined || r.id === id),
    );
    if (at >= 0) routes.splice(at, 1);
  };
  for (const change of changes) {
    if (change.kind === 'delete') drop(change.table, change.vip, change.target, change.id);
    if (change.kind === 'replace') drop(change.table, change.vip, change.from, change.id);
    if (change.kind !== 'delete') {
      routes.push({ table: change.table, vip: change.vip, target: change.target, owner, state: 'active' });
    }
  }
  return routes;
}
