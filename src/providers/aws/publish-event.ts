import { PutEventsCommand, type PutEventsCommandOutput } from '@aws-sdk/client-eventbridge';
import { PermanentError, TransientError } from '../../errors.js';
import { LIFECYCLE_DETAIL_TYPE, LIFECYCLE_SOURCE, type LifecycleDetail } from './lifecycle.js';
import type { EventsPort } from './port.js';

// Its own file so that the Lambda bundles, which never publish, do not carry the EventBridge client.

/** Puts one lifecycle event on the portlb bus: all a least-privilege sidecar may do. */
export async function putLifecycleEvent(
  events: EventsPort,
  bus: string,
  detail: LifecycleDetail,
): Promise<void> {
  let answer: PutEventsCommandOutput;
  try {
    answer = await events.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: bus,
            Source: LIFECYCLE_SOURCE,
            DetailType: LIFECYCLE_DETAIL_TYPE,
            Detail: JSON.stringify(detail),
            Resources: [],
          },
        ],
      }),
    );
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    const name = (error as Error).name;
    if (name === 'AccessDeniedException' || (status !== undefined && status < 500 && status !== 429)) {
      throw new PermanentError(
        `events:PutEvents to bus ${bus} failed (${name}): ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    throw new TransientError(`events:PutEvents to bus ${bus} failed, will retry (${name})`, { cause: error });
  }
  if ((answer.FailedEntryCount ?? 0) > 0) {
    throw new TransientError(
      `events:PutEvents to bus ${bus} rejected the lifecycle event: ${JSON.stringify(answer.Entries)}`,
    );
  }
}
