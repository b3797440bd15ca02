import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1ClusterRole, V1ClusterRoleBinding, V1Role, V1RoleBinding } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createNodeAgent } from '../../src/agent/agent.js';
import { createRouteTable } from '../../src/agent/iproute.js';
import { parseConfig, parseYaml } from '../../src/config/load.js';
import { kubeMetrics } from '../../src/kube/metrics.js';
import { modeDescriptor, resolveMode } from '../../src/modes/index.js';
import { silentLogger } from '../../src/runtime/logger.js';
import { createMetrics } from '../../src/runtime/metrics.js';
import { createKubernetesContext, serviceBackends } from '../../src/sources/kubernetes/context.js';
import {
  configsOf,
  helmOverlay,
  kustomize,
  LB_NAMESPACE,
  type Manifest,
  OVERLAYS,
  type Overlay,
  overlayDir,
} from '../deploy/support.js';
import { eventually } from './kube/fixtures.js';
import type { KubeTestServer } from './kube/harness.js';
import { createWebCluster, WEB_NODES } from './kube/web-cluster.js';
import { createNodeNetns, type NodeNetns } from './node-netns.js';

/*
 * deploy/k8s and the chart against a real kube-apiserver + etcd (the harness in ./kube):
 * every object each rendering makes is accepted by a server-side dry-run, and the RBAC each
 * overlay grants is exactly what the components call. For the second, the API server writes an
 * audit log (a policy of our own; the harness starts the binary this file names through
 * KUBE_APISERVER_BIN); the real sidecar, data-plane and node agent modules run with their
 * ServiceAccounts' tokens through their start, steady state, Events (create, then the aggregated
 * count's patch) and stop; then every rule the manifests grant must have been used by some
 * request, and no request may have been refused. The data plane runs with the sidecar's account
 * (one per pod), so its requests must be allowed by the same rules; bfdd calls no API.
 */

const SIDECAR = `system:serviceaccount:${LB_NAMESPACE}:portlb-sidecar`;
const AGENT = 'system:serviceaccount:portlb-system:portlb-node-agent';

const work = await mkdtemp(join(tmpdir(), 'portlb-deploy-it-'));
const auditLog = join(work, 'audit.log');
{
  const cache = process.env.PORTLB_KUBE_CACHE ?? '/var/cache/portlb/kube';
  const real = process.env.KUBE_APISERVER_BIN ?? join(cache, 'bin', 'kube-apiserver');
  const policy = join(work, 'audit-policy.yaml');
  await writeFile(
    policy,
    stringify({
      apiVersion: 'audit.k8s.io/v1',
      kind: 'Policy',
      omitStages: ['RequestReceived'],
      rules: [{ level: 'Metadata', userGroups: ['system:serviceaccounts'] }, { level: 'None' }],
    }),
  );
  const wrapper = join(work, 'kube-apiserver');
  await writeFile(
    wrapper,
    `#!/bin/sh\nexec '${real}' "$@" --audit-policy-file='${policy}' --audit-log-path='${auditLog}' --audit-log-format=json --audit-log-mode=blocking\n`,
  );
  await chmod(wrapper, 0o755);
  process.env.KUBE_APISERVER_BIN = wrapper;
}
const { startKube } = await import('./kube/harness.js');

interface AuditEvent {
  user: { username: string };
  verb: string;
  objectRef?: {
    apiGroup?: string;
    resource?: string;
    namespace?: string;
    name?: string;
    subresource?: string;
  };
  annotations?: Record<string, string>;
}

/** One permission a rule grants: `verb group/resource[/name] [in namespace]`. */
interface Grant {
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
  readonly name?: string | undefined;
  /** undefined: cluster-wide (a ClusterRoleBinding). */
  readonly namespace?: string | undefined;
}
const show = (g: Grant) =>
  `${g.verb} ${g.group || 'core'}/${g.resource}${g.name ? `/${g.name}` : ''}${g.namespace ? ` in ${g.namespace}` : ''}`;

/** What the manifests grant a ServiceAccount user, through every binding that names it. */
function grantsOf(objects: readonly Manifest[], user: string): Grant[] {
  const [, , namespace, name] = user.split(':');
  const roles = new Map(
    objects
      .filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole')
      .map((o) => [
        `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`,
        o as (V1Role | V1ClusterRole) & Manifest,
      ]),
  );
  return objects
    .filter((o) => o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding')
    .map((o) => o as (V1RoleBinding | V1ClusterRoleBinding) & Manifest)
    .filter((b) =>
      (b.subjects ?? []).some(
        (s) => s.kind === 'ServiceAccount' && s.name === name && s.namespace === namespace,
      ),
    )
    .flatMap((b) => {
      const scope = b.kind === 'RoleBinding' ? b.metadata.namespace : undefined;
      const roleNs = b.roleRef.kind === 'Role' ? b.metadata.namespace : '';
      const role = roles.get(`${b.roleRef.kind}/${roleNs}/${b.roleRef.name}`);
      if (role === undefined)
        throw new Error(`${b.kind} ${b.metadata.name} refers to a missing ${b.roleRef.name}`);
      return (role.rules ?? []).flatMap((rule) =>
        (rule.apiGroups ?? []).flatMap((group) =>
          (rule.resources ?? []).flatMap((resource) =>
            rule.verbs.flatMap((verb) =>
              (rule.resourceNames ?? [undefined]).map((n) => ({
                verb,
                group,
                resource,
                name: n,
                namespace: scope,
              })),
            ),
          ),
        ),
      );
    });
}

const usedBy = (event: AuditEvent, g: Grant) =>
  event.verb === g.verb &&
  (event.objectRef?.apiGroup ?? '') === g.group &&
  event.objectRef?.resource === g.resource &&
  event.objectRef.subresource === undefined &&
  (g.namespace === undefined || event.objectRef.namespace === g.namespace) &&
  (g.name === undefined || event.objectRef.name === g.name);

// The API server writes an event's ResponseComplete stage after the response, so a read can catch
// the log mid-line: wait until it ends on a line and has stopped growing, and parse whole lines only.
async function auditSince(offset: number): Promise<AuditEvent[]> {
  let text = '';
  const deadline = Date.now() + 10_000;
  for (let quiet = 0; quiet < 3; ) {
    if (Date.now() > deadline) throw new Error(`audit log ${auditLog} did not settle in 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const now = (await readFile(auditLog)).subarray(offset).toString('utf8');
    quiet = now === text && now.endsWith('\n') ? quiet + 1 : 0;
    text = now;
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as AuditEvent);
}

let kube: KubeTestServer;
let netns: NodeNetns | undefined;

beforeAll(async () => {
  kube = await startKube();
  // The namespace comes from the manifests, as it does in a cluster.
  const namespaces = (await kustomize(overlayDir('onprem-bgp'))).filter((o) => o.kind === 'Namespace');
  await applyFile('namespaces', namespaces, []);
  await kube.ensureServiceAccount(LB_NAMESPACE, 'default');
  await createWebCluster(kube.admin, LB_NAMESPACE);
});

afterAll(async () => {
  await netns?.remove();
  await kube?.stop();
  await rm(work, { recursive: true, force: true });
});

/** `kubectl apply --server-side` of rendered objects, for real or as a dry run. */
async function applyFile(tag: string, objects: readonly Manifest[], extra: readonly string[]) {
  const file = join(work, `${tag}.yaml`);
  await writeFile(file, objects.map((o) => stringify(o)).join('---\n'));
  const result = await kube.kubectl([
    'apply',
    '--server-side',
    '--field-manager=portlb-test',
    ...extra,
    '-f',
    file,
  ]);
  expect(result.stderr, tag).toBe('');
  expect(result.code, tag).toBe(0);
  return result.stdout.trim().split('\n');
}

describe('a server-side dry-run on a real API server', () => {
  const renderings: [string, () => Promise<Manifest[]>][] = [
    ...OVERLAYS.map((o): [string, () => Promise<Manifest[]>] => [
      `kubectl kustomize overlays/${o}`,
      () => kustomize(overlayDir(o)),
    ]),
    ...OVERLAYS.map((o): [string, () => Promise<Manifest[]>] => [
      `helm template with overlays/${o}/values.yaml`,
      async () => (await helmOverlay(o)).objects,
    ]),
    // The PrometheusRule needs the prometheus-operator's CRD, which this API server does not
    // have: promtool checks it (test/deploy/monitoring.test.ts). The dashboard's ConfigMap is here.
    [
      'kubectl kustomize monitoring (the dashboard)',
      async () => (await kustomize('deploy/k8s/monitoring')).filter((o) => o.kind !== 'PrometheusRule'),
    ],
  ];

  it.each(renderings)('accepts every object of %s', async (what, render) => {
    const objects = await render();
    expect(objects.length).toBeGreaterThan(0);
    const lines = await applyFile(what.replace(/\W+/g, '-'), objects, ['--dry-run=server']);
    expect(lines).toHaveLength(objects.length);
    for (const line of lines) expect(line).toMatch(/ serverside-applied \(server dry run\)$/);
  });
});

describe.each(OVERLAYS)('RBAC of overlays/%s against what the components call', (overlay: Overlay) => {
  let objects: Manifest[];
  let offset: number;

  beforeAll(async () => {
    objects = await kustomize(overlayDir(overlay));
    await applyFile(overlay, objects, []);
    offset = (await stat(auditLog)).size;
  });

  it('the sidecar and the node agent use every permission they are granted, and are refused none', async () => {
    const sidecarToken = await kube.serviceAccountToken(LB_NAMESPACE, 'portlb-sidecar');
    const agentToken = await kube.serviceAccountToken('portlb-system', 'portlb-node-agent');
    const [shipped] = configsOf(objects);
    const [node] = WEB_NODES;
    const env = {
      POD_NAME: node.pod,
      POD_NAMESPACE: LB_NAMESPACE,
      NODE_NAME: node.name,
      HOST_IP: node.address,
    };
    const config = parseConfig(parseYaml(shipped?.text ?? '', overlay), env);
    const mode = modeDescriptor(resolveMode(config.mode, node.providerID).mode);

    // The sidecar: informers, the Lease where the mode elects a writer, Events, shutdown.
    const runtime = createKubernetesContext({
      config,
      mode,
      logger: silentLogger(),
      metrics: createMetrics({ defaults: false }),
      trigger: () => {},
      kubeConfig: kube.kubeConfigFor(sidecarToken),
    });
    await runtime.start();
    expect(runtime.source.degraded()).toEqual([]);
    if (runtime.elector)
      await eventually(
        'the Lease',
        () => runtime.elector?.isLeader(),
        (x) => x === true,
        5_000,
      );
    const event = {
      regarding: { namespace: LB_NAMESPACE, name: node.pod },
      type: 'Normal',
      reason: 'Announced',
      action: 'Announce',
      note: 'test',
    } as const;
    // The second is aggregated into the first's series.count: a patch, written at flush.
    runtime.recorder.record(event);
    await runtime.recorder.flush();
    runtime.recorder.record(event);
    await runtime.recorder.flush();
    await runtime.stop();

    // The data plane (`portlb dataplane`'s backends, the same function): the EndpointSlices of
    // the services' backend Services, with the pod's account.
    const dataPlaneBackends = serviceBackends({
      config,
      kubeConfig: kube.kubeConfigFor(sidecarToken),
      namespace: LB_NAMESPACE,
      relistMs: 300_000,
      logger: silentLogger(),
      metrics: kubeMetrics(createMetrics({ defaults: false }).registry),
    });
    await dataPlaneBackends.start?.();
    expect(dataPlaneBackends.backends('web').map((b) => `${b.address}:${b.port}`)).toEqual([
      '10.244.0.5:8080',
    ]);
    await dataPlaneBackends.stop?.();

    // The node agent: its informers, routes in a namespace of ours, Events (Routed, then a repeat).
    netns ??= await createNodeNetns();
    const agent = createNodeAgent({
      config,
      nodeName: node.name,
      kubeConfig: kube.kubeConfigFor(agentToken),
      table: createRouteTable({ protocol: config.nodeAgent.routeProtocol, netns: netns.name }),
      logger: silentLogger(),
      metrics: createMetrics({ defaults: false }),
      trigger: () => {},
    });
    await agent.start();
    const outcome = await agent.reconcile('test');
    expect(outcome.failed).toEqual([]);
    agent.recorder.record({ ...event, reason: 'Routed', action: 'Route' });
    await agent.recorder.flush();
    agent.recorder.record({ ...event, reason: 'Routed', action: 'Route' });
    await agent.stop();

    const audit = await auditSince(offset);
    for (const user of [SIDECAR, AGENT]) {
      const mine = audit.filter((e) => e.user.username === user);
      expect(mine.length, user).toBeGreaterThan(0);
      const refused = mine.filter((e) => e.annotations?.['authorization.k8s.io/decision'] !== 'allow');
      expect(
        refused.map((e) => `${e.verb} ${e.objectRef?.resource}/${e.objectRef?.name ?? ''}`),
        `${user}: refused`,
      ).toEqual([]);
      const grants = grantsOf(objects, user);
      expect(grants.length, user).toBeGreaterThan(0);
      const unused = grants.filter((g) => !mine.some((e) => usedBy(e, g))).map(show);
      expect(unused, `${user}: granted but never used`).toEqual([]);
    }
  });
});
