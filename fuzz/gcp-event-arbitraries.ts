import fc from 'fast-check';
import { setAt } from './config-arbitraries.js';

/*
 * The CloudEvents the GCP functions accept (functions/gcp/events.ts): Pub/Sub messages carrying an
 * audit-log entry, the sweep or an LB lifecycle message, well-formed of each kind, and the ways
 * they come broken. Shared by the property tests and the fuzz script.
 */

export type GcpKind = 'instance-down' | 'sweep' | 'lifecycle';

const project = fc.stringMatching(/^[a-z][-a-z0-9]{4,10}[a-z0-9]$/);
const zone = fc.constantFrom('europe-west1-b', 'us-central1-a', 'asia-east1-c');
const instance = fc.stringMatching(/^[a-z]([-a-z0-9]{0,20}[a-z0-9])?$/);
const rfc3339 = fc
  .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true })
  .map((d) => d.toISOString());

const auditEntry = fc
  .record({
    project,
    zone,
    instance,
    method: fc.constantFrom(
      'v1.compute.instances.delete',
      'beta.compute.instances.delete',
      'v1.compute.instances.stop',
      'compute.instances.preempted',
    ),
    operation: fc.option(
      fc.record({ id: fc.stringMatching(/^operation-[0-9a-f]{8,20}$/), first: fc.constant(true) }),
      {
        nil: undefined,
      },
    ),
    timestamp: rfc3339,
  })
  .map((e) => ({
    protoPayload: {
      '@type': 'type.googleapis.com/google.cloud.audit.AuditLog',
      serviceName: 'compute.googleapis.com',
      methodName: e.method,
      resourceName: `projects/${e.project}/zones/${e.zone}/instances/${e.instance}`,
    },
    logName: `projects/${e.project}/logs/cloudaudit.googleapis.com%2Factivity`,
    timestamp: e.timestamp,
    ...(e.operation && { operation: { ...e.operation, producer: 'compute.googleapis.com' } }),
  }));

const lifecycle = fc.record({
  kind: fc.constant('portlb.lifecycle'),
  version: fc.constant(1),
  owner: fc.stringMatching(/^[a-z]([-a-z0-9]{0,10}[a-z0-9])?$/),
  node: fc.stringMatching(/^[a-z0-9][-a-z0-9.]{0,30}$/),
  pod: fc.stringMatching(/^[a-z]{1,10}\/[a-z0-9-]{1,20}$/),
  instance: fc.tuple(project, zone, instance).map(([p, z, i]) => `projects/${p}/zones/${z}/instances/${i}`),
  state: fc.constantFrom('ready', 'draining', 'gone'),
  at: fc.integer({ min: 1, max: 2 ** 50 }),
});

const sweep = fc.constant({ kind: 'portlb.sweep', version: 1 });

/** A payload as the Functions Framework delivers it: a Pub/Sub messagePublished CloudEvent. */
export function pubsubEvent(payload: unknown, id: string, time: string): Record<string, unknown> {
  return {
    specversion: '1.0',
    id,
    source: '//pubsub.googleapis.com/projects/portlb-test/topics/portlb-events',
    type: 'google.cloud.pubsub.topic.v1.messagePublished',
    time,
    data: {
      message: {
        data: Buffer.from(JSON.stringify(payload)).toString('base64'),
        messageId: id,
        publishTime: time,
        attributes: {},
      },
      subscription: 'projects/portlb-test/subscriptions/portlb-events-push',
    },
  };
}

const wrap = (kind: GcpKind, payload: fc.Arbitrary<Record<string, unknown>>) =>
  fc
    .tuple(payload, fc.stringMatching(/^[0-9]{6,18}$/), rfc3339)
    .map(([p, id, time]) => ({ kind, payload: p, event: pubsubEvent(p, id, time) }));

/** A well-formed event, the kind parseCloudEvent must read it as, and its payload. */
export const validGcpEvent: fc.Arbitrary<{
  kind: GcpKind;
  payload: Record<string, unknown>;
  event: Record<string, unknown>;
}> = fc.oneof(wrap('instance-down', auditEntry), wrap('sweep', sweep), wrap('lifecycle', lifecycle));

export interface BrokenGcpEvent {
  readonly event: unknown;
  /** The refusal must match: it names the field (or the thing) that is wrong. */
  readonly reason: RegExp;
  readonly what: string;
}

/** The event with its message carrying another payload. */
const reencode = (event: Record<string, unknown>, payload: unknown): unknown =>
  setAt(event, ['data', 'message', 'data'], Buffer.from(JSON.stringify(payload)).toString('base64'));

/** A well-formed event broken in one place: its envelope, its Pub/Sub data, or its payload. */
export const brokenGcpEvent: fc.Arbitrary<BrokenGcpEvent> = validGcpEvent.chain(
  ({ kind, payload, event }) => {
    const { id: _, ...noId } = event;
    const envelope: BrokenGcpEvent[] = [
      { event: noId, reason: /^not a CloudEvent: event\.id/, what: 'no id' },
      {
        event: { ...event, specversion: '0.3' },
        reason: /^not a CloudEvent: event\.specversion/,
        what: 'CloudEvents 0.3',
      },
      { event: { ...event, time: 'noon' }, reason: /^not a CloudEvent: event\.time/, what: 'a bad time' },
      {
        event: { ...event, type: 'google.cloud.storage.object.v1.finalized' },
        reason: /^unknown CloudEvent type/,
        what: 'another type',
      },
      {
        event: setAt(event, ['data', 'message', 'data'], '%%%'),
        reason: /^Pub\/Sub data: data\.message\.data/,
        what: 'not base64',
      },
      {
        event: setAt(event, ['data', 'message', 'publishTime'], 42),
        reason: /^Pub\/Sub data: data\.message\.publishTime/,
        what: 'a number as publish time',
      },
      {
        event: setAt(event, ['data'], { subscription: 's' }),
        reason: /^Pub\/Sub data: data\.message/,
        what: 'no message',
      },
      {
        event: setAt(event, ['data', 'message', 'data'], Buffer.from('{not json').toString('base64')),
        reason: /data is not JSON/,
        what: 'not JSON',
      },
    ];
    const keys = Object.keys(payload).filter((k) => k !== 'timestamp' && k !== 'operation');
    const inPayload =
      kind === 'instance-down'
        ? [
            {
              event: reencode(event, setAt(payload, ['protoPayload', 'methodName'], 5)),
              reason: /^audit log entry: entry\.protoPayload\.methodName/,
              what: 'a number as method',
            },
            {
              event: reencode(
                event,
                setAt(payload, ['protoPayload', 'resourceName'], 'projects/p/global/routes/r'),
              ),
              reason: /is not an instance/,
              what: 'not an instance',
            },
            {
              event: reencode(
                event,
                setAt(payload, ['protoPayload', 'serviceName'], 'storage.googleapis.com'),
              ),
              reason: /not Compute Engine/,
              what: 'another service',
            },
          ]
        : [
            ...keys.map((key) => {
              const { [key]: __, ...rest } = payload;
              const reason = key === 'kind' ? /^unknown message/ : new RegExp(`message: data\\.${key}`);
              return { event: reencode(event, rest), reason, what: `no ${key}` };
            }),
            {
              event: reencode(event, { ...payload, version: 2 }),
              reason: /message: data\.version/,
              what: 'a future version',
            },
            {
              event: reencode(event, { ...payload, zzExtra: true }),
              reason: /message: data/,
              what: 'an unknown field',
            },
          ];
    return fc.constantFrom(...envelope, ...inPayload);
  },
);
