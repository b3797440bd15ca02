import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createEventRecorder, type EventsPort, type ObjectEvent } from '../../src/kube/events.js';
import { silentLogger } from '../../src/runtime/logger.js';

function fakeEvents(options: { failing?: boolean } = {}) {
  const created: { name: string; reason: string; note: string }[] = [];
  const patched: { name: string; count: number }[] = [];
  const api = {
    createNamespacedEvent: async ({
      body,
    }: {
      body: { metadata?: { name?: string }; reason?: string; note?: string };
    }) => {
      if (options.failing) throw Object.assign(new Error('HTTP 500'), { code: 500 });
      created.push({ name: body.metadata?.name ?? '', reason: body.reason ?? '', note: body.note ?? '' });
      return body;
    },
    patchNamespacedEvent: async ({ name, body }: { name: string; body: { series: { count: number } } }) => {
      patched.push({ name, count: body.series.count });
      return {};
    },
  } as unknown as EventsPort;
  return { api, created, patched };
}

const event = (note: string, reason = 'Announced'): ObjectEvent => ({
  regarding: { namespace: 'lb', name: 'lb-1', uid: 'u' },
  type: 'Normal',
  reason,
  action: 'Announce',
  note,
});

describe('createEventRecorder (fake API, fake clock)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('aggregates repeats into one Event and writes the count at most every patch interval', async () => {
    const fake = fakeEvents();
    const recorder = createEventRecorder({
      api: fake.api,
      controller: 'c',
      instance: 'i',
      logger: silentLogger(),
    });
    for (let i = 0; i < 50; i++) recorder.record(event('announced 10.1.1.0/24'));
    await vi.advanceTimersByTimeAsync(0);
    expect(fake.created).toHaveLength(1);
    expect(fake.patched).toEqual([]);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(fake.patched).toEqual([{ name: fake.created[0]?.name, count: 50 }]);
    recorder.record(event('announced 10.1.1.0/24'));
    await recorder.close();
    expect(fake.patched.at(-1)?.count).toBe(51);
    expect(fake.created).toHaveLength(1);
  });

  it('a new Event after the aggregation window', async () => {
    const fake = fakeEvents();
    const recorder = createEventRecorder({
      api: fake.api,
      controller: 'c',
      instance: 'i',
      logger: silentLogger(),
    });
    recorder.record(event('x'));
    await vi.advanceTimersByTimeAsync(11 * 60_000);
    recorder.record(event('x'));
    await recorder.close();
    expect(fake.created).toHaveLength(2);
  });

  it('new Events come out of a token bucket', async () => {
    const fake = fakeEvents();
    const recorder = createEventRecorder({
      api: fake.api,
      controller: 'c',
      instance: 'i',
      logger: silentLogger(),
      burst: 2,
      refillMs: 5_000,
    });
    for (let i = 0; i < 5; i++) recorder.record(event(`flap ${i}`));
    await vi.advanceTimersByTimeAsync(5_000);
    recorder.record(event('after refill'));
    await recorder.close();
    expect(fake.created.map((c) => c.note)).toEqual(['flap 0', 'flap 1', 'after refill']);
  });

  it('an API that fails never throws into the loop', async () => {
    const fake = fakeEvents({ failing: true });
    const recorder = createEventRecorder({
      api: fake.api,
      controller: 'c',
      instance: 'i',
      logger: silentLogger(),
    });
    expect(() => recorder.record(event('x', 'Refused'))).not.toThrow();
    await expect(recorder.close()).resolves.toBeUndefined();
  });
});
