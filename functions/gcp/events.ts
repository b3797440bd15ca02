import { z } from 'zod';
import { gceInstanceUrl } from '../../src/core/provider-id.js';
import { errorMessage } from '../../src/errors.js';
import {
  type GcpLifecycle,
  gcpLifecycleSchema,
  LIFECYCLE_KIND,
  SWEEP_KIND,
  sweepSchema,
} from '../../src/providers/gcp/lifecycle.js';
import { refusal } from '../reasons.js';

/*
 * The Pub/Sub messages portlb's Cloud Functions accept, parsed with zod at the edge. Every one
 * arrives as a CloudEvent `google.cloud.pubsub.topic.v1.messagePublished` whose `data.message.data`
 * is the base64 payload: an audit-log LogEntry (a log sink routes Compute's admin-activity and
 * system-event entries to the topic), the scheduler's sweep message, or an LB lifecycle message.
 * Shapes from Google's docs: "Cloud Audit Logs: understanding audit logs" (LogEntry, AuditLog,
 * LogEntryOperation), Compute Engine audit logging (method names), Pub/Sub's CloudEvent data.
 * Envelopes are not strict (Google adds fields); portlb's own messages are.
 *
 * A long-running Compute operation (instances.delete, instances.stop) writes two entries with the
 * same `operation.id`: the first (`operation.first: true`) when it starts, the last
 * (`operation.last: true`) when it ends. portlb acts on the first (the instance is going away
 * now: the earliest moment to move traffic) and ignores the last, so one operation is handled
 * once; a redelivered first entry repeats a delete that already happened, which changes nothing.
 * An entry without `operation` (a one-entry event) is acted on. A system event such as
 * `compute.instances.preempted` is handled the same way.
 */

export const MESSAGE_PUBLISHED = 'google.cloud.pubsub.topic.v1.messagePublished';
const AUDIT_LOG_TYPE = 'type.googleapis.com/google.cloud.audit.AuditLog';

export type InstanceAction = 'delete' | 'stop' | 'preempted';

export type GcpEvent =
  | {
      readonly kind: 'instance-down';
      /** The Pub/Sub message id (redeliveries repeat it). */
      readonly id: string;
      readonly action: InstanceAction;
      /** The instance's Compute URL: the next hop of the routes to remove. */
      readonly instance: string;
      /** The long-running operation the entry belongs to, when it has one. */
      readonly operation?: string | undefined;
      readonly methodName: string;
    }
  | { readonly kind: 'sweep'; readonly id: string; readonly time: string }
  | { readonly kind: 'lifecycle'; readonly id: string; readonly detail: GcpLifecycle };

export type ParsedGcpEvent = { ok: true; event: GcpEvent } | { ok: false; reason: string };

/** What every CloudEvent carries (CloudEvents 1.0: id, source, type; time when given). */
const cloudEvent = z.object({
  specversion: z.literal('1.0', { error: 'must be "1.0" (CloudEvents 1.0)' }).optional(),
  id: z.string().min(1).max(1024),
  source: z.string().max(4096).optional(),
  type: z.string().min(1).max(1024),
  time: z.iso.datetime({ offset: true, error: 'must be an RFC 3339 time' }).optional(),
  data: z.unknown(),
});

/** Pub/Sub's limit on a message; base64 makes it a third longer. */
const MAX_MESSAGE_BYTES = 10 * 1024 * 1024;

/** The one CloudEvent type the functions take: a Pub/Sub message, as Eventarc delivers it. */
const messagePublished = cloudEvent.extend({
  type: z.literal(MESSAGE_PUBLISHED),
  data: z.object({
    message: z.object({
      data: z
        .string()
        .max(Math.ceil(MAX_MESSAGE_BYTES / 3) * 4, 'is larger than a Pub/Sub message can be')
        .base64()
        .optional(),
      attributes: z.record(z.string(), z.string()).optional(),
      messageId: z.string().min(1).max(1024).optional(),
      publishTime: z.iso.datetime({ offset: true, error: 'must be an RFC 3339 time' }).optional(),
    }),
    subscription: z.string().optional(),
  }),
});

const logEntrySchema = z.object({
  insertId: z.string().optional(),
  logName: z.string().min(1),
  timestamp: z.string().optional(),
  operation: z
    .object({
      id: z.string().min(1).max(1024),
      producer: z.string().optional(),
      first: z.boolean().optional(),
      last: z.boolean().optional(),
    })
    .optional(),
  protoPayload: z.object({
    '@type': z.literal(AUDIT_LOG_TYPE),
    serviceName: z.string().max(256),
    methodName: z.string().min(1).max(256),
    resourceName: z.string().min(1).max(1024),
    status: z.object({ code: z.number().int().optional(), message: z.string().optional() }).optional(),
  }),
});

/** `v1.compute.instances.delete`, `beta.compute.instances.stop`, `compute.instances.preempted`. */
const METHOD = /^(?:(?:v1|beta|alpha)\.)?compute\.instances\.(delete|stop|preempted)$/;
const INSTANCE_RESOURCE = /^projects\/([^/]+)\/zones\/([^/]+)\/instances\/([^/]+)$/;

function auditEvent(id: string, payload: unknown): ParsedGcpEvent {
  const entry = logEntrySchema.safeParse(payload);
  if (!entry.success) return { ok: false, reason: `audit log entry: ${refusal(entry.error, 'entry')}` };
  const { protoPayload: audit, operation } = entry.data;
  if (audit.serviceName !== 'compute.googleapis.com') {
    return { ok: false, reason: `audit log entry of ${audit.serviceName}, not Compute Engine` };
  }
  const method = METHOD.exec(audit.methodName);
  if (method === null)
    return { ok: false, reason: `audit log method ${audit.methodName} is not one portlb handles` };
  if (operation?.last === true && operation.first !== true) {
    return { ok: false, reason: `last entry of operation ${operation.id}: handled on its first entry` };
  }
  if ((audit.status?.code ?? 0) !== 0) {
    return {
      ok: false,
      reason: `${audit.methodName} failed (code ${audit.status?.code}: ${audit.status?.message ?? ''}): the instance is unchanged`,
    };
  }
  const resource = INSTANCE_RESOURCE.exec(audit.resourceName);
  if (resource === null)
    return { ok: false, reason: `resourceName ${audit.resourceName} is not an instance` };
  return {
    ok: true,
    event: {
      kind: 'instance-down',
      id,
      action: method[1] as InstanceAction,
      instance: gceInstanceUrl({
        project: resource[1] ?? '',
        zone: resource[2] ?? '',
        name: resource[3] ?? '',
      }),
      operation: operation?.id,
      methodName: audit.methodName,
    },
  };
}

/** What a message's payload is, from its JSON. */
export function parsePayload(id: string, time: string, payload: unknown): ParsedGcpEvent {
  if (typeof payload !== 'object' || payload === null)
    return { ok: false, reason: 'message data is not a JSON object' };
  if ('protoPayload' in payload) return auditEvent(id, payload);
  const kind = (payload as { kind?: unknown }).kind;
  if (kind === SWEEP_KIND) {
    const sweep = sweepSchema.safeParse(payload);
    if (!sweep.success) return { ok: false, reason: `sweep message: ${refusal(sweep.error, 'data')}` };
    return { ok: true, event: { kind: 'sweep', id, time } };
  }
  if (kind === LIFECYCLE_KIND) {
    const detail = gcpLifecycleSchema.safeParse(payload);
    if (!detail.success) return { ok: false, reason: `lifecycle message: ${refusal(detail.error, 'data')}` };
    return { ok: true, event: { kind: 'lifecycle', id, detail: detail.data } };
  }
  return { ok: false, reason: `unknown message (kind ${JSON.stringify(kind) ?? 'missing'})` };
}

/** The Pub/Sub message id of whatever arrived, for log lines about input that did not parse. */
export function messageIdOf(input: unknown): string | undefined {
  try {
    const event = messagePublished.safeParse(input);
    if (event.success) return event.data.data.message.messageId ?? event.data.id;
    const head = cloudEvent.safeParse(input);
    return head.success ? head.data.id : undefined;
  } catch {
    return undefined;
  }
}

function parse(input: unknown): ParsedGcpEvent {
  const head = cloudEvent.safeParse(input);
  if (!head.success) return { ok: false, reason: `not a CloudEvent: ${refusal(head.error, 'event')}` };
  if (head.data.type !== MESSAGE_PUBLISHED)
    return { ok: false, reason: `unknown CloudEvent type ${head.data.type}` };
  const event = messagePublished.safeParse(input);
  if (!event.success) return { ok: false, reason: `Pub/Sub data: ${refusal(event.error)}` };
  const { message } = event.data.data;
  const id = message.messageId ?? event.data.id;
  if (message.data === undefined || message.data === '')
    return { ok: false, reason: `message ${id} has no data` };
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(message.data, 'base64').toString('utf8'));
  } catch {
    return { ok: false, reason: `message ${id}: data is not JSON` };
  }
  return parsePayload(id, message.publishTime ?? event.data.time ?? '', payload);
}

/** A CloudEvent as the Functions Framework hands it over: never throws, says why when it is not for us. */
export function parseCloudEvent(input: unknown): ParsedGcpEvent {
  try {
    return parse(input);
  } catch (error) {
    // An object whose getters throw is not an event either.
    return { ok: false, reason: `not a CloudEvent: unreadable (${errorMessage(error)})` };
  }
}
