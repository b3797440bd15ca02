import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { V1ServiceAccount } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { parsePayload } from '../../functions/gcp/events.js';
import { sweepSchema } from '../../src/providers/gcp/lifecycle.js';
import { computePermissions } from '../../src/providers/gcp/permissions.js';
import { auditEntry } from '../fixtures/gcp/audit-log.js';
import { find, kustomize, lbDeployment, type Manifest, overlayDir, podSpec } from './support.js';

const tf = (file: string) => readFile(`deploy/gcp/${file}`, 'utf8');
/** The real Terraform (scripts/setup-gcp.sh says where it comes from). */
const TERRAFORM = process.env.PORTLB_TERRAFORM ?? 'terraform';

/** The quoted strings of the first `NAME = [ ... ]` list after `anchor` in an HCL text. */
function hclList(text: string, anchor: string, name: string): string[] {
  const from = text.indexOf(anchor);
  expect(from, anchor).toBeGreaterThanOrEqual(0);
  const list = new RegExp(`${name}\\s*=\\s*\\[([^\\]]*)\\]`).exec(text.slice(from));
  return [...(list?.[1] ?? '').matchAll(/"([^"]+)"/g)].map((m) => m[1] ?? '');
}

/** The text of the block that starts at `anchor` and ends at the next closing brace in column 0. */
function hclBlock(text: string, anchor: string): string {
  const from = text.indexOf(anchor);
  expect(from, anchor).toBeGreaterThanOrEqual(0);
  const to = text.indexOf('\n}\n', from);
  return text.slice(from, to + 3);
}

/** The expression an attribute is set to, one line, in a block. */
function hclAttribute(block: string, name: string): string {
  const found = new RegExp(`^\\s*${name}\\s*=\\s*(.+)$`, 'm').exec(block);
  expect(found, name).not.toBeNull();
  return found?.[1] ?? '';
}

const scratch: string[] = [];
afterAll(async () => {
  for (const dir of scratch) await rm(dir, { recursive: true, force: true });
});

/**
 * Expressions evaluated by the real `terraform console` (offline: no provider is needed) with
 * variables.tf, role.tf's locals and the example tfvars, plus `vars`. Piped, console prints only
 * its last result, so they go in as one list.
 */
async function evaluate(expressions: readonly string[], vars: readonly string[]): Promise<unknown> {
  const dir = await mkdtemp(join(tmpdir(), 'portlb-tf-eval-'));
  scratch.push(dir);
  await writeFile(join(dir, 'variables.tf'), await tf('variables.tf'));
  await writeFile(join(dir, 'locals.tf'), hclBlock(await tf('role.tf'), 'locals {'));
  const args = ['console', `-var-file=${resolve('deploy/gcp/terraform.tfvars.example')}`];
  for (const v of vars) args.push('-var', v);
  const stdout = await new Promise<string>((done, fail) => {
    const child = execFile(
      TERRAFORM,
      args,
      { cwd: dir, env: { ...process.env, TF_CLI_CONFIG_FILE: '/dev/null' } },
      (error, out, err) =>
        error ? fail(new Error(`terraform console: ${err || error.message}`)) : done(out),
    );
    child.stdin?.end(`jsonencode([${expressions.join(', ')}])\n`);
  });
  return JSON.parse(JSON.parse(stdout) as string);
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

  describe('Workload Identity: the LB pods’ ServiceAccount acts as the sidecar’s Google service account', () => {
    it('binds roles/iam.workloadIdentityUser on that account, with defaults that are the gcp overlays’', async () => {
      const variables = await tf('variables.tf');
      const defaultOf = (name: string) =>
        JSON.parse(hclAttribute(hclBlock(variables, `variable "${name}"`), 'default')) as string;
      const binding = hclBlock(
        await tf('role.tf'),
        'resource "google_service_account_iam_member" "sidecar_workload_identity"',
      );
      expect(hclAttribute(binding, 'role')).toBe('"roles/iam.workloadIdentityUser"');
      const example = await tf('terraform.tfvars.example');
      for (const overlay of ['gcp', 'gcp-pubsub']) {
        const objects = await kustomize(overlayDir(overlay));
        const deployment = lbDeployment(objects);
        expect(defaultOf('sidecar_namespace'), overlay).toBe(deployment.metadata.namespace);
        expect(defaultOf('sidecar_kubernetes_service_account'), overlay).toBe(
          podSpec(deployment).serviceAccountName,
        );
        // The Google account the example grants is the one the overlays' annotation names.
        const account = find<V1ServiceAccount & Manifest>(objects, 'ServiceAccount', 'portlb-sidecar');
        expect(hclAttribute(example, 'sidecar_service_account'), overlay).toBe(
          JSON.stringify(account.metadata.annotations?.['iam.gke.io/gcp-service-account']),
        );
      }
    });

    it.each([
      [
        'the example',
        [],
        'serviceAccount:my-project.svc.id.goog[web/portlb-sidecar]',
        'projects/my-project/serviceAccounts/portlb-sidecar@my-project.iam.gserviceaccount.com',
      ],
      [
        'a cluster in another project, another namespace, an account of a third project',
        [
          'workload_pool=gke-project.svc.id.goog',
          'sidecar_namespace=shop',
          'sidecar_kubernetes_service_account=shop-lb',
          'sidecar_service_account=lb@iam-project.iam.gserviceaccount.com',
        ],
        'serviceAccount:gke-project.svc.id.goog[shop/shop-lb]',
        'projects/iam-project/serviceAccounts/lb@iam-project.iam.gserviceaccount.com',
      ],
      [
        'an account of a domain-scoped project (IAM finds its project)',
        ['sidecar_service_account=lb@my-project.example.com.iam.gserviceaccount.com'],
        'serviceAccount:my-project.svc.id.goog[web/portlb-sidecar]',
        'projects/-/serviceAccounts/lb@my-project.example.com.iam.gserviceaccount.com',
      ],
    ])('grants it to %s as the real terraform evaluates the binding', async (_, vars, member, account) => {
      const binding = hclBlock(
        await tf('role.tf'),
        'resource "google_service_account_iam_member" "sidecar_workload_identity"',
      );
      const expressions = ['member', 'service_account_id'].map((a) => hclAttribute(binding, a));
      expect(await evaluate(expressions, vars)).toEqual([member, account]);
    });
  });
});
