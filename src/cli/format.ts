import type { Change, Plan } from '../core/model.js';

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
  for (const change of plan.changes) lines.push(`  ${describe(change)}   (${change.reason})`);
  if (plan.skipped.length > 0) {
    lines.push('left alone:');
    for (const s of plan.skipped) {
      lines.push(`  . ${[s.table, s.vip, s.target].filter(Boolean).join('  ')}   (${s.reason})`);
    }
  }
  lines.push(`${plan.changes.length} change(s), ${plan.skipped.length} left alone`);
  return lines.join('\n');
}
