import { EventsV1Api, type V1Node } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DesiredRoute } from '../../src/core/model.js';
import { createEventRecorder, type EventRecorder } from '../../src/kube/events.js';
import { createInformer } from '../../src/kube/informer.js';
import { kubeMetrics } from '../../src/kube/metrics.js';
import { pruneNode } from '../../src/kube/prune.js';
import { gcpMode } from '../../src/modes/gcp/index.js';
import { createLogger } from '../../src/runtime/logger.js';
import { createMetrics } from '../../src/runtime/metrics.js';
import { createEndpointSliceBackends } from '../../src/sources/kubernetes/backends.js';
import { createKubernetesSource, type KubernetesSource } from '../../src/sources/kubernetes/source.js';
import { eventually, fixtures } from './kube/fixtures.js';
import { type KubeTestServer, startKube } from './kube/harness.js';

const NS = 'lb';
const url = (name: string) => `https://www.googleapis.com/compute/v1/projects/p/zones/z/instances/${name}`;

describe('Kubernetes sources on a real API server', () => {
  let kube: KubeTestServer;
  let fx: ReturnType<typeof fixtures>;
  let source: KubernetesSource;
  let recorder: EventRecorder;
  const logLines: string[] = [];
  const metrics = createMetrics({ defaults: false });
  let changes = 0;

  beforeAll(async () => {
    kube = await startKube();
    fx = fixtures(kube.admin);
    await kube.createNamespace(NS);
    await fx.node('n1', { address: '10.0.0.1', providerID: 'gce://p/z/n1' });
    await fx.node('n2', { address: '10.0.0.2', providerID: 'gce://p/z/n2' });
    await fx.node('n3', { address: '10.0.0.3', providerID: 'gce://p/z/n3' });
    await fx.lbPod(NS, 'lb-1', { node: 'n1', hostIP: '10.0.0.1', ready: true });
    await fx.lbPod(NS, 'lb-2', { node: 'n2', hostIP: '10.0.0.2', ready: true });
    await fx.lbPod(NS, 'lb-3', { node: 'n3', hostIP: '10.0.0.3', ready: false });
    await fx.lbPod(NS, 'other', { node: 'n3', hostIP: '10.0.0.3', ready: true, labels: { app: 'web' } });
    const logger = createLogger('info', { write: (line: string) => void logLines.push(line) });
    recorder = createEventRecorder({
      kubeConfig: kube.admin,
      controller: 'portlb.io/sidecar',
      instance: 'test',
      logger,
    });
    source = createKubernetesSource({
      kubeConfig: kube.admin,
      namespace: NS,
      lbPodSelector: 'app=portlb-lb',
      services: [{ name: 'web', vip: '10.1.1.0/24' }],
      targetOf: gcpMode.targetOf,
      relistMs: 60_000,
      logger,
      metrics: kubeMetrics(metrics.registry),
      recorder,
      onChange: () => void changes++,
    });
    await source.start();
  });

  afterAll(async () => {
    await source?.stop();
    await kube?.stop();
  });

  const healthy = async () => {
    const routes: DesiredRoute[] = await source.desired();
    return (routes[0]?.candidates ?? []).filter((c) => c.healthy).map((c) => c.target);
  };
  const reasons = async () =>
    (await source.desired())[0]?.candidates.map((c) => `${c.target} ${c.reason ?? 'ok'}`);

  it('Ready LB pods on Ready nodes are the targets (selector excludes other pods)', async () => {
    expect(source.synced()).toBe(true);
    expect(await healthy()).toEqual([url('n1'), url('n2')]);
    expect(await reasons()).toContain(`${url('n3')} pod lb-3 is not Ready`);
    expect(source.node('n1')?.providerId).toBe('gce://p/z/n1');
  });

  it('a pod that turns Ready becomes a target; one that starts terminating is withdrawn', async () => {
    await fx.podReady(NS, 'lb-3', true);
    await eventually('lb-3 ready', healthy, (t) => t.includes(url('n3')));
    await fx.core.deleteNamespacedPod({ name: 'lb-1', namespace: NS });
    const after = await eventually('lb-1 withdrawn', healthy, (t) => !t.includes(url('n1')));
    expect(after).toEqual([url('n2'), url('n3')]);
    expect(await reasons()).toContain(`${url('n1')} pod lb-1 is terminating`);
  });

  it('a node that goes NotReady takes its LB pods out', async () => {
    await fx.nodeReady('n2', false);
    await eventually('n2 out', healthy, (t) => !t.includes(url('n2')));
    expect(await reasons()).toContain(`${url('n2')} node n2 is NotReady (KubeletNotReady)`);
    await fx.nodeReady('n2', true);
    await eventually('n2 back', healthy, (t) => t.includes(url('n2')));
  });

  it('a malformed annotation: an Event and a log line naming the field, no route change', async () => {
    const before = await source.desired();
    await fx.annotate(NS, 'lb-2', { 'portlb.io/rank': 'bad rank!' });
    await eventually(
      'refusal logged',
      async () => {
        await source.desired();
        return logLines.filter((l) => l.includes('"event":"refused"'));
      },
      (lines) => lines.length > 0,
    );
    expect(await source.desired()).toEqual(before);
    const line = logLines.find((l) => l.includes('"event":"refused"')) ?? '';
    expect(JSON.parse(line)).toMatchObject({ field: 'portlb.io/rank', pod: 'lb/lb-2' });
    await recorder.flush();
    const events = await kube.admin.makeApiClient(EventsV1Api).listNamespacedEvent({
      namespace: NS,
      fieldSelector: 'regarding.name=lb-2',
    });
    expect(events.items.map((e) => [e.type, e.reason, e.note?.split(':')[0]])).toEqual([
      ['Warning', 'Refused', 'malformed annotation portlb.io/rank'],
    ]);
    // What an operator sees.
    const describe = await kube.kubectl(['describe', 'pod', 'lb-2', '-n', NS]);
    expect(describe.stdout).toMatch(
      /Warning\s+Refused\s+.*portlb\.io\/sidecar\s+malformed annotation portlb\.io\/rank/,
    );
    // Refused once, not on every reconcile.
    await source.desired();
    expect(logLines.filter((l) => l.includes('"event":"refused"'))).toHaveLength(1);
    await fx.annotate(NS, 'lb-2', { 'portlb.io/rank': null });
  });

  it('API server down: the last known state stays and the metric says the API is down', async () => {
    const before = await source.desired();
    await kube.stopApiServer();
    const apiUp = async () =>
      (await metrics.registry.getSingleMetric('portlb_kube_api_up')?.get())?.values ?? [];
    await eventually('api down seen', apiUp, (v) => v.some((x) => x.value === 0), 15_000);
    expect(await source.desired()).toEqual(before);
    expect(source.degraded().length).toBeGreaterThan(0);
    await kube.startApiServer();
    await eventually('api up again', apiUp, (v) => v.length > 0 && v.every((x) => x.value === 1), 30_000);
    await fx.podReady(NS, 'lb-3', false);
    await eventually('changes flow again', healthy, (t) => !t.includes(url('n3')));
    expect(changes).toBeGreaterThan(0);
  });
});

describe('informer against a stalled API server', () => {
  let kube: KubeTestServer;
  beforeAll(async () => {
    kube = await startKube();
  });
  afterAll(async () => kube?.stop());

  it('a hung API server is noticed by the periodic relist; the cache stays; it recovers', async () => {
    const fx = fixtures(kube.admin);
    await fx.node('n1', { address: '10.0.0.1' });
    const metrics = createMetrics({ defaults: false });
    const informer = createInformer<V1Node>({
      resource: 'nodes',
      kubeConfig: kube.admin,
      path: '/api/v1/nodes',
      list: () => fx.core.listNode(),
      prune: pruneNode,
      relistMs: 1_000,
      listTimeoutMs: 1_000,
      backoff: { minMs: 200, maxMs: 1_000 },
      logger: createLogger('silent'),
      metrics: kubeMetrics(metrics.registry),
    });
    await informer.start();
    expect(informer.list().map((n) => n.metadata?.name)).toEqual(['n1']);
    kube.pauseApiServer(true);
    try {
      await eventually(
        'stall noticed',
        () => informer.up(),
        (up) => !up,
        10_000,
      );
      expect(informer.lastError()).toContain('timed out');
      expect(informer.list().map((n) => n.metadata?.name)).toEqual(['n1']);
    } finally {
      kube.pauseApiServer(false);
    }
    await eventually(
      'recovered',
      () => informer.up(),
      (up) => up,
      15_000,
    );
    await fx.node('n2', { address: '10.0.0.2' });
    await eventually(
      'sees changes again',
      () => informer.list().length,
      (n) => n === 2,
      5_000,
    );
    const restarts = await metrics.registry.getSingleMetric('portlb_kube_informer_restarts_total')?.get();
    const byReason = Object.fromEntries((restarts?.values ?? []).map((v) => [v.labels.reason, v.value]));
    expect(byReason.relist).toBeGreaterThan(0);
    expect(byReason.error).toBeGreaterThan(0);
    await informer.stop();
  });
});

describe('EndpointSlice backends on a real API server', () => {
  let kube: KubeTestServer;
  let fx: ReturnType<typeof fixtures>;

  beforeAll(async () => {
    kube = await startKube();
    fx = fixtures(kube.admin);
    await kube.createNamespace('app');
  });
  afterAll(async () => kube?.stop());

  it('ready, non-terminating endpoints with the Service port; none ready -> empty', async () => {
    await fx.service('app', 'web', [
      { name: 'http', port: 80, targetPort: 8080 },
      { name: 'admin', port: 9000, targetPort: 9090 },
    ]);
    const ports = [
      { name: 'http', port: 8080, protocol: 'TCP' },
      { name: 'admin', port: 9090, protocol: 'TCP' },
    ];
    await fx.slice('app', 'web-a', 'web', {
      ports,
      endpoints: [
        { addresses: ['10.244.0.1'], conditions: { ready: true }, nodeName: 'n1' },
        { addresses: ['10.244.0.2'], conditions: { ready: false } },
        { addresses: ['10.244.0.3'], conditions: { ready: false, serving: true, terminating: true } },
        { addresses: ['10.244.0.4'] },
      ],
    });
    await fx.slice('app', 'web-b', 'web', {
      ports,
      endpoints: [{ addresses: ['10.244.1.1'], conditions: { ready: true } }],
    });
    await fx.slice('app', 'other', 'other', {
      ports,
      endpoints: [{ addresses: ['10.9.9.9'], conditions: { ready: true } }],
    });

    const backends = createEndpointSliceBackends({
      kubeConfig: kube.admin,
      services: [
        { name: 'web', namespace: 'app', service: 'web' },
        { name: 'web-admin', namespace: 'app', service: 'web', port: 'admin' },
      ],
      relistMs: 60_000,
      logger: createLogger('silent'),
    });
    const changed: string[] = [];
    backends.onChange((s) => changed.push(s));
    await backends.start?.();
    expect(backends.backends('web')).toEqual([
      { address: '10.244.0.1', port: 8080, name: 'http', nodeName: 'n1' },
      { address: '10.244.0.4', port: 8080, name: 'http' },
      { address: '10.244.1.1', port: 8080, name: 'http' },
    ]);
    expect(backends.backends('web-admin').map((b) => `${b.address}:${b.port}`)).toEqual([
      '10.244.0.1:9090',
      '10.244.0.4:9090',
      '10.244.1.1:9090',
    ]);

    // A backend that starts terminating leaves the set before it goes.
    await fx.patchSlice('app', 'web-b', {
      endpoints: [
        { addresses: ['10.244.1.1'], conditions: { ready: false, serving: true, terminating: true } },
      ],
    });
    await eventually(
      'web-b terminating',
      () => backends.backends('web').length,
      (n) => n === 2,
    );
    expect(changed).toContain('web');

    // No ready endpoint anywhere: the set is empty (the health gate withdraws on that).
    await fx.patchSlice('app', 'web-a', {
      endpoints: [{ addresses: ['10.244.0.1'], conditions: { ready: false } }],
    });
    await eventually(
      'no ready endpoints',
      () => backends.backends('web'),
      (b) => b.length === 0,
    );
    expect(backends.backends('unknown')).toEqual([]);
    await backends.stop?.();
  });
});
