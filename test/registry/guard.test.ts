import { describe, expect, it } from 'vitest';
import type { Change } from '../../src/core/model.js';
import { PermanentError } from '../../src/errors.js';
import { inOrder } from '../../src/registry/guard.js';

const create = (vip: string): Change => ({
  kind: 'create',
  table: 't',
  vip,
  target: '10.0.0.1',
  reason: { code: 'healthy' },
});

describe('inOrder', () => {
  it('puts the results of several batches in the order of the changes', () => {
    const [a, b, c] = [create('10.1.0.0/24'), create('10.2.0.0/24'), create('10.3.0.0/24')];
    const failed = { change: b, error: new PermanentError('no') };
    expect(inOrder([a, b, c], [{ change: c }], [failed, { change: a }])).toEqual([
      { change: a },
      failed,
      { change: c },
    ]);
  });

  it('counts a change no batch answered for as failed, never as done', () => {
    const [a, b] = [create('10.1.0.0/24'), create('10.2.0.0/24')];
    const [, missing] = inOrder([a, b], [{ change: a }]);
    expect(missing?.change).toBe(b);
    expect(missing?.error).toBeInstanceOf(PermanentError);
    expect(String(missing?.error)).toContain('create t/10.2.0.0/24: no result from the provider');
  });
});
