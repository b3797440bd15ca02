import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import type {
  V1ClusterRoleBinding,
  V1DaemonSet,
  V1Deployment,
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
  allContainers,
  checkOverlay,
  configsOf,
  container,
  differing,
  find,
  keyFiles,
  kustomize,
  LB_CAPABILITIES,
  lbDeployment,
  type Manifest,
  nodeAgentDaemonSet,
  OVERLAYS,
  type Overlay,
  overlayDir,
  podSpec,
  readsKeys,
  secretMounts,
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

/**
 * What a SIGTERM'd sidecar may take beyond drain.seconds: exabgp's withdraw ack (5 s), the wait
 * for the router to stop using this next hop (NEXT_HOP_WAIT_S), stopping exabgp (5 s), and
 * flushing Events; then the native sidecars stop.
 */
const NEXT_HOP_WAIT_S = 10;
const SHUTDOWN_BEYOND_DRAIN_S = 5 + NEXT_HOP_WAIT_S + 5 + 1;
const DOWNWARD_API = {
  POD_NAME: 'metadata.name',
  POD_NAMESPACE: 'metadata.namespace',
  POD_IP: 'status.podIP',
  NODE_NAME: 'spec.nodeName',
  HOST_IP: 'status.hostIP',
};
const PORTLB_IMAGE = `localhost/portlb:${VERSION}`;
const EXABGP_IMAGE = `localhost/portlb-exabgp:${VERSION}`;
/** The sidecar's image per overlay: bgp needs exabgp beside portlb, in the container it supervises it from. */
const SIDECAR_IMAGE: Record<Overlay, string> = {
  'onprem-bgp': EXABGP_IMAGE,
  aws: PORTLB_IMAGE,
  gcp: PORTLB_IMAGE,
  'gcp-pubsub': PORTLB_IMAGE,
};
/** What each overlay's cloud adds to the sidecar's ServiceAccount: the identity it acts as. */
const SERVICE_ACCOUNT_ANNOTATIONS: Record<Overlay, string[]> = {
  'onprem-bgp': [],
  aws: ['eks.amazonaws.com/role-arn'],
  gcp: ['iam.gke.io/gcp-service-account'],
  'gcp-pubsub': ['iam.gke.io/gcp-service-account'],
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
    const result = await validate(text, secretMounts(lbDeployment(objectsOf(overlay))));
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

  it('runs the data plane as a native sidecar: started first, stopped last, its /readyz gating the pod', () => {
    const config = configOf(overlay);
    const deployment = lbDeployment(objectsOf(overlay));
    const pod = podSpec(deployment);
    const dataPlane = pod.initContainers?.[0];
    expect(dataPlane?.name).toBe('dataplane');
    expect(dataPlane?.restartPolicy).toBe('Always');
    expect(dataPlane?.image).toBe(PORTLB_IMAGE);
    expect(dataPlane?.args).toEqual(['dataplane', '--config', '/etc/portlb/config.yaml']);
    expect(dataPlane?.ports).toEqual([
      { name: 'dataplane', containerPort: portOf(config.dataPlane?.listen ?? '') },
    ]);
    expect(dataPlane?.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'dataplane' });
    expect(dataPlane?.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'dataplane' });
    // The config alone: it reads no key (checked below).
    expect(dataPlane?.volumeMounts).toEqual([{ name: 'config', mountPath: '/etc/portlb', readOnly: true }]);
    expect(dataPlane?.env).toBeUndefined();
    // The health gate goes through the data plane, so an LB whose rules cannot serve withdraws.
    expect(config.dataPlane?.kind).toBe('nftables');
    expect(config.health.probe.through).toBe('vip');
    // Forwarding in the pod's namespace for every VIP family the config has (unsafe sysctls:
    // the kubelet allowlist, deploy/README.md).
    const families = new Set(config.services.map((svc) => (svc.vip.includes(':') ? 6 : 4)));
    expect(pod.securityContext?.sysctls).toEqual([
      ...(families.has(4) ? [{ name: 'net.ipv4.ip_forward', value: '1' }] : []),
      ...(families.has(6) ? [{ name: 'net.ipv6.conf.all.forwarding', value: '1' }] : []),
    ]);
  });

  it('runs bfdd beside exabgp exactly where the config turns BFD on, from its rendered config', () => {
    const config = configOf(overlay);
    const deployment = lbDeployment(objectsOf(overlay));
    const pod = podSpec(deployment);
    const bfdd = pod.initContainers?.find((c) => c.name === 'bfdd');
    if (config.bgp?.bfd === undefined) {
      expect(bfdd).toBeUndefined();
      return;
    }
    expect(config.mode).toBe('bgp');
    // After the data plane: it starts after it and is stopped before it.
    expect(pod.initContainers?.map((c) => c.name)).toEqual(['dataplane', 'bfdd']);
    expect(bfdd?.restartPolicy).toBe('Always');
    expect(bfdd?.image).toBe(EXABGP_IMAGE);
    expect(bfdd?.command).toEqual(['sh', '-c']);
    const [script = ''] = bfdd?.args ?? [];
    expect(script).toMatch(
      /^portlb render bfdd --config \/etc\/portlb\/config\.yaml >\/run\/frr\/bfdd\.conf && exec \/usr\/lib\/frr\/bfdd -f \/run\/frr\/bfdd\.conf /,
    );
    // Every path FRR would write is in its own memory volume; no TCP vty.
    expect(script).toContain('-z /run/frr/zserv.api --vty_socket /run/frr -i /run/frr/bfdd.pid');
    expect(script).toContain('-P 0');
    // What `render bfdd` reads of the Downward API: the session address, the node, the next hop.
    expect(
      Object.fromEntries((bfdd?.env ?? []).map((e) => [e.name, e.valueFrom?.fieldRef?.fieldPath])),
    ).toEqual({ POD_IP: 'status.podIP', NODE_NAME: 'spec.nodeName', HOST_IP: 'status.hostIP' });
    expect(bfdd?.volumeMounts).toEqual([
      { name: 'config', mountPath: '/etc/portlb', readOnly: true },
      { name: 'frr', mountPath: '/run/frr' },
    ]);
    expect(pod.volumes).toContainEqual({ name: 'frr', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } });
  });

  it('mounts the TCP-MD5 key Secret where the config names it, in exactly the containers that read it: the sidecar', async () => {
    const objects = objectsOf(overlay);
    const keys = keyFiles(await readFile(`${overlayDir(overlay)}/config.yaml`, 'utf8'));
    const secretsOf = (workload: V1Deployment | V1DaemonSet) =>
      (podSpec(workload).volumes ?? []).filter((v) => v.secret !== undefined);
    // Every container loads the config, each checking only the files it reads (FILES_CHECKED).
    for (const workload of [lbDeployment(objects), nodeAgentDaemonSet(objects)]) {
      for (const c of allContainers(workload)) {
        const loads = [...(c.args ?? []), ...(c.command ?? [])]
          .join(' ')
          .includes('--config /etc/portlb/config.yaml');
        expect(loads, c.name).toBe(true);
      }
    }
    // The node agent reads no key, so it mounts no Secret, in any overlay.
    expect(secretsOf(nodeAgentDaemonSet(objects))).toEqual([]);
    const deployment = lbDeployment(objects);
    if (keys.length === 0) {
      expect(secretsOf(deployment)).toEqual([]);
      return;
    }
    const [mount, ...others] = secretMounts(deployment);
    expect(others).toEqual([]);
    for (const key of keys) expect(key.startsWith(`${mount}/`), key).toBe(true);
    expect(secretsOf(deployment)).toEqual([
      { name: 'bgp-md5', secret: { secretName: 'portlb-bgp-md5', defaultMode: 0o440 } },
    ]);
    const mounting = allContainers(deployment).filter((c) =>
      (c.volumeMounts ?? []).some((m) => m.name === 'bgp-md5'),
    );
    const reading = allContainers(deployment).filter(readsKeys);
    expect(reading.map((c) => c.name)).toEqual(['portlb']);
    expect(mounting.map((c) => c.name)).toEqual(reading.map((c) => c.name));
    expect(container(deployment, 'portlb').volumeMounts).toContainEqual({
      name: 'bgp-md5',
      mountPath: mount,
      readOnly: true,
    });
    // 0440 with the pod's fsGroup: the sidecar (uid 65532) reads it.
    expect(podSpec(deployment).securityContext?.fsGroup).toBe(65532);
  });

  it('gives the sidecar time to withdraw, wait for the router and drain, and starts the withdraw at SIGTERM', () => {
    const config = configOf(overlay);
    const deployment = lbDeployment(objectsOf(overlay));
    const pod = podSpec(deployment);
    // The formula (deploy/README.md "Stopping"): drain.seconds + the next-hop wait + 20.
    expect(pod.terminationGracePeriodSeconds).toBe(config.drain.seconds + NEXT_HOP_WAIT_S + 20);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(
      config.drain.seconds + SHUTDOWN_BEYOND_DRAIN_S,
    );
    // A preStop hook would run before SIGTERM and so only delay the withdraw; the data plane
    // outlives the sidecar as a native sidecar, without a hook that sleeps.
    for (const c of allContainers(deployment)) expect(c.lifecycle, c.name).toBeUndefined();
  });

  it('asks each container for what it uses and no more: no privilege, read-only, non-root but where capabilities are added', () => {
    const deployment = lbDeployment(objectsOf(overlay));
    const pod = podSpec(deployment);
    expect(pod.hostNetwork).toBeUndefined();
    expect(pod.hostPID).toBeUndefined();
    expect(pod.shareProcessNamespace).toBeUndefined();
    const { sysctls: _, ...podContext } = pod.securityContext ?? {};
    expect(podContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      fsGroup: 65532,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    for (const c of allContainers(deployment)) {
      const wanted = LB_CAPABILITIES[c.name];
      expect(wanted, `${c.name}: a container nobody accounted for`).toBeDefined();
      const capabilities = wanted?.length ? { drop: ['ALL'], add: wanted } : { drop: ['ALL'] };
      // Kubernetes grants added capabilities to uid 0 only (no ambient capabilities).
      const user = wanted?.length ? { runAsNonRoot: false, runAsUser: 0, runAsGroup: 0 } : {};
      expect(c.securityContext, c.name).toEqual({
        ...user,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities,
      });
    }
    // The only writable places are in memory: /tmp (exabgp's config, Node's compile cache) and
    // bfdd's /run/frr.
    const sidecar = container(deployment, 'portlb');
    expect(sidecar.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
    expect(pod.volumes).toContainEqual({ name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } });
    for (const v of pod.volumes ?? []) {
      if (v.emptyDir) expect(v.emptyDir.medium, v.name).toBe('Memory');
      expect(v.hostPath, v.name).toBeUndefined();
    }
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

/**
 * An LB Deployment without what bgp mode adds (lb-bgp.yaml): the sidecar's exabgp image, the key's
 * Secret and bfdd. What is left must be the same in every overlay.
 */
function withoutBgp(deployment: V1Deployment & Manifest): Manifest {
  const copy = structuredClone(deployment);
  const pod = copy.spec?.template.spec;
  if (pod === undefined) throw new Error('no pod template');
  const sidecar = pod.containers[0];
  if (sidecar?.image === EXABGP_IMAGE) sidecar.image = PORTLB_IMAGE;
  pod.initContainers = pod.initContainers?.filter((c) => c.name !== 'bfdd');
  for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
    c.volumeMounts = c.volumeMounts?.filter((m) => m.name !== 'bgp-md5');
  }
  pod.volumes = pod.volumes?.filter((v) => v.name !== 'bgp-md5' && v.name !== 'frr');
  return JSON.parse(JSON.stringify(copy).replace(/"name":"web-lb-[a-z0-9]{10}"/g, '"name":"web-lb"'));
}

describe('what the overlays differ in', () => {
  it('only the config, what bgp brings to the LB pods, and each cloud’s extras: the node agent is the same everywhere', () => {
    const configMaps = ['ConfigMap portlb-system/portlb-node-agent', 'ConfigMap web/web-lb'];
    const extras: Record<Overlay, string[]> = {
      'onprem-bgp': ['Deployment web/web-lb'],
      aws: [
        'Lease web/portlb-leader',
        'Role web/portlb-sidecar-lease',
        'RoleBinding web/portlb-sidecar-lease',
        'ServiceAccount web/portlb-sidecar',
      ],
      gcp: ['ServiceAccount web/portlb-sidecar'],
      'gcp-pubsub': ['ServiceAccount web/portlb-sidecar'],
    };
    for (const a of OVERLAYS) {
      for (const b of OVERLAYS.filter((o) => o !== a)) {
        const cloud = a.startsWith('gcp') && b.startsWith('gcp') ? [] : [...extras[a], ...extras[b]];
        expect(differing(objectsOf(a), objectsOf(b)), `${a} vs ${b}`).toEqual(
          [...new Set([...configMaps, ...cloud])].sort(),
        );
      }
    }
    // The Deployment differs in what bgp adds alone.
    const [first, ...rest] = OVERLAYS.map((o) => withoutBgp(lbDeployment(objectsOf(o))));
    for (const other of rest) expect(other).toEqual(first);
    // The ServiceAccount in the identity each cloud gives it, and nothing else.
    for (const overlay of OVERLAYS) {
      const account = find<V1ServiceAccount & Manifest>(
        objectsOf(overlay),
        'ServiceAccount',
        'portlb-sidecar',
      );
      expect(Object.keys(account.metadata.annotations ?? {}), overlay).toEqual(
        SERVICE_ACCOUNT_ANNOTATIONS[overlay],
      );
    }
  });

  it('gcp and gcp-pubsub: the same objects, the config differing in gcp.publish (and its topic) alone', async () => {
    const [routes, pubsub] = await Promise.all(
      ['gcp', 'gcp-pubsub'].map(async (o) =>
        parseYaml(await readFile(`${overlayDir(o)}/config.yaml`, 'utf8'), o),
      ),
    );
    const { gcp: a, ...restA } = routes as { gcp: Record<string, unknown> };
    const { gcp: b, ...restB } = pubsub as { gcp: Record<string, unknown> };
    expect(restB).toEqual(restA);
    expect({ ...b, publish: 'routes', topic: undefined }).toEqual({ ...a, topic: undefined });
    expect([configOf('gcp').gcp?.publish, configOf('gcp-pubsub').gcp?.publish]).toEqual(['routes', 'pubsub']);
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
