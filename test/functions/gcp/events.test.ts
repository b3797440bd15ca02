import { describe, expect, it } from 'vitest';
import { parseCloudEvent } from '../../../functions/gcp/events.js';
import { auditEntry, pubsubCloudEvent } from '../../fixtures/gcp/audit-log.js';

const LB1 = 'https://www.googleapis.com/compute/v1/projects/portlb-test/zones/europe-west1-b/instances/lb-1';

const lifecycle = {
  kind: 'portlb.lifecycle',
  version: 1,
  owner: 'portlb',
  node: 'node-1',
  pod: 'lb/portlb-lb-7d9f',
  instance: 'projects/portlb-test/zones/europe-west1-b/instances/lb-1',
  state: 'ready',
  at: 1_796_112_000_000,
};

describe('parseCloudEvent: audit-log entries', () => {
  it.each([
    ['v1.compute.instances.delete', 'delete'],
    ['beta.compute.instances.delete', 'delete'],
    ['v1.compute.instances.stop', 'stop'],
    ['compute.instances.preempted', 'preempted'],
  ])('%s (first entry) is an instance going down: %s', (methodName, action) => {
    const parsed = parseCloudEvent(pubsubCloudEvent(auditEntry({ methodName })));
    expect(parsed).toEqual({
      ok: true,
      event: expect.objectContaining({ kind: 'instance-down', action, instance: LB1, methodName }),
    });
  });

  it('the last entry of the same operation is ignored: one operation is handled once', () => {
    const first = parseCloudEvent(pubsubCloudEvent(auditEntry({ part: 'first' })));
    const last = parseCloudEvent(pubsubCloudEvent(auditEntry({ part: 'last' })));
    expect(first.ok).toBe(true);
    expect(last).toEqual({
      ok: false,
      reason: expect.stringMatching(/^last entry of operation operation-.*handled on its first/),
    });
  });

  it.each([
    [
      'a one-entry operation (first and last)',
      auditEntry({ methodName: 'compute.instances.preempted', part: 'both' }),
    ],
    ['an entry without operation', auditEntry({ part: 'none' })],
  ])('%s is handled', (_what, entry) => {
    expect(parseCloudEvent(pubsubCloudEvent(entry)).ok).toBe(true);
  });

  it.each([
    ['a failed request', auditEntry({ statusCode: 7 }), /failed \(code 7/],
    [
      'another method',
      auditEntry({ methodName: 'v1.compute.instances.start' }),
      /instances.start is not one portlb handles/,
    ],
    [
      'another service',
      {
        ...auditEntry(),
        protoPayload: { ...(auditEntry().protoPayload as object), serviceName: 'storage.googleapis.com' },
      },
      /storage.googleapis.com, not Compute/,
    ],
    [
      'a resource that is not an instance',
      {
        ...auditEntry(),
        protoPayload: {
          ...(auditEntry().protoPayload as object),
          resourceName: 'projects/p/global/routes/r',
        },
      },
      /is not an instance/,
    ],
    [
      'no methodName',
      { ...auditEntry(), protoPayload: { '@type': 'type.googleapis.com/google.cloud.audit.AuditLog' } },
      /entry.protoPayload/,
    ],
  ])('%s is ignored with a reason', (_what, entry, reason) => {
    const parsed = parseCloudEvent(pubsubCloudEvent(entry));
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? '' : parsed.reason).toMatch(reason);
  });
});

describe('parseCloudEvent: portlb messages', () => {
  it('parses the sweep message', () => {
    expect(parseCloudEvent(pubsubCloudEvent({ kind: 'portlb.sweep', version: 1 }))).toEqual({
      ok: true,
      event: { kind: 'sweep', id: '9817263540112233', time: '2026-12-01T08:00:02.000Z' },
    });
  });

  it('parses a lifecycle message and canonicalises its instance', () => {
    const parsed = parseCloudEvent(pubsubCloudEvent(lifecycle));
    expect(parsed).toEqual({
      ok: true,
      event: expect.objectContaining({ kind: 'lifecycle', detail: { ...lifecycle, instance: LB1 } }),
    });
  });

  it.each([
    [{ ...lifecycle, version: 2 }, /data.version/],
    [{ ...lifecycle, state: 'maybe' }, /data.state/],
    [{ ...lifecycle, instance: 'lb-1' }, /data.instance: must be an instance URL/],
    [{ ...lifecycle, extra: true }, /data/],
    [{ kind: 'portlb.sweep', version: 3 }, /sweep message: data.version/],
    [{ kind: 'something' }, /unknown message \(kind "something"\)/],
    [[1, 2], /unknown message/],
  ])('%j is ignored with a reason', (payload, reason) => {
    const parsed = parseCloudEvent(pubsubCloudEvent(payload));
    expect(parsed.ok ? '' : parsed.reason).toMatch(reason);
  });
});

describe('parseCloudEvent: envelopes', () => {
  it.each([
    ['not an object', 'hello', /^not a CloudEvent/],
    [
      'another type',
      { ...pubsubCloudEvent({}), type: 'google.cloud.storage.object.v1.finalized' },
      /unknown CloudEvent type/,
    ],
    ['no message', { ...pubsubCloudEvent({}), data: {} }, /^Pub\/Sub data: data.message/],
    ['data not base64', { ...pubsubCloudEvent({}), data: { message: { data: '%%%' } } }, /data.message.data/],
    ['data not JSON', pubsubCloudEvent(undefined, 'not json {'), /data is not JSON/],
    ['empty data', { ...pubsubCloudEvent({}), data: { message: { data: '' } } }, /has no data/],
    ['JSON that is not an object', pubsubCloudEvent(undefined, '42'), /not a JSON object/],
    [
      'CloudEvents 0.3',
      { ...pubsubCloudEvent({}), specversion: '0.3' },
      /event\.specversion: must be "1\.0"/,
    ],
    ['no id', { ...pubsubCloudEvent({}), id: '' }, /event\.id/],
    [
      'a time that is not RFC 3339',
      { ...pubsubCloudEvent({}), time: 'Tuesday' },
      /event\.time: must be an RFC 3339/,
    ],
    [
      'a publish time that is not RFC 3339',
      { ...pubsubCloudEvent({}), data: { message: { data: 'e30=', publishTime: 5 } } },
      /data\.message\.publishTime/,
    ],
    [
      'attributes that are not strings',
      { ...pubsubCloudEvent({}), data: { message: { data: 'e30=', attributes: { a: 1 } } } },
      /data\.message\.attributes\.a/,
    ],
  ])('%s: a reason, never a throw', (_what, input, reason) => {
    const parsed = parseCloudEvent(input);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? '' : parsed.reason).toMatch(reason);
  });
});

describe('parseCloudEvent: hostile input', () => {
  it('never throws, not even for an object whose fields throw when read', () => {
    const hostile = new Proxy(
      {},
      {
        get: () => {
          throw new Error('boom');
        },
      },
    );
    expect(parseCloudEvent(hostile)).toEqual({
      ok: false,
      reason: expect.stringMatching(/^not a CloudEvent/),
    });
  });
});
