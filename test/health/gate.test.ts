import { describe, expect, it } from 'vitest';
import { createGate } from '../../src/health/gate.js';

describe('health gate', () => {
  it.each([
    // results, rise, fall, healthy after each result
    ['starts unhealthy and needs rise successes', [true, true], 2, 2, [false, true]],
    ['a failure resets the rise count', [true, false, true, true], 2, 2, [false, false, false, true]],
    ['needs fall failures to go down', [true, false, false], 1, 2, [true, true, false]],
    [
      'a success resets the fall count',
      [true, false, true, false, false],
      1,
      2,
      [true, true, true, true, false],
    ],
    ['rise 1 / fall 1 follows every result', [true, false, true], 1, 1, [true, false, true]],
  ])('%s', (_name, results, rise, fall, expected) => {
    const gate = createGate({ rise, fall });
    expect(results.map((ok) => gate.record(ok, 'x').healthy)).toEqual(expected);
  });

  it('says why, and flags only the flips', () => {
    const gate = createGate({ rise: 2, fall: 1 });
    expect(gate.state()).toEqual({ healthy: false, reason: 'not probed yet' });
    expect(gate.record(true, 'tcp ok')).toEqual({
      healthy: false,
      changed: false,
      reason: 'passing 1/2: tcp ok',
    });
    expect(gate.record(true, 'tcp ok')).toEqual({
      healthy: true,
      changed: true,
      reason: '2 probe(s) passed: tcp ok',
    });
    expect(gate.record(false, 'refused')).toEqual({
      healthy: false,
      changed: true,
      reason: '1 probe(s) failed: refused',
    });
    expect(gate.record(false, 'refused').changed).toBe(false);
  });
});
