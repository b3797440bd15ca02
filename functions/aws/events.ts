import { z } from 'zod';
import { awsRegion } from '../../src/config/fields.js';
import { errorMessage } from '../../src/errors.js';
import {
  LIFECYCLE_DETAIL_TYPE,
  LIFECYCLE_SOURCE,
  type LifecycleDetail,
  lifecycleDetailSchema,
} from '../../src/publishers/aws/lifecycle-event.js';
import { instanceIdSchema } from '../../src/sources/aws/candidacy.js';
import { refusal } from '../reasons.js';

/*
 * The EventBridge events portlb's functions accept, parsed with zod at the edge. Shapes from AWS's
 * docs: "State change events for Amazon EC2 instances", "Spot Instance interruption notices", and
 * the scheduled rule's "Scheduled Event". The envelope is not strict: AWS may add fields.
 */

/** What every EventBridge event carries (Powertools' EventBridgeSchema); `detail` per event type. */
const envelope = z.object({
  version: z.string().optional(),
  id: z.string().min(1).max(256),
  'detail-type': z.string().min(1).max(256),
  source: z.string().min(1).max(256),
  account: z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id'),
  time: z.iso.datetime({ error: 'must be an ISO 8601 time in UTC (2021-11-11T21:29:54Z)' }),
  region: awsRegion,
  resources: z.array(z.string()),
  'replay-name': z.string().optional(),
  detail: z.unknown(),
});

const downStates = ['stopping', 'stopped', 'shutting-down', 'terminated'] as const;

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

/** One event type: its envelope extended with its own `detail`, and what it means. */
interface EventType<S extends z.ZodType> {
  readonly source: string;
  readonly detailType: string;
  readonly schema: S;
  readonly read: (event: z.output<S>) => FunctionEvent;
}

function eventType<D extends z.ZodType>(
  source: string,
  detailType: string,
  detail: D,
  read: (event: z.output<typeof envelope> & { detail: z.output<D> }) => FunctionEvent,
): EventType<z.ZodType> {
  const schema = envelope.extend({ source: z.literal(source), 'detail-type': z.literal(detailType), detail });
  return { source, detailType, schema, read: read as EventType<z.ZodType>['read'] };
}

/*
 * Shapes from AWS's docs: "State change events for Amazon EC2 instances", "Spot Instance
 * interruption notices", the scheduled rule's "Scheduled Event" (detail `{}`), and portlb's own
 * lifecycle event. Details are not strict (AWS adds fields), but portlb's own is.
 */
const EVENT_TYPES = [
  eventType(
    'aws.ec2',
    'EC2 Instance State-change Notification',
    z.object({ 'instance-id': instanceIdSchema, state: z.enum(['pending', 'running', ...downStates]) }),
    (e) => ({ kind: 'instance-state', id: e.id, instanceId: e.detail['instance-id'], state: e.detail.state }),
  ),
  eventType(
    'aws.ec2',
    'EC2 Spot Instance Interruption Warning',
    z.object({
      'instance-id': instanceIdSchema,
      'instance-action': z.enum(['hibernate', 'stop', 'terminate']),
    }),
    (e) => ({
      kind: 'spot-warning',
      id: e.id,
      instanceId: e.detail['instance-id'],
      action: e.detail['instance-action'],
    }),
  ),
  eventType('aws.events', 'Scheduled Event', z.object({}), (e) => ({
    kind: 'scheduled',
    id: e.id,
    time: e.time,
  })),
  eventType(LIFECYCLE_SOURCE, LIFECYCLE_DETAIL_TYPE, lifecycleDetailSchema, (e) => ({
    kind: 'lifecycle',
    id: e.id,
    detail: e.detail,
  })),
];

const byType = new Map(EVENT_TYPES.map((t) => [`${t.source}\n${t.detailType}`, t]));

/** True for instance states after which the node serves nothing. */
export function isDownState(state: string): boolean {
  return (downStates as readonly string[]).includes(state);
}

function parse(input: unknown): ParsedEvent {
  const head = envelope.safeParse(input);
  if (!head.success)
    return { ok: false, reason: `not an EventBridge event: ${refusal(head.error, 'event')}` };
  const type = `${head.data.source} / ${head.data['detail-type']}`;
  const known = byType.get(`${head.data.source}\n${head.data['detail-type']}`);
  if (known === undefined) return { ok: false, reason: `unknown event type ${type}` };
  const event = known.schema.safeParse(input);
  if (!event.success) return { ok: false, reason: `${type}: ${refusal(event.error)}` };
  return { ok: true, event: known.read(event.data) };
}

/**
 * An EventBridge event as one of the kinds the functions act on, or the reason it is not (naming
 * the field). Never throws, whatever it is given: the handler logs the reason and writes nothing.
 */
export function parseEvent(input: unknown): ParsedEvent {
  try {
    return parse(input);
  } catch (error) {
    // An object whose getters throw (a proxy, a hostile test harness) is not an event either.
    return { ok: false, reason: `not an EventBridge event: unreadable (${errorMessage(error)})` };
  }
}
