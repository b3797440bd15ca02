import { CreateTagsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { candidateTag } from '../../src/providers/aws/candidacy.js';

/** Publishes a `ready` candidacy for a node on the given tables, as its sidecar would. */
export async function publishCandidacyTags(
  ec2: Pick<EC2Client, 'send'>,
  tables: readonly string[],
  node: { instanceId: string; eni: string },
  at: number,
  owner = 'portlb',
): Promise<void> {
  await ec2.send(
    new CreateTagsCommand({
      Resources: [...tables],
      Tags: [
        candidateTag(owner, {
          instanceId: node.instanceId,
          eni: node.eni,
          state: 'ready',
          at,
          node: node.instanceId,
        }),
      ],
    }),
  );
}
