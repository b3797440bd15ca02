import { describe, expect, it } from 'vitest';
import { parseEvent } from '../../../functions/aws/events.js';

const envelope = (source: string, detailType: string, detail: unknown) => ({
  version: '0',
  id: '7bf73129-1428-4cd3-a780-95db273d1602',
  'detail-type': detailType,
  source,
  account: '123456789012',
  time: '2021-11-11T21:29:54Z',
  region: 'us-east-1',
  resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-1234567890abcdef0'],
  detail,
});

const stateChange = () =>
  envelope('aws.ec2', 'EC2 Instance State-change Notification', {
    'instance-id': 'i-1234567890abcdef0',
    state: 'stopped',
  });

describe('parseEvent', () => {
  it.each([
    [
      'the state-change example from the AWS docs',
      envelope('aws.ec2', 'EC2 Instance State-change Notification', {
        'instance-id': 'i-1234567890abcdef0',
        state: 'terminated',
      }),
      { kind: 'instance-state', instanceId: 'i-1234567890abcdef0', state: 'terminated' },
    ],
    [
      'the spot interruption warning',
      envelope('aws.ec2', 'EC2 Spot Instance Interruption Warning', {
        'instance-id': 'i-1234567890abcdef0',
        'instance-action': 'stop',
      }),
      { kind: 'spot-warning', instanceId: 'i-1234567890abcdef0', action: 'stop' },
    ],
    ['a scheduled event', envelope('aws.events', 'Scheduled Event', {}), { kind: 'scheduled' }],
    [
      'a portlb lifecycle event',
      envelope('portlb.sidecar', 'portlb LB Lifecycle', {
        version: 1,
        owner: 'portlb',
        node: 'n1',
        pod: 'portlb/lb-0',
        instanceId: 'i-1234567890abcdef0',
        state: 'draining',
        at: 1700000000,
      }),
      { kind: 'lifecycle', detail: expect.objectContaining({ state: 'draining' }) },
    ],
  ])('accepts %s', (_name, event, expected) => {
    const parsed = parseEvent(event);
    expect(parsed).toEqual({ ok: true, event: expect.objectContaining(expected) });
  });

  it('accepts an envelope without version, as one AWS docs example shows it', () => {
    const { version: _, ...event } = envelope('aws.events', 'Scheduled Event', {});
    expect(parseEvent(event).ok).toBe(true);
  });

  it.each([
    ['a string', 'hello', /not an EventBridge event/],
    ['no detail-type', { id: 'x', source: 'aws.ec2' }, /event\.detail-type/],
    [
      'an unknown type',
      envelope('aws.ec2', 'EC2 Instance Rebalance Recommendation', {}),
      /unknown event type aws\.ec2 \/ EC2 Instance Rebalance/,
    ],
    [
      'a bad instance id',
      envelope('aws.ec2', 'EC2 Instance State-change Notification', { 'instance-id': 'x', state: 'stopped' }),
      /detail\.instance-id: must be an EC2 instance id/,
    ],
    [
      'an unknown state',
      envelope('aws.ec2', 'EC2 Instance State-change Notification', {
        'instance-id': 'i-1234567890abcdef0',
        state: 'melting',
      }),
      /detail\.state/,
    ],
    [
      'a lifecycle event with extra fields',
      envelope('portlb.sidecar', 'portlb LB Lifecycle', {
        version: 1,
        owner: 'p',
        node: 'n',
        instanceId: 'i-1234567890abcdef0',
        state: 'ready',
        at: 1,
        eni: 'eni-0123456789abcdef0',
        extra: true,
      }),
      /detail/,
    ],
    [
      'a lifecycle event of a future version',
      envelope('portlb.sidecar', 'portlb LB Lifecycle', {
        version: 2,
        owner: 'p',
        node: 'n',
        instanceId: 'i-1234567890abcdef0',
        state: 'ready',
        at: 1,
      }),
      /detail\.version/,
    ],
    [
      'an account that is not one',
      { ...stateChange(), account: 'acme' },
      /event\.account: must be a 12-digit/,
    ],
    ['a zone as region', { ...stateChange(), region: 'us-east-1a' }, /event\.region: must be an AWS region/],
    [
      'a time that is not ISO 8601',
      { ...stateChange(), time: 'yesterday' },
      /event\.time: must be an ISO 8601/,
    ],
    ['resources that are not strings', { ...stateChange(), resources: [1] }, /event\.resources\[0\]/],
    [
      'a scheduled event whose detail is not an object',
      envelope('aws.events', 'Scheduled Event', 'now'),
      /aws\.events \/ Scheduled Event: detail: /,
    ],
  ])('refuses %s with a reason naming the field', (_name, event, reason) => {
    const parsed = parseEvent(event);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toMatch(reason);
  });

  it('lists the first problems of a broken detail, each with its field', () => {
    const parsed = parseEvent(
      envelope('aws.ec2', 'EC2 Spot Instance Interruption Warning', { 'instance-id': 5 }),
    );
    expect(parsed).toEqual({
      ok: false,
      reason: expect.stringMatching(/detail\.instance-id: .*; detail\.instance-action: /),
    });
  });

  it('never throws, not even for an object whose fields throw when read', () => {
    const hostile = new Proxy(
      {},
      {
        get: () => {
          throw new Error('boom');
        },
        has: () => true,
        ownKeys: () => ['id'],
        getOwnPropertyDescriptor: () => ({ configurable: true, enumerable: true, value: 1 }),
      },
    );
    const parsed = parseEvent(hostile);
    expect(parsed.ok).toBe(false);
  });
});
