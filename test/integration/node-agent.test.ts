/**
 * `portlb node-agent` (the shipped bundle) against a real kube-apiserver, programming a network
 * namespace this test creates: ECMP over the node's Ready LB pods, following readiness, deletion
 * (a terminating pod drains while it is the last one) and node NotReady, a blackhole when no pod
 * is left, never touching a route with another protocol (not even one that appears between the
 * check and the write), and leaving routes in place when it stops (a restarted agent reconciles
 * from what `ip` shows).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventsV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRouteTable, RouteConflictError } from '../../src/agent/iproute.js';
import { DEFAULT_ROUTE_PROTOCOL } from '../../src/config/schema.js';
import { eventually, fixtures } from './kube/fixtures.js';
import { freePort, type KubeTestServer, startKube } from './kube/harness.js';
import { createNodeNetns, type NodeNetns, netnsList } from './node-netns.js';

const NS = 'lb';
const PROTO = String(DEFAULT_ROUTE_PROTOCOL);
const WEB = '203.0.113.0/28';
const WEB6 = '2001:db8:1::/64';
const FAR = '203.0.113.128/28'; // its pod's IP is on no link of the node
const TAKEN = '203.0.113.48/28'; // a static route is there already: not ours
const STALE = '203.0.113.96/28'; // ours, from an earlier run, no longer configured
const FOREIGN = '198.51.100.0/24';
const RACED = '203.0.113.64/28'; // another daemon's route lands between the check and the write

interface Agent {
  readonly child: ChildProcess;
  logs: string;
  readonly exited: Promise<number | null>;
}

describe('portlb node-agent on a real API server and a network namespace', () => {
  let kube: KubeTestServer;
  let netns: NodeNetns | undefined;
  let dir: string;
  let config: string;
  let port: number;
  let writeConfig: (vips: Record<string, string>, blackholeSeconds?: number) => Promise<void>;
  const agents: Agent[] = [];
  let fx: ReturnType<typeof fixtures>;

  beforeAll(async () => {
    kube = await startKube();
    dir = await mkdtemp(join(tmpdir(), 'portlb-node-agent-'));
    const kubeconfig = join(dir, 'kubeconfig');
    await writeFile(kubeconfig, kube.admin.exportConfig(), { mode: 0o600 });
    netns = await createNodeNetns();
    await netns.ip('route', 'add', TAKEN, 'proto', 'static', 'via', '10.244.1.200');
    await netns.ip('route', 'add', FOREIGN, 'proto', 'static', 'via', '10.244.1.201');
    await netns.ip('route', 'add', STALE, 'proto', PROTO, 'via', '10.244.1.99');
    port = await freePort();
    config = join(dir, 'config.yaml');
    const netnsName = netns.name;
    writeConfig = (vips, blackholeSeconds = 10) => {
      const service = (name: string, vip: string) =>
        `  - { name: ${name}, vip: "${vip}", ports: [{port: 80}], backends: { static: [{address: 10.98.0.21, port: 80}] } }`;
      return writeFile(
        config,
        [
          'mode: bgp',
          'allowedVipPools: [203.0.113.0/24, "2001:db8::/32"]',
          'services:',
          ...Object.entries(vips).map(([name, vip]) => service(name, vip)),
          'bgp: { localAs: 65000, peers: [{ address: 10.0.0.2, as: 65000 }] }',
          'kubernetes:',
          `  kubeconfig: ${kubeconfig}`,
          `  namespace: ${NS}`,
          '  lbPodSelector: app=portlb-lb',
          // The node's IP, as the DaemonSet passes it (here loopback, so the test can reach it).
          `nodeAgent: { netns: ${netnsName}, listen: "$(HOST_IP):${port}", blackholeSeconds: ${blackholeSeconds} }`,
          'reconcile: { debounceMs: 20, resyncSeconds: 30 }',
        ].join('\n'),
      );
    };
    await writeConfig({ web: WEB, web6: WEB6, far: FAR, taken: TAKEN });
    await kube.createNamespace(NS);
    fx = fixtures(kube.admin);
    await fx.node('n1', { address: '10.0.0.1' });
    await fx.node('n2', { address: '10.0.0.2' });
    const pod = (name: string, node: string, podIP: string, services: string) =>
      fx.lbPod(NS, name, {
        node,
        hostIP: node === 'n1' ? '10.0.0.1' : '10.0.0.2',
        podIP,
        ready: true,
        annotations: { 'portlb.io/services': services },
      });
    await pod('lb-a', 'n1', '10.244.1.5', 'web,taken');
    await pod('lb-b', 'n1', '10.244.1.6', 'web');
    await pod('lb-c', 'n2', '10.244.2.7', 'web'); // another node's: never a next hop here
    await pod('lb-6', 'n1', 'fd00:244::5', 'web6');
    await pod('lb-far', 'n1', '10.99.0.5', 'far');
  });

  afterAll(async () => {
    for (const a of agents) if (a.child.exitCode === null) a.child.kill('SIGKILL');
    const name = netns?.name;
    await netns?.remove();
    await kube?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
    if (name) expect(await netnsList()).not.toContain(name);
  });

  function start(): Agent {
    const child = spawn('node_modules/.bin/node', ['dist/cli/portlb.mjs', 'node-agent', '--config', config], {
      env: { ...process.env, NODE_NAME: 'n1', HOST_IP: '127.0.0.1', NO_PROXY: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const agent: Agent = { child, logs: '', exited };
    child.stdout?.on('data', (d) => (agent.logs += String(d)));
    child.stderr?.on('data', (d) => (agent.logs += String(d)));
    agents.push(agent);
    return agent;
  }

  /** The agent's JSON log lines. */
  function logLines(agent: Agent): Record<string, unknown>[] {
    return agent.logs.split('\n').flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }

  async function stop(agent: Agent): Promise<number | null> {
    agent.child.kill('SIGTERM');
    return agent.exited;
  }

  const hops = (vip: string, expected: string[], agent: Agent, timeoutMs = 10_000) =>
    eventually(
      `${vip} via [${expected.join(', ')}]`,
      () => netns?.nexthops(vip) ?? [],
      (h) => JSON.stringify(h) === JSON.stringify(expected),
      timeoutMs,
    ).catch((error) => {
      throw new Error(`${String(error)}\n${agent.logs}`);
    });

  /** The VIP's only route is our blackhole: the node drops its packets instead of looping them. */
  const blackholed = (vip: string, agent: Agent, timeoutMs = 10_000) =>
    eventually(
      `${vip} blackholed`,
      async () => ((await netns?.route(vip)) ?? []) as { type?: string; protocol?: string }[],
      // `ip -N` prints the type as a number: RTN_BLACKHOLE is 6.
      (r) => r.length === 1 && r[0]?.type === '6' && r[0]?.protocol === PROTO,
      timeoutMs,
    ).catch((error) => {
      throw new Error(`${String(error)}\n${agent.logs}`);
    });

  async function readyz(): Promise<{ ready: boolean; detail: Record<string, unknown> } | undefined> {
    try {
      return (await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()) as {
        ready: boolean;
        detail: Record<string, unknown>;
      };
    } catch {
      return undefined;
    }
  }

  async function agentEvents(): Promise<string[]> {
    const list = await kube.admin.makeApiClient(EventsV1Api).listNamespacedEvent({ namespace: NS });
    return list.items
      .filter((e) => e.reportingController === 'portlb.io/node-agent')
      .map((e) => `${e.regarding?.name} ${e.type} ${e.reason}: ${e.note}`);
  }

  it('routes each VIP over the Ready LB pods of its node, and leaves other routes alone', async () => {
    const taken = await netns?.ip('-N', '-json', 'route', 'show', 'exact', TAKEN);
    const foreign = await netns?.ip('-N', '-json', 'route', 'show', 'exact', FOREIGN);
    const agent = start();
    await hops(WEB, ['10.244.1.5', '10.244.1.6'], agent);
    await hops(WEB6, ['fd00:244::5'], agent);
    expect((await netns?.route(WEB))?.map((r) => r.protocol)).toEqual([PROTO]);
    expect((await netns?.route(WEB6))?.map((r) => r.protocol)).toEqual([PROTO]);
    // The kernel resolves the VIP to the pods: no onlink, no other device.
    expect(await netns?.ip('route', 'get', '203.0.113.5')).toMatch(/via 10\.244\.1\.[56] dev cni0/);
    // A stale route of ours goes; routes with another protocol stay exactly as they were.
    await hops(STALE, [], agent);
    expect(await netns?.ip('-N', '-json', 'route', 'show', 'exact', TAKEN)).toBe(taken);
    expect(await netns?.ip('-N', '-json', 'route', 'show', 'exact', FOREIGN)).toBe(foreign);
    expect(await netns?.nexthops(FAR)).toEqual([]);

    const state = await eventually(
      'readyz names the failures',
      readyz,
      (s) => s?.ready === true && String(s.detail.lastError).includes('route change(s) failed'),
    );
    expect(state?.detail.routes).toMatchObject({
      [WEB]: ['10.244.1.5', '10.244.1.6'],
      [WEB6]: ['fd00:244::5'],
    });
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toContain(`portlb_node_route_nexthops{vip="${WEB}"} 2`);

    const events = await eventually(
      'Events on the LB pods',
      agentEvents,
      (e) => e.filter((x) => / (Routed|Failed):/.test(x)).length >= 5,
    );
    expect(events).toEqual(
      expect.arrayContaining([
        `lb-a Normal Routed: node n1 routes ${WEB} to this pod (10.244.1.5), ECMP over 2 pods`,
        `lb-b Normal Routed: node n1 routes ${WEB} to this pod (10.244.1.6), ECMP over 2 pods`,
        `lb-6 Normal Routed: node n1 routes ${WEB6} to this pod (fd00:244::5), ECMP over 1 pod`,
        expect.stringMatching(
          new RegExp(
            `^lb-a Warning Failed: .*${TAKEN} already has a route with protocol 4 in the main table`,
          ),
        ),
        expect.stringMatching(/^lb-far Warning Failed: .*via 10\.99\.0\.5: the kernel refuses a next hop/),
      ]),
    );
    expect(events.filter((e) => e.startsWith('lb-c '))).toEqual([]);
    expect(logLines(agent).find((l) => l.event === 'route_replace' && l.vip === WEB)).toMatchObject({
      nexthops: ['10.244.1.5', '10.244.1.6'],
      reason: 'new route for web',
    });

    // Readiness and deletion follow the pods.
    await fx.podReady(NS, 'lb-b', false);
    await hops(WEB, ['10.244.1.5'], agent);
    await eventually('Unrouted on lb-b', agentEvents, (e) =>
      e.some((x) => x.startsWith('lb-b Normal Unrouted:') && x.includes('pod lb-b is not Ready')),
    );
    // lb-a, the last Ready pod, is deleted: terminating (finalizer) but Ready, it drains.
    await fx.core.deleteNamespacedPod({ name: 'lb-a', namespace: NS });
    const draining = await eventually('readyz shows lb-a draining', readyz, (s) =>
      JSON.stringify(s?.detail.draining ?? []).includes('pod lb-a is terminating but still Ready'),
    );
    expect(draining?.detail.routes).toMatchObject({ [WEB]: ['10.244.1.5'] });
    expect(await netns?.nexthops(WEB)).toEqual(['10.244.1.5']);
    // Not Ready: no pod left, and the node drops the VIP's packets instead of looping them.
    await fx.podReady(NS, 'lb-a', false);
    await blackholed(WEB, agent);
    // The kernel refuses a lookup into a blackhole: the default route is not used.
    expect(await netns?.ip('route', 'get', '203.0.113.5').catch(String)).toMatch(/Invalid argument/);
    await eventually('Unrouted on lb-a', agentEvents, (e) =>
      e.some((x) => x.startsWith('lb-a Normal Unrouted:') && x.includes('pod lb-a is terminating')),
    );
    expect(logLines(agent).find((l) => l.msg === `route ${WEB} blackholed`)?.reason).toMatch(
      /blackholed so the node drops, not loops, its traffic/,
    );
    expect((await readyz())?.detail.blackholed).toEqual([WEB]);
    // A pod back: the blackhole becomes its route.
    await fx.podReady(NS, 'lb-b', true);
    await hops(WEB, ['10.244.1.6'], agent);

    // Node NotReady takes every route of the node away (blackholes); Ready brings them back.
    await fx.nodeReady('n1', false);
    await blackholed(WEB6, agent);
    await blackholed(WEB, agent);
    await fx.nodeReady('n1', true);
    await hops(WEB6, ['fd00:244::5'], agent);
    await hops(WEB, ['10.244.1.6'], agent);

    // SIGTERM: the agent exits and the data plane keeps its routes.
    expect(await stop(agent)).toBe(0);
    expect(agent.logs).toContain('routes left in place');
    expect(await netns?.nexthops(WEB)).toEqual(['10.244.1.6']);
    expect(await netns?.nexthops(WEB6)).toEqual(['fd00:244::5']);
    expect(await netns?.ip('-N', '-json', 'route', 'show', 'exact', TAKEN)).toBe(taken);
  });

  it('a restarted agent reconciles from what ip shows', async () => {
    const routedBefore = (await agentEvents()).filter((e) => e.startsWith('lb-6 Normal Routed')).length;
    // While no agent runs: lb-b stops being Ready, lb-a goes for good.
    await fx.podReady(NS, 'lb-b', false);
    await fx.core.patchNamespacedPod(
      { name: 'lb-a', namespace: NS, body: [{ op: 'remove', path: '/metadata/finalizers' }] },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    expect(await netns?.nexthops(WEB)).toEqual(['10.244.1.6']);
    const agent = start();
    await blackholed(WEB, agent);
    await eventually('synced', readyz, (s) => s?.ready === true);
    // The IPv6 route was right already: kept, not programmed again.
    expect(await netns?.nexthops(WEB6)).toEqual(['fd00:244::5']);
    expect(logLines(agent).filter((l) => l.event === 'route_replace' && l.vip === WEB6)).toEqual([]);
    const routedAfter = (await agentEvents()).filter((e) => e.startsWith('lb-6 Normal Routed')).length;
    expect(routedAfter).toBe(routedBefore);
    expect(await stop(agent)).toBe(0);
    expect(await netns?.nexthops(WEB6)).toEqual(['fd00:244::5']);

    // With a 1 s hold, the blackhole goes after it: the node's own clients reach the VIP through
    // the router again.
    await writeConfig({ web: WEB, web6: WEB6, far: FAR, taken: TAKEN }, 1);
    const held = start();
    await eventually(
      'WEB blackhole removed after its hold',
      () => netns?.route(WEB) ?? [],
      (r) => r.length === 0,
      8_000,
    ).catch((error) => {
      throw new Error(`${String(error)}\n${held.logs}`);
    });
    expect(logLines(held).find((l) => l.msg === `route ${WEB} removed`)?.reason).toMatch(
      /blackhole held 1 s/,
    );
    expect(await stop(held)).toBe(0);
    // Routed again, then the VIP leaves the config: its route goes too.
    await fx.podReady(NS, 'lb-b', true);
    await writeConfig({ web: WEB, web6: WEB6, far: FAR, taken: TAKEN });
    const again = start();
    await hops(WEB, ['10.244.1.6'], again);
    expect(await stop(again)).toBe(0);
    await writeConfig({ web6: WEB6, far: FAR, taken: TAKEN });
    const next = start();
    await eventually(
      'WEB has no route once it leaves the config',
      () => netns?.route(WEB) ?? [],
      (r) => r.length === 0,
    ).catch((error) => {
      throw new Error(`${String(error)}\n${next.logs}`);
    });
    expect(await netns?.nexthops(WEB6)).toEqual(['fd00:244::5']);
    expect(await stop(next)).toBe(0);
  });

  it('a route that appears between the check and the write stays as it is: a conflict', async () => {
    const ns = netns;
    if (ns === undefined) throw new Error('no netns');
    let foreign = '';
    const table = createRouteTable({
      protocol: DEFAULT_ROUTE_PROTOCOL,
      netns: ns.name,
      // Another daemon adds its route right after the agent looked: the race `ip route add` closes.
      run: async (args) => {
        const out = await ns.ip(...args);
        if (args.includes('exact') && foreign === '') {
          await ns.ip('route', 'add', RACED, 'proto', 'static', 'via', '10.244.1.202');
          foreign = await ns.ip('-N', '-json', 'route', 'show', 'exact', RACED);
        }
        return out;
      },
    });
    const change = {
      kind: 'replace',
      vip: RACED,
      nexthops: ['10.244.1.6'],
      from: [],
      create: true,
      reason: 'new route for raced',
    } as const;
    const error = await table.apply(change).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RouteConflictError);
    expect(String(error)).toMatch(
      /got a route after portlb checked the table \(File exists\): not overwritten/,
    );
    expect(foreign).toContain('"protocol":"4"');
    expect(await ns.ip('-N', '-json', 'route', 'show', 'exact', RACED)).toBe(foreign);
    expect(await table.owned()).not.toContainEqual(expect.objectContaining({ vip: RACED }));
  });
});
