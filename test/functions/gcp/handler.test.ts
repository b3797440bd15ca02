import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { GcpEvent } from '../../../functions/gcp/events.js';
import { createGcpHandler } from '../../../functions/gcp/handler.js';
import { PermanentError, TransientError } from '../../../src/errors.js';
import { createLogger } from '../../../src/runtime/logger.js';
import { auditEntry, pubsubCloudEvent } from '../../fixtures/gcp/audit-log.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, logger: createLogger('debug', sink) };
}

describe('createGcpHandler', () => {
  it('dispatches a parsed event and logs the outcome', async () => {
    const { lines, logger } = capture();
    const seen: GcpEvent[] = [];
    const handler = createGcpHandler('instance-event', {
      logger,
      dispatch: async (event) => {
        seen.push(event);
        return { status: 'changed', reason: '1 route removed' };
      },
    });

    const result = await handler(pubsubCloudEvent(auditEntry()));

    expect(result).toEqual({ status: 'changed', reason: '1 route removed' });
    expect(seen.map((e) => e.kind)).toEqual(['instance-down']);
    expect(lines).toContainEqual(
      expect.objectContaining({ event: 'done', status: 'changed', kind: 'instance-down' }),
    );
  });

  it('ignores a malformed event with a log line and no dispatch', async () => {
    const { lines, logger } = capture();
    let calls = 0;
    const handler = createGcpHandler('x', { logger, dispatch: async () => ({ status: String(++calls) }) });

    const result = await handler(pubsubCloudEvent(undefined, 'garbage'));

    expect(result).toEqual({ status: 'ignored', reason: expect.stringMatching(/data is not JSON/) });
    expect(calls).toBe(0);
    expect(lines).toContainEqual(expect.objectContaining({ event: 'ignored', level: 'warn' }));
  });

  it('ignores events the function does not take', async () => {
    const { logger } = capture();
    const handler = createGcpHandler('sweep', {
      logger,
      accepts: (e) => (e.kind === 'sweep' ? true : `${e.kind} is not for the sweep`),
      dispatch: async () => ({ status: 'unexpected' }),
    });
    await expect(handler(pubsubCloudEvent(auditEntry()))).resolves.toEqual({
      status: 'ignored',
      reason: 'instance-down is not for the sweep',
    });
  });

  it('throws a transient error so Pub/Sub redelivers, and acknowledges a permanent one', async () => {
    const { lines, logger } = capture();
    const transient = createGcpHandler('x', {
      logger,
      dispatch: () => Promise.reject(new TransientError('rate limited')),
    });
    const permanent = createGcpHandler('x', {
      logger,
      dispatch: () => Promise.reject(new PermanentError('no permission')),
    });

    await expect(transient(pubsubCloudEvent(auditEntry()))).rejects.toThrow('rate limited');
    await expect(permanent(pubsubCloudEvent(auditEntry()))).resolves.toEqual({
      status: 'failed',
      reason: 'no permission',
    });
    expect(lines.map((l) => l.event)).toEqual(expect.arrayContaining(['retry', 'permanent_error']));
  });
});
