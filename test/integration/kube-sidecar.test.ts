/**
 * Two `portlb sidecar` processes (mode aws, routes written to state files) share a Lease on a
 * real API server: one writes, the other waits; SIGTERM hands over at once, SIGKILL within the
 * lease duration + 1 s. Runs the shipped bundle (vitest's global setup builds it).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventsV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, fixtures } from './kube/fixtures.js';
import { freePort, type KubeTestServer, startKube } from './kube/harness.js';

const NS = 'lb';
const LEASE_S = 3;

interface Sidecar {
  readonly child: ChildProcess;
  readonly port: number;
  readonly state: string;
  logs: string;
}

describe('two sidecar processes share a Lease', () => {
  let kube: KubeTestServer;
  let dir: string;
  let kubeconfig: string;
  const running: Sidecar[] = [];

  beforeAll(async () => {
    kube = await startKube();
    dir = await mkdtemp(join(tmpdir(), 'portlb-kube-sidecar-'));
    kubeconfig = join(dir, 'kubeconfig');
    await writeFile(kubeconfig, kube.admin.exportConfig(), { mode: 0o600 });
    await kube.createNamespace(NS);
    const fx = fixtures(kube.admin);
    await fx.node('n1', { address: '10.0.0.1', providerID: 'aws:///eu-west-1a/i-0aaa' });
    await fx.node('n2', { address: '10.0.0.2', providerID: 'aws:///eu-west-1b/i-0bbb' });
    await fx.lbPod(NS, 'lb-a', { node: 'n1', hostIP: '10.0.0.1', ready: true });
    await fx.lbPod(NS, 'lb-b', { node: 'n2', hostIP: '10.0.0.2', ready: true });
  });

  afterAll(async () => {
    for (const s of running) if (s.child.exitCode === null) s.child.kill('SIGKILL');
    await kube?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function start(pod: string, node: string): Promise<Sidecar> {
    const port = await freePort();
    const config = join(dir, `${pod}.yaml`);
    await writeFile(
      config,
      [
        'mode: aws',
        'allowedVipPools: [203.0.113.0/24]',
        'services:',
        '  - { name: web, vip: 203.0.113.0/28, ports: [{port: 80}], backends: { static: [{address: 10.98.0.21, port: 80}] } }',
        'aws: { routeTables: { ids: [rtb-0a0a0a0a] } }',
        'kubernetes:',
        `  kubeconfig: ${kubeconfig}`,
        `  lbPodSelector: app=portlb-lb`,
        `  lease: { durationSeconds: ${LEASE_S}, renewSeconds: 2, retrySeconds: 0.5 }`,
        'reconcile: { debounceMs: 20, resyncSeconds: 30 }',
        `server: { listen: 127.0.0.1:${port} }`,
        'log: { level: warn }',
      ].join('\n'),
    );
    const state = join(dir, `${pod}.state.json`);
    const child = spawn(
      'node_modules/.bin/node',
      ['dist/cli/portlb.mjs', 'sidecar', '--config', config, '--state', state],
      {
        env: { ...process.env, POD_NAME: pod, POD_NAMESPACE: NS, NODE_NAME: node, NO_PROXY: '127.0.0.1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const sidecar: Sidecar = { child, port, state, logs: '' };
    child.stdout?.on('data', (d) => (sidecar.logs += String(d)));
    child.stderr?.on('data', (d) => (sidecar.logs += String(d)));
    running.push(sidecar);
    await eventually(
      'sidecar up',
      () => status(sidecar),
      (s) => s !== undefined,
      20_000,
    ).catch((error) => {
      throw new Error(`${String(error)}\n${sidecar.logs}`);
    });
    return sidecar;
  }

  async function status(s: Sidecar): Promise<{ leading?: boolean; leader?: string } | undefined> {
    try {
      const res = await fetch(`http://127.0.0.1:${s.port}/readyz`);
      const body = (await res.json()) as { detail?: { leading?: boolean; leader?: string } };
      return body.detail;
    } catch {
      return undefined;
    }
  }

  const routes = async (s: Sidecar) =>
    JSON.parse(await readFile(s.state, 'utf8').catch(() => '{"routes":[]}'));

  it('one writes; SIGTERM hands over at once; SIGKILL within lease + 1 s', async () => {
    const a = await start('lb-a', 'n1');
    await eventually(
      'a leads',
      () => status(a),
      (s) => s?.leading === true,
      10_000,
    );
    const b = await start('lb-b', 'n2');
    await eventually(
      'b follows',
      () => status(b),
      (s) => s?.leader === 'lb-a' && s.leading === false,
      5_000,
    );
    await eventually(
      'a wrote the route',
      () => routes(a),
      (r) => JSON.stringify(r).includes('i-0aaa'),
      10_000,
    );
    expect(JSON.stringify(await routes(b))).not.toContain('203.0.113.0/28');

    let t0 = performance.now();
    a.child.kill('SIGTERM');
    await eventually(
      'b leads',
      () => status(b),
      (s) => s?.leading === true,
      5_000,
    );
    const graceful = performance.now() - t0;
    expect(graceful).toBeLessThanOrEqual(1_000);
    await eventually(
      'b wrote the route',
      () => routes(b),
      (r) => JSON.stringify(r).includes('203.0.113.0/28'),
      5_000,
    );

    const c = await start('lb-a', 'n1');
    await eventually(
      'c follows',
      () => status(c),
      (s) => s?.leader === 'lb-b',
      5_000,
    );
    t0 = performance.now();
    b.child.kill('SIGKILL');
    await eventually(
      'c leads',
      () => status(c),
      (s) => s?.leading === true,
      (LEASE_S + 5) * 1000,
    );
    const killed = performance.now() - t0;
    expect(killed).toBeLessThanOrEqual((LEASE_S + 1) * 1000);
    console.log(
      `sidecar handover: SIGTERM ${graceful.toFixed(0)} ms, SIGKILL ${killed.toFixed(0)} ms (lease ${LEASE_S} s)`,
    );

    const events = await kube.admin.makeApiClient(EventsV1Api).listNamespacedEvent({ namespace: NS });
    const story = events.items.map((e) => `${e.regarding?.name} ${e.reason}`);
    expect(story).toEqual(expect.arrayContaining(['lb-a Leading', 'lb-a Programmed', 'lb-b Leading']));
  });
});
