import { CreateTagsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { candidateTag, podId } from '../../src/providers/aws/candidacy.js';

/** Publishes a `ready` candidacy for a node's LB pod on the given tables, as its sidecar would. */
export async function publishCandidacyTags(
  ec2: Pick<EC2Client, 'send'>,
  tables: readonly string[],
  node: { instanceId: string; eni: string },
  at: number,
  owner = 'portlb',
): Promise<void> {
  const podName = `portlb/lb-${node.instanceId}`;
  const candidacy = {
    instanceId: node.instanceId,
    pod: podId(podName),
    podName,
    eni: node.eni,
    state: 'ready' as const,
    at,
    node: node.instanceId,
  };
  await ec2.send(new CreateTagsCommand({ Resources: [...tables], Tags: [candidateTag(owner, candidacy)] }));
}
