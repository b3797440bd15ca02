import { CoordinationV1Api, EventsV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventRecorder } from '../../src/kube/events.js';
import { createLeaseElector } from '../../src/kube/lease.js';
import type { LeaderElector } from '../../src/runtime/leader.js';
import { silentLogger } from '../../src/runtime/logger.js';
import { eventually } from './kube/fixtures.js';
import { type KubeTestServer, startKube } from './kube/harness.js';

const NS = 'portlb';
// Short timings so the test is quick; takeover bounds are what the issue asks: <= 1 s and lease + 1 s.
const LEASE_MS = 3_000;

describe('Lease leader election and Events on a real API server', () => {
  let kube: KubeTestServer;
  const electors: LeaderElector[] = [];

  beforeAll(async () => {
    kube = await startKube();
    await kube.createNamespace(NS);
  });
  afterAll(async () => {
    for (const e of electors) await e.stop();
    await kube?.stop();
  });

  const elector = (identity: string) => {
    const e = createLeaseElector({
      kubeConfig: kube.admin,
      namespace: NS,
      name: 'portlb-leader',
      identity,
      leaseDurationMs: LEASE_MS,
      renewDeadlineMs: 2_000,
      retryPeriodMs: 500,
      logger: silentLogger(),
    });
    electors.push(e);
    return e;
  };

  it('one leader; a graceful release hands over in <= 1 s; a killed leader is replaced within lease + 1 s', async () => {
    const a = elector('pod-a');
    const b = elector('pod-b');
    const transitions: string[] = [];
    a.onChange((leading) => transitions.push(`a:${leading}`));
    b.onChange((leading) => transitions.push(`b:${leading}`));
    await a.start();
    await b.start();
    expect(a.isLeader()).toBe(true);
    expect(b.isLeader()).toBe(false);
    expect(b.holder()).toBe('pod-a');
    // Renewals keep it: no flapping over a few retry periods.
    await new Promise((r) => setTimeout(r, 1_500));
    expect([a.isLeader(), b.isLeader()]).toEqual([true, false]);

    const t0 = performance.now();
    await a.stop({ release: true });
    await eventually(
      'b leads',
      () => b.isLeader(),
      (x) => x,
      5_000,
    );
    const handover = performance.now() - t0;
    expect(handover).toBeLessThanOrEqual(1_000);

    const c = elector('pod-c');
    await c.start();
    expect(c.isLeader()).toBe(false);
    const t1 = performance.now();
    await b.stop(); // killed: no release, the Lease must expire
    await eventually(
      'c leads',
      () => c.isLeader(),
      (x) => x,
      LEASE_MS + 5_000,
    );
    const takeover = performance.now() - t1;
    expect(takeover).toBeLessThanOrEqual(LEASE_MS + 1_000);
    expect(takeover).toBeGreaterThanOrEqual(LEASE_MS - 1_000); // it did wait for expiry

    const lease = await kube.admin
      .makeApiClient(CoordinationV1Api)
      .readNamespacedLease({ name: 'portlb-leader', namespace: NS });
    expect(lease.spec?.holderIdentity).toBe('pod-c');
    expect(lease.spec?.leaseTransitions).toBeGreaterThanOrEqual(2);
    expect(transitions).toEqual(['a:true', 'a:false', 'b:true', 'b:false']);
    console.log(
      `lease handover: graceful ${handover.toFixed(0)} ms, killed ${takeover.toFixed(0)} ms (lease ${LEASE_MS} ms)`,
    );
  });

  it('aggregates a flapping loop into one Event per kind with a count, and rate-limits new ones', async () => {
    const recorder = createEventRecorder({
      kubeConfig: kube.admin,
      controller: 'portlb.io/sidecar',
      instance: 'lb-1',
      logger: silentLogger(),
      patchIntervalMs: 200,
      burst: 3,
      refillMs: 60_000,
    });
    const regarding = { namespace: NS, name: 'lb-1', uid: 'u1' };
    for (let i = 0; i < 50; i++) {
      recorder.record({
        regarding,
        type: 'Normal',
        reason: 'Announced',
        action: 'Announce',
        note: 'announced 10.1.1.0/24',
      });
      recorder.record({
        regarding,
        type: 'Normal',
        reason: 'Withdrawn',
        action: 'Withdraw',
        note: 'withdrew 10.1.1.0/24',
      });
    }
    // Distinct notes beyond the burst are dropped, not written.
    for (let i = 0; i < 5; i++) {
      recorder.record({ regarding, type: 'Warning', reason: 'Refused', action: 'Refuse', note: `bad ${i}` });
    }
    await new Promise((r) => setTimeout(r, 300));
    await recorder.close();
    const events = await kube.admin.makeApiClient(EventsV1Api).listNamespacedEvent({ namespace: NS });
    const summary = events.items.map((e) => `${e.reason}:${e.series?.count ?? 1}`).sort();
    expect(summary).toEqual(['Announced:50', 'Refused:1', 'Withdrawn:50']);
    const one = events.items.find((e) => e.reason === 'Announced');
    expect(one).toMatchObject({
      reportingController: 'portlb.io/sidecar',
      reportingInstance: 'lb-1',
      type: 'Normal',
    });
    expect(one?.regarding).toMatchObject({ kind: 'Pod', name: 'lb-1', namespace: NS });
  });
});
