import { CreateTagsCommand } from '@aws-sdk/client-ec2';
import { PutEventsCommand, type PutEventsCommandOutput } from '@aws-sdk/client-eventbridge';
import { PermanentError, TransientError } from '../../errors.js';
import {
  type Candidacy,
  candidateTag,
  candidateTagKey,
  decodeCandidacies,
  supersedes,
  tagRoom,
} from './candidacy.js';
import { call } from './errors.js';
import { LIFECYCLE_DETAIL_TYPE, LIFECYCLE_SOURCE, type LifecycleDetail } from './lifecycle.js';
import type { Ec2Port, EventsPort } from './port.js';
import type { RouteTableView } from './tables.js';

export type PublishResult = { readonly written: readonly string[]; readonly reason: string };

/**
 * Writes one candidacy tag on every managed table that does not already hold a report at least as
 * new: one CreateTags call for all of them. Re-publishing the same report, or an older one (a
 * redelivered event), writes nothing.
 */
export async function writeCandidacy(
  ec2: Ec2Port,
  tables: readonly RouteTableView[],
  owner: string,
  candidacy: Candidacy,
): Promise<PublishResult> {
  const key = candidateTagKey(owner, candidacy.instanceId);
  const stale = tables.filter((table) => {
    const held = decodeCandidacies({ [key]: table.tags[key] ?? '' }, owner).candidacies[0];
    return supersedes(candidacy, held);
  });
  if (stale.length === 0)
    return { written: [], reason: 'every table already holds this report or a newer one' };
  const full = stale.filter((t) => t.tags[key] === undefined && tagRoom(t.tags) <= 0);
  if (full.length > 0) {
    throw new PermanentError(
      `route table ${full.map((t) => t.id).join(', ')} already has 50 tags, the EC2 limit; cannot publish the candidacy of ${candidacy.instanceId} (remove unused tags or stale candidacies)`,
    );
  }
  const ids = stale.map((t) => t.id);
  await call({ action: 'CreateTags', resource: ids.join(', ') }, () =>
    ec2.send(new CreateTagsCommand({ Resources: ids, Tags: [candidateTag(owner, candidacy)] })),
  );
  return { written: ids, reason: `${candidacy.state} published` };
}

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
