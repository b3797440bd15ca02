import { describe, expect, it } from 'vitest';
import { createStatePublisher, type LbState } from '../../src/publishers/state-publisher.js';
import { silentLogger } from '../../src/runtime/logger.js';

/** A publisher over a fake sink and a hand-moved clock. */
function setup(options: { fail?: () => boolean; current?: () => LbState | undefined } = {}) {
  let now = 1_000_000;
  const sent: { state: LbState; at: number }[] = [];
  const counted: string[] = [];
  const changes: LbState[] = [];
  const publisher = createStatePublisher<LbState>({
    what: 'lifecycle',
    where: 'topic-a',
    publish: async (state, at) => {
      if (options.fail?.()) throw new Error('unavailable');
      sent.push({ state, at });
    },
    current: options.current ?? (() => 'ready'),
    refreshSeconds: 60,
    now: () => now,
    logger: silentLogger(),
    onChange: (state) => changes.push(state),
    failures: { inc: ({ what }) => counted.push(what) },
  });
  return { publisher, sent, counted, changes, advance: (ms: number) => (now += ms) };
}

describe('createStatePublisher', () => {
  it('publishes on change and on refresh only, and says when the state changed', async () => {
    // prepare
    const { publisher, sent, changes, advance } = setup();
    // act
    await publisher.tick();
    advance(30_000);
    await publisher.tick();
    advance(30_000);
    await publisher.tick();
    // assess
    expect(sent.map((s) => s.state)).toEqual(['ready', 'ready']);
    expect(sent[1]!.at - sent[0]!.at).toBe(60_000);
    expect(changes).toEqual(['ready']);
  });

  it('publishes nothing while the state is not known', async () => {
    const { publisher, sent } = setup({ current: () => undefined });
    await publisher.tick();
    expect(sent).toEqual([]);
  });

  it('counts a failure, backs off 2 s, then 4 s, and holds an announced state through it', async () => {
    // prepare
    let failing = true;
    const { publisher, sent, counted, advance } = setup({ fail: () => failing });
    // act + assess
    await publisher.tick();
    expect(counted).toEqual(['lifecycle']);
    expect(publisher.failing()).toEqual(['publishing lifecycle ready to topic-a failed: unavailable']);
    advance(1_999);
    await publisher.tick();
    expect(counted).toHaveLength(1);
    advance(1);
    await publisher.tick();
    expect(counted).toHaveLength(2);
    advance(3_999);
    await publisher.tick();
    expect(counted).toHaveLength(2);
    failing = false;
    await publisher.announce('draining');
    expect(sent.map((s) => s.state)).toEqual(['draining']);
    expect(publisher.failing()).toEqual([]);
    await publisher.tick();
    expect(publisher.last()?.state).toBe('draining');
  });
});
