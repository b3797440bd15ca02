import fc from 'fast-check';

/*
 * EventBridge events the AWS functions accept (functions/aws/events.ts), well-formed ones of each
 * kind and the ways they come malformed. Shared by the property tests and the fuzz script.
 */

const instanceId = fc.stringMatching(/^i-([0-9a-f]{8}|[0-9a-f]{17})$/);

function envelope(source: string, detailType: string, detail: fc.Arbitrary<unknown>) {
  return fc.record({
    version: fc.constant('0'),
    id: fc.uuid(),
    'detail-type': fc.constant(detailType),
    source: fc.constant(source),
    account: fc.stringMatching(/^\d{12}$/),
    // EventBridge writes whole seconds in UTC; ISO with milliseconds is read too.
    time: fc
      .date({
        min: new Date('2000-01-01T00:00:00Z'),
        max: new Date('2099-12-31T23:59:59Z'),
        noInvalidDate: true,
      })
      .chain((d) => fc.constantFrom(d.toISOString(), d.toISOString().replace(/\.\d+Z$/, 'Z'))),
    region: fc.constantFrom('us-east-1', 'eu-west-1'),
    resources: fc.array(fc.string(), { maxLength: 2 }),
    detail,
  });
}

export type Kind = 'instance-state' | 'spot-warning' | 'scheduled' | 'lifecycle';

/** A well-formed event and the kind parseEvent must read it as. */
export const validEvent: fc.Arbitrary<{ kind: Kind; event: Record<string, unknown> }> = fc.oneof(
  envelope(
    'aws.ec2',
    'EC2 Instance State-change Notification',
    fc.record({
      'instance-id': instanceId,
      state: fc.constantFrom('pending', 'running', 'stopping', 'stopped', 'shutting-down', 'terminated'),
    }),
  ).map((event) => ({ kind: 'instance-state' as const, event })),
  envelope(
    'aws.ec2',
    'EC2 Spot Instance Interruption Warning',
    fc.record({
      'instance-id': instanceId,
      'instance-action': fc.constantFrom('hibernate', 'stop', 'terminate'),
    }),
  ).map((event) => ({ kind: 'spot-warning' as const, event })),
  envelope('aws.events', 'Scheduled Event', fc.constant({})).map((event) => ({
    kind: 'scheduled' as const,
    event,
  })),
  envelope(
    'portlb.sidecar',
    'portlb LB Lifecycle',
    fc.record(
      {
        version: fc.constant(1),
        owner: fc.stringMatching(/^[a-z]{1,20}$/),
        node: fc.stringMatching(/^[a-z0-9.-]{1,40}$/),
        pod: fc.stringMatching(/^[a-z]{1,10}\/[a-z0-9-]{1,20}$/),
        instanceId,
        eni: fc.stringMatching(/^eni-[0-9a-f]{17}$/),
        nodeIp: fc.ipV4(),
        state: fc.constantFrom('ready', 'draining', 'gone'),
        at: fc.integer({ min: 1, max: 2 ** 50 }),
      },
      { requiredKeys: ['version', 'owner', 'node', 'pod', 'instanceId', 'state', 'at'] },
    ),
  ).map((event) => ({ kind: 'lifecycle' as const, event })),
);

/** Anything at all: what a misrouted rule, a test console or an attacker may send. */
export const anyInput = fc.anything({
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withNullPrototype: true,
  withObjectString: true,
  withSet: true,
  withSparseArray: true,
  withTypedArray: true,
});

const junk = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.constant(null),
  fc.array(fc.string()),
  fc.object(),
  fc.boolean(),
);

const notAString = fc.oneof(
  fc.integer(),
  fc.constant(null),
  fc.object(),
  fc.boolean(),
  fc.array(fc.integer()),
);

function without(record: Record<string, unknown>, key: string): Record<string, unknown> {
  const { [key]: _, ...rest } = record;
  return rest;
}

/** A well-formed event broken in one place: a field gone, of the wrong type, or an unknown type. */
export const brokenEvent = validEvent.chain(({ event }) => {
  const detail = (event.detail ?? {}) as Record<string, unknown>;
  const envelopeKeys = ['id', 'detail-type', 'source', 'account', 'time', 'region', 'resources'];
  const detailKeys = Object.keys(detail);
  const requiredDetail = detailKeys.filter((k) => k !== 'eni' && k !== 'nodeIp'); // lifecycle's optional ones
  const known = ['aws.ec2', 'aws.events', 'portlb.sidecar'];
  return fc.oneof(
    fc.constantFrom(...envelopeKeys).map((key) => without(event, key)),
    fc.tuple(fc.constantFrom(...envelopeKeys), notAString).map(([key, value]) => ({
      ...event,
      [key]: key === 'resources' ? [value] : value,
    })),
    fc
      .tuple(fc.string(), fc.string())
      .filter(([source]) => !known.includes(source))
      .map(([source, type]) => ({ ...event, source: source || 'x', 'detail-type': type || 'y' })),
    ...(detailKeys.length > 0
      ? [
          fc.constantFrom(...requiredDetail).map((key) => ({ ...event, detail: without(detail, key) })),
          fc
            .tuple(fc.constantFrom(...detailKeys), fc.oneof(fc.object(), fc.constant(null), fc.array(junk)))
            .map(([key, value]) => ({ ...event, detail: { ...detail, [key]: value } })),
        ]
      : []),
  );
});
