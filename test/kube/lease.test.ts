import type { V1Lease } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLeaseElector, type LeasePort } from '../../src/kube/lease.js';
import { silentLogger } from '../../src/runtime/logger.js';

/** An in-memory Lease with the API server's optimistic concurrency (resourceVersion, 404, 409). */
function fakeLeases() {
  let lease: V1Lease | undefined;
  let version = 0;
  const state = { failing: false, conflictNext: false, writes: 0 };
  const err = (code: number) => Object.assign(new Error(`HTTP ${code}`), { code });
  const copy = (l: V1Lease): V1Lease => JSON.parse(JSON.stringify(l));
  const api: LeasePort = {
    readNamespacedLease: async () => {
      if (state.failing) throw err(503);
      if (lease === undefined) throw err(404);
      return copy(lease);
    },
    createNamespacedLease: async ({ body }) => {
      if (state.failing) throw err(503);
      if (lease !== undefined) throw err(409);
      lease = { ...copy(body), metadata: { ...body.metadata, resourceVersion: String(++version) } };
      state.writes += 1;
      return copy(lease);
    },
    replaceNamespacedLease: async ({ body }) => {
      if (state.failing) throw err(503);
      if (state.conflictNext || body.metadata?.resourceVersion !== lease?.metadata?.resourceVersion) {
        state.conflictNext = false;
        throw err(409);
      }
      lease = { ...copy(body), metadata: { ...body.metadata, resourceVersion: String(++version) } };
      state.writes += 1;
      return copy(lease);
    },
  };
  return {
    api,
    state,
    get: () => lease,
    /** Another candidate holding it and renewing (or not), with its own idea of the time. */
    set: (holder: string, renewTime: string) => {
      lease = {
        metadata: { name: 'l', namespace: 'ns', resourceVersion: String(++version) },
        spec: { holderIdentity: holder, leaseDurationSeconds: 15, renewTime: renewTime as unknown as Date },
      };
    },
  };
}

const elector = (api: LeasePort, identity: string) =>
  createLeaseElector({ api, namespace: 'ns', name: 'l', identity, logger: silentLogger() });

describe('createLeaseElector (fake API, fake clock)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('creates a missing Lease, leads, and renews every retry period', async () => {
    const fake = fakeLeases();
    const a = elector(fake.api, 'a');
    await a.start();
    expect(a.isLeader()).toBe(true);
    expect(fake.get()?.spec).toMatchObject({
      holderIdentity: 'a',
      leaseDurationSeconds: 15,
      leaseTransitions: 0,
    });
    const writes = fake.state.writes;
    await vi.advanceTimersByTimeAsync(6_000);
    expect(fake.state.writes).toBe(writes + 3);
    expect(a.isLeader()).toBe(true);
    await a.stop();
  });

  it('waits a full lease duration from its own observation, whatever timestamp the record carries', async () => {
    const fake = fakeLeases();
    fake.set('other', '2000-01-01T00:00:00.000000Z'); // a holder whose clock is far behind
    const b = elector(fake.api, 'b');
    await b.start();
    expect(b.isLeader()).toBe(false);
    expect(b.holder()).toBe('other');
    await vi.advanceTimersByTimeAsync(14_000);
    expect(b.isLeader()).toBe(false);
    await vi.advanceTimersByTimeAsync(1_100);
    expect(b.isLeader()).toBe(true);
    expect(fake.get()?.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    await b.stop();
  });

  it('stays out while the holder keeps renewing', async () => {
    const fake = fakeLeases();
    fake.set('other', 't0');
    const b = elector(fake.api, 'b');
    await b.start();
    for (let i = 1; i <= 15; i++) {
      await vi.advanceTimersByTimeAsync(2_000);
      fake.set('other', `t${i}`);
    }
    expect(b.isLeader()).toBe(false);
    await b.stop();
  });

  it('a lost write race (409) is no leadership', async () => {
    const fake = fakeLeases();
    fake.set('', 'released');
    fake.state.conflictNext = true;
    const b = elector(fake.api, 'b');
    await b.start();
    expect(b.isLeader()).toBe(false);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(b.isLeader()).toBe(true);
    await b.stop();
  });

  it('steps down once it could not renew for the renew deadline', async () => {
    const fake = fakeLeases();
    const a = elector(fake.api, 'a');
    const changes: boolean[] = [];
    a.onChange((leading) => changes.push(leading));
    await a.start();
    fake.state.failing = true;
    await vi.advanceTimersByTimeAsync(9_000);
    expect(a.isLeader()).toBe(true);
    await vi.advanceTimersByTimeAsync(1_500);
    expect(a.isLeader()).toBe(false);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(changes).toEqual([true, false]);
    await a.stop();
  });

  it('release writes an empty holder and a 1 s duration; a follower takes over at its next try', async () => {
    const fake = fakeLeases();
    const a = elector(fake.api, 'a');
    const b = elector(fake.api, 'b');
    await a.start();
    await b.start();
    await a.stop({ release: true });
    expect(fake.get()?.spec).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
    expect(a.isLeader()).toBe(false);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(b.isLeader()).toBe(true);
    await b.stop();
  });
});
