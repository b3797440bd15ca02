/**
 * The shipped sidecar (dist/cli/portlb.mjs) in `mode: auto` on a real kube-apiserver: its Node's
 * `gce://` providerID makes it pick gcp, and it writes its own routes through the real Compute
 * client to the Compute stand-in (a static test token; the metadata server is switched off), leaves
 * the other LBs' routes alone, and on SIGTERM deletes its own routes before it drains and exits.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventsV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routeDescription, routeName } from '../../src/registry/gcp/names.js';
import { type ComputeStandin, startComputeStandin } from '../support/compute-standin/server.js';
import { eventually, fixtures } from './kube/fixtures.js';
import { freePort, type KubeTestServer, startKube } from './kube/harness.js';

const NS = 'lb';
const PROJECT = 'portlb-test';
const ZONE = 'europe-west1-b';
const VIP = '203.0.113.0/28';

describe('sidecar, mode auto on GCE, against the Compute stand-in', () => {
  let kube: KubeTestServer;
  let standin: ComputeStandin;
  let backend: Server;
  let dir: string;
  let child: ChildProcess | undefined;
  let logs = '';
  const lb: string[] = [];

  beforeAll(async () => {
    kube = await startKube();
    standin = await startComputeStandin();
    standin.addProject(PROJECT, ['vpc']);
    for (const name of ['lb-1', 'lb-2']) {
      lb.push(
        standin.setInstance({ project: PROJECT, zone: ZONE, name, status: 'RUNNING', canIpForward: true }),
      );
    }
    // lb-2's route, as its own sidecar wrote it.
    seedOwnRoute(lb[1] ?? '');
    backend = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
    dir = await mkdtemp(join(tmpdir(), 'portlb-gcp-sidecar-'));
    await writeFile(join(dir, 'kubeconfig'), kube.admin.exportConfig(), { mode: 0o600 });
    await kube.createNamespace(NS);
    const fx = fixtures(kube.admin);
    await fx.node('n1', { address: '10.0.0.1', providerID: `gce://${PROJECT}/${ZONE}/lb-1` });
    await fx.lbPod(NS, 'lb-a', { node: 'n1', hostIP: '10.0.0.1', ready: true });
  });

  afterAll(async () => {
    if (child?.exitCode === null) child.kill('SIGKILL');
    await kube?.stop();
    await standin?.close();
    await new Promise((resolve) => backend?.close(resolve));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** A route of owner portlb to `instance`, as that instance's own sidecar writes it. */
  function seedOwnRoute(instance: string) {
    standin.state.seedRoute(PROJECT, {
      name: routeName('portlb', VIP, instance),
      destRange: VIP,
      network: 'vpc',
      nextHopInstance: instance,
      description: routeDescription('portlb', VIP, instance),
    });
  }

  /** Starts the shipped sidecar of pod lb-a on n1 (lines added to its config); resolves on its exit. */
  async function startSidecar(extra: string[] = []) {
    const port = await freePort();
    const config = join(dir, 'sidecar.yaml');
    const backendPort = (backend.address() as { port: number }).port;
    await writeFile(
      config,
      [
        'mode: auto',
        'allowedVipPools: [203.0.113.0/24]',
        'services:',
        `  - { name: web, vip: ${VIP}, ports: [{port: 80}], backends: { static: [{address: 127.0.0.1, port: ${backendPort}}] } }`,
        `gcp: { project: ${PROJECT}, network: vpc, endpoint: "${standin.url}"${extra.length ? `, ${extra.join(', ')}` : ''} }`,
        'bgp: { localAs: 65000, peers: [{address: 10.99.0.2, as: 65000}] }',
        'kubernetes:',
        `  kubeconfig: ${join(dir, 'kubeconfig')}`,
        '  lbPodSelector: app=portlb-lb',
        'health: { intervalSeconds: 0.2, timeoutSeconds: 0.2, rise: 1, fall: 1 }',
        'drain: { seconds: 0.5 }',
        'reconcile: { debounceMs: 20, resyncSeconds: 30 }',
        `server: { listen: 127.0.0.1:${port} }`,
        'log: { level: info }',
      ].join('\n'),
    );
    logs = '';
    child = spawn('node_modules/.bin/node', ['dist/cli/portlb.mjs', 'sidecar', '--config', config], {
      env: {
        ...process.env,
        POD_NAME: 'lb-a',
        POD_NAMESPACE: NS,
        NODE_NAME: 'n1',
        NO_PROXY: '127.0.0.1',
        PORTLB_GCP_TEST_TOKEN: 'standin-token',
        METADATA_SERVER_DETECTION: 'none',
        GCE_METADATA_HOST: '127.0.0.1:9',
        GCE_METADATA_IP: '127.0.0.1:9',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d) => (logs += String(d)));
    child.stderr?.on('data', (d) => (logs += String(d)));
    const exited = new Promise<number | null>((resolve) => child?.once('exit', (code) => resolve(code)));
    return { port, exited };
  }

  it('picks gcp from the providerID, writes only its own route, deletes it on SIGTERM', async () => {
    const { port, exited } = await startSidecar();
    const own = () => standin.routes(PROJECT).filter((r) => r.nextHopInstance === lb[0]);

    await eventually('its own route', own, (r) => r.length === 1, 30_000).catch((error) => {
      throw new Error(`${String(error)}\n${logs}`);
    });
    expect(logs).toMatch(
      /"event":"mode","mode":"gcp","reason":"providerID gce:\/\/portlb-test\/europe-west1-b\/lb-1 is GCE"/,
    );
    expect(own()[0]).toMatchObject({
      destRange: VIP,
      name: routeName('portlb', VIP, lb[0] ?? ''),
      priority: 1000,
    });
    const ready = (await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()) as {
      ready: boolean;
      detail: { gcp?: { instance?: string } };
    };
    expect(ready.detail.gcp?.instance).toBe(lb[0]);

    child?.kill('SIGTERM');
    expect(await exited).toBe(0);

    expect(own()).toEqual([]);
    expect(standin.routes(PROJECT).map((r) => r.nextHopInstance)).toEqual([lb[1]]);
    expect(logs).toMatch(/"event":"withdrawn","routes":1/);
    const events = await kube.admin.makeApiClient(EventsV1Api).listNamespacedEvent({ namespace: NS });
    expect(events.items.map((e) => `${e.regarding?.name} ${e.reason}`)).toContain('lb-a Programmed');
  });

  it('deletes a route of ours to an instance that hosts no LB pod, after gcp.orphanSeconds', async () => {
    // lb-2 gets its LB pod (so its route stays); lb-3 runs, but its LB pod is gone (SIGKILLed,
    // rescheduled elsewhere) and never withdrew its route.
    lb.push(
      standin.setInstance({
        project: PROJECT,
        zone: ZONE,
        name: 'lb-3',
        status: 'RUNNING',
        canIpForward: true,
      }),
    );
    seedOwnRoute(lb[2] ?? '');
    const fx = fixtures(kube.admin);
    await fx.node('n2', { address: '10.0.0.2', providerID: `gce://${PROJECT}/${ZONE}/lb-2` });
    await fx.lbPod(NS, 'lb-b', { node: 'n2', hostIP: '10.0.0.2', ready: true });
    const started = Date.now();
    const { exited } = await startSidecar(['orphanSeconds: 5']);
    const hops = () =>
      standin
        .routes(PROJECT)
        .map((r) => r.nextHopInstance?.split('/').at(-1))
        .sort();

    await eventually('the orphan to go', hops, (h) => !h.includes('lb-3'), 30_000).catch((error) => {
      throw new Error(`${String(error)}\n${logs}`);
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(5_000);
    expect(hops()).toEqual(['lb-1', 'lb-2']);
    // The line is written once the delete returned, so it may come a moment after the route went.
    const line = /"event":"orphan_deleted","vip":"203\.0\.113\.0\/28","target":"[^"]*\/lb-3"/;
    expect(
      await eventually(
        'the orphan_deleted line',
        () => logs,
        (l) => line.test(l),
        10_000,
      ),
    ).toMatch(line);

    child?.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(hops()).toEqual(['lb-2']);
  });
});
