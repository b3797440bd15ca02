import { z } from 'zod';
import {
  LIFECYCLE_DETAIL_TYPE,
  LIFECYCLE_SOURCE,
  type LifecycleDetail,
  lifecycleDetailSchema,
} from '../../src/publishers/aws/lifecycle-event.js';
import { instanceIdSchema } from '../../src/sources/aws/candidacy.js';

/*
 * The EventBridge events portlb's functions accept, parsed with zod at the edge. Shapes from AWS's
 * docs: "State change events for Amazon EC2 instances", "Spot Instance interruption notices", and
 * the scheduled rule's "Scheduled Event". The envelope is not strict: AWS may add fields.
 */

const envelopeSchema = z.object({
  version: z.string().optional(),
  id: z.string().min(1),
  'detail-type': z.string().min(1),
  source: z.string().min(1),
  account: z.string(),
  time: z.string(),
  region: z.string(),
  resources: z.array(z.string()),
  detail: z.unknown(),
});

const downStates = ['stopping', 'stopped', 'shutting-down', 'terminated'] as const;

const stateChangeSchema = z.object({
  'instance-id': instanceIdSchema,
  state: z.enum(['pending', 'running', ...downStates]),
});

const spotWarningSchema = z.object({
  'instance-id': instanceIdSchema,
  'instance-action': z.enum(['hibernate', 'stop', 'terminate']),
});

export type FunctionEvent =
  | {
      readonly kind: 'instance-state';
      readonly id: string;
      readonly instanceId: string;
      readonly state: string;
    }
  | {
      readonly kind: 'spot-warning';
      readonly id: string;
      readonly instanceId: string;
      readonly action: string;
    }
  | { readonly kind: 'scheduled'; readonly id: string; readonly time: string }
  | { readonly kind: 'lifecycle'; readonly id: string; readonly detail: LifecycleDetail };

export type ParsedEvent = { ok: true; event: FunctionEvent } | { ok: false; reason: string };

function issue(error: z.ZodError, where: string): string {
  const first = error.issues[0];
  const path = first?.path.length ? `${where}.${first.path.join('.')}` : where;
  return `${path}: ${first?.message ?? 'invalid'}`;
}

/** True for instance states after which the node serves nothing. */
export function isDownState(state: string): boolean {
  return (downStates as readonly string[]).includes(state);
}

export function parseEvent(input: unknown): ParsedEvent {
  const envelope = envelopeSchema.safeParse(input);
  if (!envelope.success)
    return { ok: false, reason: `not an EventBridge event: ${issue(envelope.error, 'event')}` };
  const e = envelope.data;
  const type = `${e.source} / ${e['detail-type']}`;
  if (e.source === 'aws.ec2' && e['detail-type'] === 'EC2 Instance State-change Notification') {
    const detail = stateChangeSchema.safeParse(e.detail);
    if (!detail.success) return { ok: false, reason: `${type}: ${issue(detail.error, 'detail')}` };
    return {
      ok: true,
      event: {
        kind: 'instance-state',
        id: e.id,
        instanceId: detail.data['instance-id'],
        state: detail.data.state,
      },
    };
  }
  if (e.source === 'aws.ec2' && e['detail-type'] === 'EC2 Spot Instance Interruption Warning') {
    const detail = spotWarningSchema.safeParse(e.detail);
    if (!detail.success) return { ok: false, reason: `${type}: ${issue(detail.error, 'detail')}` };
    return {
      ok: true,
      event: {
        kind: 'spot-warning',
        id: e.id,
        instanceId: detail.data['instance-id'],
        action: detail.data['instance-action'],
      },
    };
  }
  if (e.source === 'aws.events' && e['detail-type'] === 'Scheduled Event') {
    return { ok: true, event: { kind: 'scheduled', id: e.id, time: e.time } };
  }
  if (e.source === LIFECYCLE_SOURCE && e['detail-type'] === LIFECYCLE_DETAIL_TYPE) {
    const detail = lifecycleDetailSchema.safeParse(e.detail);
    if (!detail.success) return { ok: false, reason: `${type}: ${issue(detail.error, 'detail')}` };
    return { ok: true, event: { kind: 'lifecycle', id: e.id, detail: detail.data } };
  }
  return { ok: false, reason: `unknown event type ${type}` };
}
