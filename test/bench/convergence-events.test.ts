import { describe, expect, it } from 'vitest';
import { percentile, pickEvent, type Slot, seeded } from '../../bench/convergence-events.js';

const slots = (...running: boolean[]): Slot[] => running.map((r, i) => ({ node: i + 1, running: r }));

describe('pickEvent', () => {
  it('only starts when no more LBs may stop', () => {
    const random = seeded(3);
    for (let i = 0; i < 50; i++) expect(pickEvent(slots(true, false, false), 1, random)?.kind).toBe('start');
  });

  it('never starts when every slot runs, and picks a running slot', () => {
    const random = seeded(4);
    for (let i = 0; i < 50; i++) {
      const picked = pickEvent(slots(true, true, true), 1, random);
      expect(picked?.kind).not.toBe('start');
      expect(picked?.slot.running).toBe(true);
    }
  });

  it('has nothing to do with one running LB and no stopped one', () => {
    expect(pickEvent(slots(true), 1, seeded(1))).toBeUndefined();
  });

  it('makes every kind of change over a run', () => {
    const random = seeded(5);
    const kinds = new Set<string>();
    for (let i = 0; i < 200; i++)
      kinds.add(pickEvent(slots(true, true, false, false), 1, random)?.kind ?? '');
    expect([...kinds].sort()).toEqual(['graceful-stop', 'node-death', 'sigkill', 'start']);
  });
});

describe('percentile (nearest rank)', () => {
  it.each([
    [[], 50, undefined],
    [[7], 99, 7],
    [[1, 2, 3, 4], 50, 2],
    [Array.from({ length: 200 }, (_, i) => i + 1), 99, 198],
    [Array.from({ length: 200 }, (_, i) => i + 1), 100, 200],
  ])('%j p%d = %s', (sorted, p, want) => {
    expect(percentile(sorted, p)).toBe(want);
  });
});

describe('seeded', () => {
  it('repeats a run event for event', () => {
    const a = seeded(42);
    const b = seeded(42);
    expect([a(), a(), a()]).toEqual([b(), b(), b()]);
  });
});
