import { PutEventsCommand, type PutEventsCommandOutput } from '@aws-sdk/client-eventbridge';
import { PermanentError, TransientError } from '../../errors.js';
import { awsErrorCode, isDeniedAwsError, isTransientAwsError } from '../../providers/aws/errors.js';
import type { EventsPort } from '../../providers/aws/port.js';
import { LIFECYCLE_DETAIL_TYPE, LIFECYCLE_SOURCE, type LifecycleDetail } from './lifecycle-event.js';

// Its own file so that the Lambda bundles that never publish do not carry the EventBridge client.

/** One event on a portlb bus; a rejected entry is transient (EventBridge's own advice is to retry). */
export async function putEvent(
  events: EventsPort,
  bus: string,
  entry: { source: string; detailType: string; detail: unknown },
): Promise<void> {
  let answer: PutEventsCommandOutput;
  try {
    answer = await events.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: bus,
            Source: entry.source,
            DetailType: entry.detailType,
            Detail: JSON.stringify(entry.detail),
            Resources: [],
          },
        ],
      }),
    );
  } catch (error) {
    const code = awsErrorCode(error);
    const message = error instanceof Error ? error.message : String(error);
    if (isTransientAwsError(error, code)) {
      throw new TransientError(`events:PutEvents to bus ${bus} failed, will retry (${code})`, {
        cause: error,
      });
    }
    const grant = isDeniedAwsError(code) ? `; grant events:PutEvents on bus ${bus} to this role` : '';
    throw new PermanentError(`events:PutEvents to bus ${bus} failed (${code}): ${message}${grant}`, {
      cause: error,
    });
  }
  if ((answer.FailedEntryCount ?? 0) > 0) {
    throw new TransientError(
      `events:PutEvents to bus ${bus} rejected the event: ${JSON.stringify(answer.Entries)}`,
    );
  }
}

/** Puts one lifecycle event on the portlb bus: all a least-privilege sidecar may do. */
export function putLifecycleEvent(events: EventsPort, bus: string, detail: LifecycleDetail): Promise<void> {
  return putEvent(events, bus, { source: LIFECYCLE_SOURCE, detailType: LIFECYCLE_DETAIL_TYPE, detail });
}
