import { CreateTagsCommand, DeleteTagsCommand } from '@aws-sdk/client-ec2';
import { PermanentError } from '../../errors.js';
import { call } from '../../providers/aws/errors.js';
import type { Ec2Port } from '../../providers/aws/port.js';
import { type RouteTableView, tagRoom } from '../../providers/aws/tables.js';
import {
  type Candidacy,
  candidateTag,
  candidateTagKey,
  decodeCandidacies,
  supersedes,
} from '../../sources/aws/candidacy.js';

export type PublishResult = { readonly written: readonly string[]; readonly reason: string };

/**
 * Records one pod's report on every managed table that does not already hold one at least as new,
 * in one call: CreateTags for ready/draining, DeleteTags for gone (a departed pod leaves no tag
 * behind to fill the table's 50). Re-publishing the same report, or an older one (a redelivered
 * event), writes nothing.
 */
export async function writeCandidacy(
  ec2: Ec2Port,
  tables: readonly RouteTableView[],
  owner: string,
  candidacy: Candidacy,
): Promise<PublishResult> {
  const key = candidateTagKey(owner, candidacy.instanceId, candidacy.pod);
  const held = (table: RouteTableView) =>
    table.tags[key] === undefined
      ? undefined
      : decodeCandidacies({ [key]: table.tags[key] }, owner).candidacies[0];
  if (candidacy.state === 'gone') {
    const holding = tables.filter((t) => t.tags[key] !== undefined && supersedes(candidacy, held(t)));
    if (holding.length === 0) return { written: [], reason: 'no table holds a report of this pod' };
    const ids = holding.map((t) => t.id);
    await call({ action: 'DeleteTags', resource: ids.join(', ') }, () =>
      ec2.send(new DeleteTagsCommand({ Resources: ids, Tags: [{ Key: key }] })),
    );
    return { written: ids, reason: 'gone: candidacy removed' };
  }
  const stale = tables.filter((t) => supersedes(candidacy, held(t)));
  if (stale.length === 0)
    return { written: [], reason: 'every table already holds this report or a newer one' };
  const full = stale.filter((t) => t.tags[key] === undefined && tagRoom(t.tags) <= 0);
  if (full.length > 0) {
    throw new PermanentError(
      `route table ${full.map((t) => t.id).join(', ')} already has 50 tags, the EC2 limit; cannot publish the candidacy of ${candidacy.podName || candidacy.instanceId} (remove unused tags, or let the sweep remove departed pods)`,
    );
  }
  const ids = stale.map((t) => t.id);
  await call({ action: 'CreateTags', resource: ids.join(', ') }, () =>
    ec2.send(new CreateTagsCommand({ Resources: ids, Tags: [candidateTag(owner, candidacy)] })),
  );
  return { written: ids, reason: `${candidacy.state} published` };
}
