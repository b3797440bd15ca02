import { describe, expect, it } from 'vitest';
import { stepDrains } from '../../src/dataplane/drain.js';
import { v4 } from './fixtures.js';

const a = v4('10.98.0.21');
const b = v4('10.98.0.22');
const c = v4('10.98.0.23');

describe('stepDrains', () => {
  it.each([
    {
      name: 'a backend that leaves starts draining now',
      input: { previous: [a, b], current: [a], draining: [], now: 1000, drainMs: 30_000 },
      expected: { draining: [{ backend: b, since: 1000 }], expired: [], nextDeadline: 31_000 },
    },
    {
      name: 'it keeps its start time while it drains',
      input: {
        previous: [a],
        current: [a],
        draining: [{ backend: b, since: 1000 }],
        now: 20_000,
        drainMs: 30_000,
      },
      expected: { draining: [{ backend: b, since: 1000 }], expired: [], nextDeadline: 31_000 },
    },
    {
      name: 'it expires when the drain time is over',
      input: {
        previous: [a],
        current: [a],
        draining: [{ backend: b, since: 1000 }],
        now: 31_000,
        drainMs: 30_000,
      },
      expected: { draining: [], expired: [b] },
    },
    {
      name: 'back in the ready set, it stops draining',
      input: {
        previous: [a],
        current: [a, b],
        draining: [{ backend: b, since: 1000 }],
        now: 2000,
        drainMs: 30_000,
      },
      expected: { draining: [], expired: [] },
    },
    {
      name: 'a drain time of 0 expires at once',
      input: { previous: [a, b], current: [a], draining: [], now: 5, drainMs: 0 },
      expected: { draining: [], expired: [b] },
    },
    {
      name: 'the next deadline is the earliest',
      input: {
        previous: [a, b, c],
        current: [],
        draining: [{ backend: c, since: 10 }],
        now: 500,
        drainMs: 1000,
      },
      expected: {
        draining: [
          { backend: a, since: 500 },
          { backend: b, since: 500 },
          { backend: c, since: 10 },
        ],
        expired: [],
        nextDeadline: 1010,
      },
    },
    {
      name: 'a new backend does not drain',
      input: { previous: [a], current: [a, b], draining: [], now: 1, drainMs: 10 },
      expected: { draining: [], expired: [] },
    },
  ])('$name', ({ input, expected }) => {
    expect(stepDrains(input)).toEqual(expected);
  });
});
