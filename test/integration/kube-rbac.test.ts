import { readFile } from 'node:fs/promises';
import { EventsV1Api, type KubeConfig, Watch } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeAgent } from '../../src/agent/agent.js';
import { createRouteTable } from '../../src/agent/iproute.js';
import { type Config, parseConfig, parseYaml } from '../../src/config/load.js';
import { httpStatus } from '../../src/kube/client.js';
import { modeDescriptor } from '../../src/modes/index.js';
import { silentLogger } from '../../src/runtime/logger.js';
import { createMetrics } from '../../src/runtime/metrics.js';
import { createKubernetesContext, type KubernetesContext } from '../../src/sources/kubernetes/context.js';
import { eventually } from './kube/fixtures.js';
import { type KubeTestServer, startKube } from './kube/harness.js';
import { createWebCluster } from './kube/web-cluster.js';
import { createNodeNetns, type NodeNetns, netnsList } from './node-netns.js';

const NS = 'web';
const WRITE_VERBS = ['create', 'update', 'patch', 'delete', 'deletecollection', '*'];

/** The overlay applied below: its ConfigMaps ship this file to the LB pods and the node agent. */
const OVERLAY = 'deploy/k8s/overlays/aws';

/** The overlay's config, as a process with this environment would load it. */
async function manifestConfig(env: Record<string, string>): Promise<Config> {
  const file = `${OVERLAY}/config.yaml`;
  return parseConfig(parseYaml(await readFile(file, 'utf8'), file), env);
}

/** The overlay's config, as the sidecar in pod `name` on `node` would load it. */
function exampleConfig(name: string, node: string): Promise<Config> {
  return manifestConfig({
    POD_NAME: name,
    POD_NAMESPACE: NS,
    NODE_NAME: node,
    HOST_IP: '10.0.0.1',
  });
}

/** Rows of `kubectl auth can-i --list` that grant a write verb. */
function writeRows(listing: string): string[] {
  return listing
    .split('\n')
    .slice(1)
    .filter((row) => {
      const verbs = /\[([^\]]*)\]\s*$/.exec(row)?.[1]?.split(/\s+/) ?? [];
      return verbs.some((v) => WRITE_VERBS.includes(v));
    })
    .map((row) => row.trim().replace(/\s+/g, ' '));
}

describe('RBAC from deploy/k8s (the aws overlay) on a real API server', () => {
  let kube: KubeTestServer;
  let sidecarToken: string;
  let agentToken: string;
  let sidecar: KubeConfig;
  const runtimes: KubernetesContext[] = [];
  let netns: NodeNetns | undefined;

  beforeAll(async () => {
    kube = await startKube();
    const applied = await kube.kubectl(['apply', '-k', OVERLAY]);
    expect(applied.stderr).toBe('');
    await kube.ensureServiceAccount(NS, 'default');
    sidecarToken = await kube.serviceAccountToken(NS, 'portlb-sidecar');
    agentToken = await kube.serviceAccountToken('portlb-system', 'portlb-node-agent');
    sidecar = kube.kubeConfigFor(sidecarToken);
    await createWebCluster(kube.admin, NS);
  });

  afterAll(async () => {
    for (const r of runtimes) await r.stop();
    const name = netns?.name;
    await netns?.remove();
    await kube?.stop();
    if (name) expect(await netnsList()).not.toContain(name);
  });

  it('the sidecar works with exactly its Role: LB pods, Nodes, EndpointSlices, its Lease, Events', async () => {
    const config = await exampleConfig('web-lb-1', 'n1');
    // aws: every LB pod is a candidate and one writer holds the Lease.
    const aws = createKubernetesContext({
      config,
      mode: modeDescriptor('aws'),
      logger: silentLogger(),
      metrics: createMetrics({ defaults: false }),
      trigger: () => {},
      kubeConfig: sidecar,
    });
    runtimes.push(aws);
    await aws.start();
    expect(aws.source.degraded()).toEqual([]);
    const routes = await aws.source.desired();
    expect(routes[0]?.candidates.map((c) => `${c.target}:${c.healthy}`)).toEqual([
      'i-0aaa:true',
      'i-0bbb:true',
    ]);
    expect(aws.ownNode()?.providerId).toBe('aws:///eu-west-1a/i-0aaa');
    expect(aws.backends.backends('web')).toEqual([{ address: '10.244.0.5', port: 8080, name: 'http' }]);
    await eventually(
      'leader',
      () => aws.elector?.isLeader(),
      (x) => x === true,
      5_000,
    );

    aws.recordChanges(
      [
        {
          kind: 'replace',
          table: 'rtb-1',
          vip: '203.0.113.0/28',
          from: 'eni-1',
          target: 'eni-2',
          reason: { code: 'unhealthy', target: 'eni-1', detail: 'test' },
        },
      ],
      [],
    );
    await aws.recorder.flush();
    const events = await kube.admin.makeApiClient(EventsV1Api).listNamespacedEvent({ namespace: NS });
    expect(events.items.map((e) => e.reason)).toContain('Failover');

    // The elector's watch on its Lease passes RBAC only because it selects the Lease by name.
    const watchLeases = (query: Record<string, string>) =>
      new Promise<string>((resolve) => {
        void new Watch(sidecar)
          .watch(
            `/apis/coordination.k8s.io/v1/namespaces/${NS}/leases`,
            query,
            (type) => resolve(type),
            (err) => resolve(`HTTP ${httpStatus(err)}`),
          )
          .then((abort) => setTimeout(() => abort.abort(), 2_000));
      });
    expect(await watchLeases({ fieldSelector: 'metadata.name=portlb-leader' })).toBe('ADDED');
    expect(await watchLeases({})).toBe('HTTP 403');

    // bgp: only the own pod, and only the own Node (a field-selected watch).
    const bgp = createKubernetesContext({
      config: await exampleConfig('web-lb-2', 'n2'),
      mode: modeDescriptor('bgp'),
      logger: silentLogger(),
      metrics: createMetrics({ defaults: false }),
      trigger: () => {},
      kubeConfig: sidecar,
    });
    runtimes.push(bgp);
    await bgp.start();
    expect(bgp.source.degraded()).toEqual([]);
    expect((await bgp.source.desired())[0]?.candidates).toEqual([
      { target: '10.0.0.2', rank: 'n2', healthy: true },
    ]);
  });

  it('the node agent reads LB pods and Nodes and records Events with its own Role', async () => {
    // The real agent, configured by the overlay's ConfigMap, programming a namespace of ours.
    netns = await createNodeNetns();
    const config = await manifestConfig({ NODE_NAME: 'n1' });
    const agent = createNodeAgent({
      config,
      nodeName: 'n1',
      kubeConfig: kube.kubeConfigFor(agentToken),
      table: createRouteTable({ protocol: config.nodeAgent.routeProtocol, netns: netns.name }),
      logger: silentLogger(),
      metrics: createMetrics({ defaults: false }),
      trigger: () => {},
    });
    try {
      await agent.start();
      expect(agent.notReady()).toEqual([]);
      expect(agent.status()).not.toHaveProperty('degraded');
      const outcome = await agent.reconcile('test');
      // Only its node's LB pod (web-lb-2 is on n2), from the Node it may read.
      expect(outcome.failed).toEqual([]);
      expect(outcome.wanted).toEqual([{ vip: '203.0.113.0/28', service: 'web', nexthops: ['10.244.1.5'] }]);
      expect(await netns.nexthops('203.0.113.0/28')).toEqual(['10.244.1.5']);
      await agent.recorder.flush();
    } finally {
      await agent.stop();
    }
    const events = await kube.admin.makeApiClient(EventsV1Api).listNamespacedEvent({ namespace: NS });
    const mine = events.items.filter((e) => e.reportingController === 'portlb.io/node-agent');
    expect(mine.map((e) => `${e.regarding?.name} ${e.reason} ${e.reportingInstance}`)).toEqual([
      'web-lb-1 Routed n1',
    ]);
  });

  it('kubectl auth can-i: no Secrets, no writes beyond the Lease and Events', async () => {
    const can = async (token: string, ...args: string[]) =>
      (await kube.kubectl(['auth', 'can-i', ...args], { token })).stdout.trim();
    for (const [who, token] of [
      ['sidecar', sidecarToken],
      ['node agent', agentToken],
    ] as const) {
      for (const ns of [NS, 'portlb-system', 'kube-system']) {
        expect(`${who} ${ns} ${await can(token, 'get', 'secrets', '-n', ns)}`).toBe(`${who} ${ns} no`);
        expect(`${who} ${ns} ${await can(token, 'list', 'secrets', '-n', ns)}`).toBe(`${who} ${ns} no`);
      }
      expect(await can(token, 'patch', 'pods', '-n', NS)).toBe('no');
      expect(await can(token, 'update', 'nodes')).toBe('no');
      expect(await can(token, 'create', 'leases', '-n', NS)).toBe('no');
      expect(await can(token, 'create', 'events.events.k8s.io', '-n', NS)).toBe('yes');
    }
    expect(await can(sidecarToken, 'update', 'leases/portlb-leader', '-n', NS)).toBe('yes');
    expect(await can(sidecarToken, 'update', 'leases/someone-else', '-n', NS)).toBe('no');
    expect(await can(agentToken, 'update', 'leases/portlb-leader', '-n', NS)).toBe('no');

    // The whole list: every row with a write verb is Events, the one Lease, or the
    // self-review APIs every authenticated user has.
    const allowed =
      /^(events\.events\.k8s\.io|leases\.coordination\.k8s\.io \[\] \[portlb-leader\]|self\w+reviews\.[\w.]+) /;
    for (const token of [sidecarToken, agentToken]) {
      const listing = await kube.kubectl(['auth', 'can-i', '--list', '-n', NS], { token });
      const rows = writeRows(listing.stdout);
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.filter((row) => !allowed.test(row))).toEqual([]);
    }
  });
});
