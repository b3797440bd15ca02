import type { Change, Plan, Skipped } from '../core/model.js';
import { reasonFields, reasonText } from '../core/reasons.js';

function describe(change: Change): string {
  switch (change.kind) {
    case 'create':
      return `+ create  ${change.table}  ${change.vip} -> ${change.target}`;
    case 'replace':
      return `~ replace ${change.table}  ${change.vip} ${change.from} -> ${change.target}`;
    case 'delete':
      return `- delete  ${change.table}  ${change.vip} -> ${change.target}`;
  }
}

/** The human form of a plan: one line per change and per skipped route, each with its reason. */
export function formatPlan(plan: Plan, header: string): string {
  const lines = [header];
  if (plan.changes.length === 0) lines.push('  no changes');
  for (const change of plan.changes) lines.push(`  ${describe(change)}   (${reasonText(change.reason)})`);
  if (plan.skipped.length > 0) {
    lines.push('left alone:');
    for (const s of plan.skipped) {
      lines.push(`  . ${[s.table, s.vip, s.target].filter(Boolean).join('  ')}   (${reasonText(s.reason)})`);
    }
  }
  lines.push(`${plan.changes.length} change(s), ${plan.skipped.length} left alone`);
  return lines.join('\n');
}

type Json<T extends { reason: unknown }> = Omit<T, 'reason'> & { code: string; reason: string };

/** The JSON form: every reason as its code and its sentence. */
export function planJson(plan: Pick<Plan, 'changes' | 'skipped'>): {
  changes: Json<Change>[];
  skipped: Json<Skipped>[];
} {
  const flat = <T extends { reason: Change['reason'] }>(entry: T) => ({
    ...entry,
    ...reasonFields(entry.reason),
  });
  return { changes: plan.changes.map(flat), skipped: plan.skipped.map(flat) };
}
