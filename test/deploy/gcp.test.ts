import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parsePayload } from '../../functions/gcp/events.js';
import { sweepSchema } from '../../src/providers/gcp/lifecycle.js';
import { computePermissions } from '../../src/providers/gcp/permissions.js';
import { auditEntry } from '../fixtures/gcp/audit-log.js';

const tf = (file: string) => readFile(`deploy/gcp/${file}`, 'utf8');

/** The quoted strings of the first `NAME = [ ... ]` list after `anchor` in an HCL text. */
function hclList(text: string, anchor: string, name: string): string[] {
  const from = text.indexOf(anchor);
  expect(from, anchor).toBeGreaterThanOrEqual(0);
  const list = new RegExp(`${name}\\s*=\\s*\\[([^\\]]*)\\]`).exec(text.slice(from));
  return [...(list?.[1] ?? '').matchAll(/"([^"]+)"/g)].map((m) => m[1] ?? '');
}

describe('deploy/gcp', () => {
  it('grants the custom role exactly the permissions the code calls', async () => {
    const role = hclList(await tf('role.tf'), 'resource "google_project_iam_custom_role"', 'permissions');
    expect([...role].sort()).toEqual([...computePermissions]);
  });

  it('routes exactly the audit-log methods the instance-event parser handles', async () => {
    const methods = hclList(await tf('events.tf'), 'locals', 'instance_methods');
    expect(methods.length).toBeGreaterThan(0);
    for (const methodName of methods) {
      const parsed = parsePayload('1', '', auditEntry({ methodName }));
      expect(parsed, methodName).toMatchObject({ ok: true, event: { kind: 'instance-down' } });
    }
    const actions = methods.map((m) => {
      const parsed = parsePayload('1', '', auditEntry({ methodName: m }));
      return parsed.ok && parsed.event.kind === 'instance-down' ? parsed.event.action : '';
    });
    expect(new Set(actions)).toEqual(new Set(['delete', 'stop', 'preempted']));
  });

  it('has the scheduler publish the sweep message the functions accept', async () => {
    const events = await tf('events.tf');
    const body = /jsonencode\(\{\s*kind\s*=\s*"([^"]+)",\s*version\s*=\s*(\d+)\s*\}\)/.exec(events);
    expect(sweepSchema.safeParse({ kind: body?.[1], version: Number(body?.[2]) }).success).toBe(true);
  });

  it('grants the sink writer identity publish on its topic, and the sidecar only publish on lifecycle', async () => {
    const events = await tf('events.tf');
    expect(events).toMatch(/member\s*=\s*google_logging_project_sink\.instance_events\.writer_identity/);
    expect(events).toMatch(/unique_writer_identity\s*=\s*true/);
    const sidecar = events.slice(events.indexOf('"sidecar_publishes"'));
    expect(sidecar).toMatch(/topic\s*=\s*google_pubsub_topic\.lifecycle\.id/);
    expect(sidecar).toMatch(/role\s*=\s*"roles\/pubsub\.publisher"/);
  });
});
