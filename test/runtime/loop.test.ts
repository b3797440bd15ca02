import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PermanentError, TransientError } from '../../src/errors.js';
import { createLoop } from '../../src/runtime/loop.js';

describe('createLoop', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('collapses a burst of events into one run after the debounce', async () => {
    // prepare
    const runs: string[] = [];
    const loop = createLoop({ run: async (why) => void runs.push(why), resyncMs: 60_000, debounceMs: 100 });
    // act
    loop.trigger('pod ready');
    loop.trigger('pod ready');
    loop.trigger('slice changed');
    await vi.advanceTimersByTimeAsync(99);
    const before = runs.length;
    await vi.advanceTimersByTimeAsync(1);
    // assess
    expect(before).toBe(0);
    expect(runs).toEqual(['pod ready, slice changed']);
    await loop.stop();
  });

  it('never overlaps runs: an event during a run schedules exactly one more', async () => {
    let active = 0;
    let maxActive = 0;
    const runs: string[] = [];
    const loop = createLoop({
      run: async (why) => {
        active += 1;
        maxActive = Math.max(maxActive, active);
        runs.push(why);
        await new Promise((r) => setTimeout(r, 500));
        active -= 1;
      },
      resyncMs: 60_000,
      debounceMs: 10,
    });
    loop.trigger('a');
    await vi.advanceTimersByTimeAsync(20);
    loop.trigger('b');
    loop.trigger('c');
    await vi.advanceTimersByTimeAsync(2_000);
    expect(maxActive).toBe(1);
    expect(runs).toEqual(['a', 'b, c']);
    await loop.stop();
  });

  it('resyncs on a timer with no events', async () => {
    const runs: string[] = [];
    const loop = createLoop({ run: async (why) => void runs.push(why), resyncMs: 1_000, debounceMs: 0 });
    loop.start();
    await vi.advanceTimersByTimeAsync(3_050);
    expect(runs).toEqual(['start', 'resync', 'resync', 'resync']);
    await loop.stop();
  });

  it('retries transient errors with backoff and reports each attempt', async () => {
    const attempts: number[] = [];
    let calls = 0;
    const loop = createLoop({
      run: async () => {
        calls += 1;
        if (calls < 3) throw new TransientError('throttled');
      },
      resyncMs: 60_000,
      debounceMs: 0,
      retry: { retries: 5, minMs: 100, maxMs: 1_000 },
      onError: (_error, info) => attempts.push(info.attempt),
    });
    loop.trigger('event');
    await vi.advanceTimersByTimeAsync(5_000);
    expect(calls).toBe(3);
    expect(attempts).toEqual([1, 2]);
    await loop.stop();
  });

  it('does not retry permanent errors', async () => {
    let calls = 0;
    const seen: { willRetry: boolean }[] = [];
    const loop = createLoop({
      run: async () => {
        calls += 1;
        throw new PermanentError('UnauthorizedOperation: ec2:ReplaceRoute');
      },
      resyncMs: 60_000,
      debounceMs: 0,
      onError: (_error, info) => seen.push(info),
    });
    loop.trigger('event');
    await vi.advanceTimersByTimeAsync(5_000);
    expect(calls).toBe(1);
    expect(seen).toEqual([{ attempt: 1, willRetry: false }]);
    await loop.stop();
  });

  it('stop waits for the run in flight and ignores later triggers', async () => {
    let finished = false;
    const loop = createLoop({
      run: async () => {
        await new Promise((r) => setTimeout(r, 300));
        finished = true;
      },
      resyncMs: 60_000,
      debounceMs: 0,
    });
    loop.trigger('event');
    await vi.advanceTimersByTimeAsync(1);
    const stopping = loop.stop();
    loop.trigger('late');
    await vi.advanceTimersByTimeAsync(300);
    await stopping;
    expect(finished).toBe(true);
  });

  it('stop gives up waiting for a hung run after stopTimeoutMs', async () => {
    const loop = createLoop({
      run: () => new Promise<void>(() => {}), // never settles, like a call with no timeout
      resyncMs: 60_000,
      debounceMs: 0,
      stopTimeoutMs: 2_000,
    });
    loop.trigger('event');
    await vi.advanceTimersByTimeAsync(1);
    let stopped = false;
    const stopping = loop.stop().then(() => {
      stopped = true;
    });
    await vi.advanceTimersByTimeAsync(1_999);
    const early = stopped;
    await vi.advanceTimersByTimeAsync(1);
    await stopping;
    expect(early).toBe(false);
    expect(stopped).toBe(true);
  });
});
