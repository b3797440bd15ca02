import { CreateTagsCommand } from '@aws-sdk/client-ec2';
import { PermanentError } from '../../errors.js';
import {
  type Candidacy,
  candidateTag,
  candidateTagKey,
  decodeCandidacies,
  supersedes,
  tagRoom,
} from './candidacy.js';
import { call } from './errors.js';
import type { Ec2Port } from './port.js';
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
