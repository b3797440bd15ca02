import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import type {
  V1ClusterRoleBinding,
  V1Lease,
  V1PodDisruptionBudget,
  V1Role,
  V1RoleBinding,
  V1ServiceAccount,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentKubernetes } from '../../src/agent/agent.js';
import { agentListen } from '../../src/agent/listen.js';
import { type Config, parseConfig, parseYaml } from '../../src/config/load.js';
import {
  checkOverlay,
  configsOf,
  container,
  differing,
  find,
  kustomize,
  lbDeployment,
  type Manifest,
  nodeAgentDaemonSet,
  OVERLAYS,
  type Overlay,
  overlayDir,
  podSpec,
  selectorLabels,
  VERSION,
  validate,
} from './support.js';

/*
 * deploy/k8s rendered by the real kustomize (kubectl kustomize), every config it ships judged by
 * the shipped `portlb validate`, and the objects checked against that config: what the pods must
 * agree with (labels, ports, namespace, drain) and what they may ask for (capabilities, users).
 * RBAC against what the code calls: test/integration/deploy-k8s.test.ts (audit log of a real API
 * server); images and capabilities in a container: test/integration/images-run.test.ts.
 */

/** What a SIGTERM'd sidecar may take beyond drain.seconds: exabgp's withdraw ack (5 s, src/modes/bgp.ts), stopping exabgp (5 s, supervisor), and flushing Events. */
const SHUTDOWN_BEYOND_DRAIN_S = 15;
const DOWNWARD_API = {
  POD_NAME: 'metadata.name',
  POD_NAMESPACE: 'metadata.namespace',
  POD_IP: 'status.podIP',
  NODE_NAME: 'spec.nodeName',
  HOST_IP: 'status.hostIP',
};
/** The sidecar's image per overlay: bgp needs exabgp beside portlb, in the container it supervises it from. */
const SIDECAR_IMAGE: Record<Overlay, string> = {
  'onprem-bgp': `localhost/portlb-exabgp:${VERSION}`,
  aws: `localhost/portlb:${VERSION}`,
};

const rendered = new Map<Overlay, Manifest[]>();
const configs = new Map<Overlay, Config>();

beforeAll(async () => {
  for (const overlay of OVERLAYS) {
    const objects = await kustomize(overlayDir(overlay));
    rendered.set(overlay, objects);
    const text = await readFile(`${overlayDir(overlay)}/config.yaml`, 'utf8');
    configs.set(
      overlay,
      parseConfig(parseYaml(text, overlay), {
        POD_NAME: 'web-lb-1',
        POD_NAMESPACE: 'web',
        NODE_NAME: 'n1',
        HOST_IP: '10.0.0.11',
      }),
    );
  }
});
const objectsOf = (overlay: Overlay) => rendered.get(overlay) ?? [];
const configOf = (overlay: Overlay): Config => {
  const config = configs.get(overlay);
  if (config === undefined) throw new Error(`no config for ${overlay}`);
  return config;
};
const portOf = (listen: string) => Number(listen.slice(listen.lastIndexOf(':') + 1));

describe.each(OVERLAYS)('deploy/k8s/overlays/%s', (overlay) => {
  it('ships its config.yaml to the LB pods and the node agent, and portlb validate accepts it', async () => {
    const text = await readFile(`${overlayDir(overlay)}/config.yaml`, 'utf8');
    const shipped = configsOf(objectsOf(overlay));
    expect(shipped.map((c) => c.where.replace(/-[a-z0-9]{10}$/, ''))).toEqual([
      'portlb-system/portlb-node-agent',
      'web/web-lb',
    ]);
    for (const { text: inside } of shipped) expect(inside).toBe(text);
    const result = await validate(text);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain(`valid (mode ${configOf(overlay).mode}`);
    expect(await checkOverlay(overlayDir(overlay))).toEqual([]);
  });

  it('runs the LB pods as the config expects them: labels, namespace, ports, one per node', () => {
    const config = configOf(overlay);
    const deployment = lbDeployment(objectsOf(overlay));
    const labels = selectorLabels(config.kubernetes?.lbPodSelector ?? '');
    expect(deployment.metadata.namespace).toBe(config.kubernetes?.namespace);
    expect(deployment.spec?.selector.matchLabels).toEqual(labels);
    expect(deployment.spec?.template.metadata?.labels).toMatchObject(labels);
    const pod = podSpec(deployment);
    expect(pod.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution).toEqual([
      { labelSelector: { matchLabels: labels }, topologyKey: 'kubernetes.io/hostname' },
    ]);
    // One per node leaves a surge pod nowhere to go: replace one at a time.
    expect(deployment.spec?.strategy?.rollingUpdate).toEqual({ maxSurge: 0, maxUnavailable: 1 });
    const pdb = find<V1PodDisruptionBudget & Manifest>(objectsOf(overlay), 'PodDisruptionBudget');
    expect(pdb.spec?.selector?.matchLabels).toEqual(labels);
    expect(pdb.spec?.maxUnavailable).toBe(1);
    expect(deployment.spec?.replicas).toBeGreaterThan(1);

    const sidecar = container(deployment, 'portlb');
    expect(sidecar.args).toEqual(['sidecar', '--config', '/etc/portlb/config.yaml']);
    expect(sidecar.ports).toEqual([{ name: 'metrics', containerPort: portOf(config.server.listen) }]);
    expect(sidecar.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
    expect(sidecar.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(
      Object.fromEntries((sidecar.env ?? []).map((e) => [e.name, e.valueFrom?.fieldRef?.fieldPath])),
    ).toEqual(DOWNWARD_API);
    expect(sidecar.image).toBe(SIDECAR_IMAGE[overlay]);
  });

  it('gives the sidecar time to withdraw and drain, and starts the withdraw at SIGTERM', () => {
    const pod = podSpec(lbDeployment(objectsOf(overlay)));
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(
      configOf(overlay).drain.seconds + SHUTDOWN_BEYOND_DRAIN_S,
    );
    // A preStop hook would run before SIGTERM and so only delay the withdraw.
    expect(container(lbDeployment(objectsOf(overlay)), 'portlb').lifecycle).toBeUndefined();
  });

  it('asks for no privilege in the LB pods: non-root, read-only, no capability', () => {
    const deployment = lbDeployment(objectsOf(overlay));
    const pod = podSpec(deployment);
    expect(pod.hostNetwork).toBeUndefined();
    expect(pod.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    for (const c of pod.containers) {
      expect(c.securityContext, c.name).toEqual({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      });
    }
    // The only writable place: /tmp (exabgp's config, Node's compile cache), in memory.
    const sidecar = container(deployment, 'portlb');
    expect(sidecar.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
    expect(pod.volumes).toContainEqual({ name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } });
  });

  it('runs the node agent on the host network as root with NET_ADMIN only, for the LB pods’ namespace', () => {
    const objects = objectsOf(overlay);
    const config = configOf(overlay);
    const daemonSet = nodeAgentDaemonSet(objects);
    const pod = podSpec(daemonSet);
    const account = find<V1ServiceAccount & Manifest>(objects, 'ServiceAccount', 'portlb-node-agent');
    expect(daemonSet.metadata.namespace).toBe(account.metadata.namespace);
    expect(pod.serviceAccountName).toBe(account.metadata.name);
    expect(pod.hostNetwork).toBe(true);
    const agent = container(daemonSet, 'node-agent');
    expect(agent.args).toEqual(['node-agent', '--config', '/etc/portlb/config.yaml']);
    expect(agent.image).toBe(`localhost/portlb:${VERSION}`);
    expect(agent.securityContext).toEqual({
      runAsUser: 0,
      runAsGroup: 0,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'], add: ['NET_ADMIN'] },
    });
    expect(
      Object.fromEntries((agent.env ?? []).map((e) => [e.name, e.valueFrom?.fieldRef?.fieldPath])),
    ).toEqual({
      NODE_NAME: 'spec.nodeName',
      HOST_IP: 'status.hostIP',
    });
    // It listens on the node's own IP, which the kubelet probes, on the port the probes name.
    const port = agent.ports?.find((p) => p.name === 'metrics')?.containerPort;
    expect(agentListen(config.nodeAgent.listen, { hostIp: '10.0.0.11' })).toBe(`10.0.0.11:${port}`);
    expect(agent.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
    // It reads the LB pods where they are, and is bound there and nowhere else.
    const lbNamespace = agentKubernetes(config).namespace;
    expect(lbNamespace).toBe(lbDeployment(objects).metadata.namespace);
    const bindings = objects.filter(
      (o): o is V1RoleBinding & Manifest =>
        o.kind === 'RoleBinding' && (o as V1RoleBinding).subjects?.[0]?.name === 'portlb-node-agent',
    );
    expect(bindings.map((b) => b.metadata.namespace)).toEqual([lbNamespace]);
  });

  it('binds the sidecar to its Roles in its own namespace, and to reading Nodes', () => {
    const objects = objectsOf(overlay);
    const namespace = lbDeployment(objects).metadata.namespace;
    const subject = { kind: 'ServiceAccount', name: 'portlb-sidecar', namespace };
    const bound = objects.filter(
      (o) =>
        (o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding') &&
        ((o as V1RoleBinding).subjects ?? []).some(
          (s) => s.name === subject.name && s.namespace === namespace,
        ),
    ) as (V1RoleBinding & Manifest)[];
    for (const binding of bound) expect(binding.subjects).toEqual([subject]);
    const roles = bound.map(
      (b) => `${b.kind} ${b.metadata.namespace ?? '-'} -> ${b.roleRef.kind} ${b.roleRef.name}`,
    );
    expect(roles.sort()).toEqual(
      [
        `RoleBinding ${namespace} -> Role portlb-sidecar`,
        'ClusterRoleBinding - -> ClusterRole portlb-read-nodes',
        ...(overlay === 'aws' ? [`RoleBinding ${namespace} -> Role portlb-sidecar-lease`] : []),
      ].sort(),
    );
    expect(
      find<V1ClusterRoleBinding & Manifest>(objects, 'ClusterRoleBinding', 'portlb-sidecar-web-read-nodes'),
    );
  });
});

describe('what the overlays differ in', () => {
  it('only the config, the sidecar’s image and AWS’s extras (the Lease, its Role, the IAM role)', () => {
    const [bgp, aws] = [objectsOf('onprem-bgp'), objectsOf('aws')];
    expect(differing(bgp, aws)).toEqual(
      [
        'ConfigMap portlb-system/portlb-node-agent',
        'ConfigMap web/web-lb',
        'Deployment web/web-lb',
        'Lease web/portlb-leader',
        'Role web/portlb-sidecar-lease',
        'RoleBinding web/portlb-sidecar-lease',
        'ServiceAccount web/portlb-sidecar',
      ].sort(),
    );
    // The Deployment differs in the image alone.
    const withImage = (image: string) => {
      const copy = structuredClone(lbDeployment(bgp));
      const sidecar = copy.spec?.template.spec?.containers[0];
      if (sidecar) sidecar.image = image;
      return copy;
    };
    const unhashed = (d: Manifest) =>
      JSON.stringify(d).replace(/"name":"web-lb-[a-z0-9]{10}"/g, '"name":"web-lb"');
    expect(unhashed(withImage(SIDECAR_IMAGE.aws))).toBe(unhashed(lbDeployment(aws)));
    const account = find<V1ServiceAccount & Manifest>(aws, 'ServiceAccount', 'portlb-sidecar');
    expect(Object.keys(account.metadata.annotations ?? {})).toEqual(['eks.amazonaws.com/role-arn']);
  });

  it('aws: ships the Lease the config names, and lets the sidecar use that one only', () => {
    const objects = objectsOf('aws');
    const lease = find<V1Lease & Manifest>(objects, 'Lease');
    expect(lease.metadata.name).toBe(configOf('aws').kubernetes?.lease.name);
    const role = find<V1Role & Manifest>(objects, 'Role', 'portlb-sidecar-lease');
    expect(role.rules).toEqual([
      {
        apiGroups: ['coordination.k8s.io'],
        resources: ['leases'],
        resourceNames: [lease.metadata.name],
        verbs: ['get', 'update', 'watch'],
      },
    ]);
  });
});

describe('an overlay with an invalid config', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portlb-overlay-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('fails the checks with the validator’s message, naming the ConfigMap', async () => {
    // A site's own overlay on top of ours, replacing the config with one whose VIP has host bits.
    const text = (await readFile(`${overlayDir('onprem-bgp')}/config.yaml`, 'utf8')).replace(
      'vip: 203.0.113.0/28',
      'vip: 203.0.113.5/28',
    );
    await writeFile(join(dir, 'config.yaml'), text);
    await writeFile(
      join(dir, 'kustomization.yaml'),
      [
        'resources:',
        `  - ${relative(dir, resolve(overlayDir('onprem-bgp')))}`,
        'configMapGenerator:',
        '  - { name: web-lb, namespace: web, behavior: replace, files: [config.yaml] }',
        '',
      ].join('\n'),
    );
    const problems = await checkOverlay(dir);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/ConfigMap web\/web-lb-[a-z0-9]{10}: invalid configuration/);
    expect(problems[0]).toContain(
      'services[0].vip: "203.0.113.5/28" has host bits set; did you mean 203.0.113.0/28?',
    );
  });

  it('fails the checks when it does not render, with kustomize’s message', async () => {
    const broken = join(dir, 'broken');
    await cp(overlayDir('aws'), broken, { recursive: true });
    expect((await checkOverlay(broken)).join('\n')).toMatch(/kubectl kustomize .* failed:[\s\S]*base/);
  });
});
