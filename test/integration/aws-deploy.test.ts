import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const templatePath = join(root, 'deploy/aws/template.yaml');

/** CloudFormation's short-form tags (!Ref, !Sub, !GetAtt) kept as plain objects for assertions. */
const cfnTags = ['Ref', 'Sub', 'GetAtt'].map((name) => ({
  tag: `!${name}`,
  resolve: (value: string) => ({ [name]: value }),
}));

interface Statement {
  Sid?: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}
type Template = {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
};

async function cfnLint(path: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run('cfn-lint', [path]);
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

async function template(): Promise<Template> {
  return parse(await readFile(templatePath, 'utf8'), { customTags: cfnTags }) as Template;
}

function statements(t: Template, policy: string): Statement[] {
  const doc = t.Resources[policy]?.Properties.PolicyDocument as { Statement: Statement[] };
  return doc.Statement;
}

const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

describe('deploy/aws SAM template', () => {
  it('passes cfn-lint', async () => {
    const { code, output } = await cfnLint(templatePath);
    expect(output).toBe('');
    expect(code).toBe(0);
  }, 60_000);

  it('cfn-lint is really checking: a wrong runtime fails', async () => {
    // prepare
    const dir = await mkdtemp(join(tmpdir(), 'portlb-cfn-'));
    const broken = (await readFile(templatePath, 'utf8')).replace(
      'Runtime: nodejs24.x',
      'Runtime: nodejs99.x',
    );
    await writeFile(join(dir, 'template.yaml'), broken);
    try {
      // act
      const { code, output } = await cfnLint(join(dir, 'template.yaml'));
      // assess
      expect(code).not.toBe(0);
      expect(output).toMatch(/nodejs99\.x/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('limits every route and tag write to managed route tables in one VPC', async () => {
    const t = await template();
    const writes = statements(t, 'RouteWriterPolicy').filter((s) =>
      actions(s).some((a) => /^ec2:(Create|Replace|Delete)(Route|Tags)$/.test(a)),
    );
    expect(writes.length).toBeGreaterThan(0);
    for (const s of writes) {
      expect(s.Resource).not.toBe('*');
      const tableScoped = JSON.stringify(s.Resource).includes('route-table/*');
      if (tableScoped)
        expect(s.Condition?.StringEquals?.['ec2:ResourceTag/portlb.io/managed']).toEqual({
          Ref: 'ManagedTagValue',
        });
      else expect(s.Condition?.StringEquals?.['ec2:Vpc']).toBeDefined();
    }
    const tags = statements(t, 'RouteWriterPolicy').find((s) => s.Sid === 'PortlbTagsOnManagedTables');
    // Only candidacies and route records, never another tag (the managed tag itself included).
    expect(tags?.Condition?.['ForAllValues:StringLike']?.['aws:TagKeys']).toEqual([
      { Sub: ['portlb.io/candidate/', '${', 'Owner}/*'].join('') },
      { Sub: ['portlb.io/routes/', '${', 'Owner}/*'].join('') },
    ]);
    // ...and a request must name its keys: a DeleteTags naming none would delete every tag.
    expect(tags?.Condition?.Null).toEqual({ 'aws:TagKeys': 'false' });
    const tagWriters = statements(t, 'RouteWriterPolicy').filter((s) =>
      actions(s).some((a) => /^ec2:(Create|Delete)Tags$/.test(a)),
    );
    expect(tagWriters).toEqual([tags]);
  });

  it('gives the least-privilege sidecar no EC2 permission at all', async () => {
    const all = statements(await template(), 'SidecarLifecyclePolicy').flatMap(actions);
    expect(all).toEqual(['events:PutEvents']);
  });

  it('points every function at a bundle that npm run build:functions produces', async () => {
    const t = await template();
    const build = await readFile(join(root, 'scripts/build-functions.mjs'), 'utf8');
    const handlers = Object.values(t.Resources)
      .filter((r) => r.Type === 'AWS::Serverless::Function')
      .map((r) => String(r.Properties.Handler));
    expect(handlers.sort()).toEqual(['instance-event.handler', 'lifecycle.handler', 'sweep.handler']);
    for (const h of handlers) expect(build).toContain(`'${h.replace('.handler', '.ts')}'`);
  });
});
