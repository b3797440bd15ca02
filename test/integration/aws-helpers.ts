import { CreateRouteCommand, CreateTagsCommand, EC2Client, EC2ServiceException } from '@aws-sdk/client-ec2';
import { awsRoutePipeline } from '../../src/modes/aws/routes.js';
import { countCalls } from '../../src/providers/aws/instrument.js';
import type { TableSelector } from '../../src/providers/aws/tables.js';
import { createController } from '../../src/runtime/controller.js';
import { silentLogger } from '../../src/runtime/logger.js';
import { type CandidateState, candidateTag, podId } from '../../src/sources/aws/candidacy.js';
import { type Moto, motoClientConfig, startMoto } from '../fixtures/aws/moto.js';
import { buildVpc, type VpcFixture } from '../fixtures/aws/vpc.js';

// Tests never reach a real AWS endpoint or the instance metadata service.
process.env.AWS_EC2_METADATA_DISABLED = 'true';
process.env.AWS_ACCESS_KEY_ID = 'moto';
process.env.AWS_SECRET_ACCESS_KEY = 'moto';
process.env.AWS_REGION = 'us-east-1';

export { type Moto, startMoto };

export interface CountingClient {
  readonly ec2: EC2Client;
  readonly calls: string[];
  /** Calls per action since the last reset. */
  counts(): Record<string, number>;
  writes(): number;
  reset(): void;
}

const readPrefixes = ['Describe'];

/** A moto-backed client that records every call, with SDK retries off so injected faults surface. */
export function motoClient(moto: Moto, options: { maxAttempts?: number } = {}): CountingClient {
  const ec2 = new EC2Client({ ...motoClientConfig(moto.endpoint), maxAttempts: options.maxAttempts ?? 1 });
  const calls: string[] = [];
  countCalls(ec2, (action) => calls.push(action));
  return {
    ec2,
    calls,
    counts: () => {
      const out: Record<string, number> = {};
      for (const c of calls) out[c] = (out[c] ?? 0) + 1;
      return out;
    },
    writes: () => calls.filter((c) => !readPrefixes.some((p) => c.startsWith(p))).length,
    reset: () => {
      calls.length = 0;
    },
  };
}

export async function fixture(
  ec2: EC2Client,
  options: { tables?: number; nodes?: number } = {},
): Promise<VpcFixture> {
  return buildVpc(ec2, { tables: options.tables ?? 2, nodes: options.nodes ?? 3 });
}

/** Publishes a candidacy the way a sidecar would (tags on every managed table). */
export async function publishCandidacy(
  ec2: EC2Client,
  vpc: VpcFixture,
  node: { instanceId: string; eni: string },
  state: CandidateState,
  at: number,
  pod = lbPod(node.instanceId),
  owner = 'portlb',
): Promise<void> {
  await ec2.send(
    new CreateTagsCommand({
      Resources: [...vpc.tables],
      Tags: [
        candidateTag(owner, {
          instanceId: node.instanceId,
          pod: podId(pod),
          podName: pod,
          eni: node.eni,
          state,
          at,
          node: `node-${node.instanceId}`,
        }),
      ],
    }),
  );
}

/** An EC2 error as the SDK would raise it from a real 4xx/5xx answer. */
export function ec2Error(name: string, message: string, status = 400): EC2ServiceException {
  return new EC2ServiceException({
    name,
    message,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });
}

export const nowMs = () => Date.now();

/** The LB pod the helpers publish for a node unless told otherwise (as bench/support does). */
export const lbPod = (instanceId: string) => `portlb/lb-${instanceId}`;

/** Routes a VIP to an ENI in each of these tables behind portlb's back (another writer, an older portlb). */
export async function createRoutes(
  ec2: EC2Client,
  tables: readonly string[],
  vip: string,
  eni: string,
): Promise<void> {
  for (const table of tables) {
    await ec2.send(
      new CreateRouteCommand({ RouteTableId: table, DestinationCidrBlock: vip, NetworkInterfaceId: eni }),
    );
  }
}

/**
 * The sidecar's AWS pass as the tests drive it: one controller run that throws its failure, as
 * the sidecar's loop does (it hands the error to the loop's retry).
 */
export function awsReconciler(
  ec2: EC2Client,
  selector: TableSelector,
  vips: readonly string[],
  options: { services?: { name: string; vip: string }[] } = {},
) {
  const logger = silentLogger();
  const parts = awsRoutePipeline({
    ec2,
    tables: selector,
    owner: 'portlb',
    services: options.services ?? vips.map((vip, i) => ({ name: `web${i}`, vip })),
    staleSeconds: 180,
    now: nowMs,
    logger,
  });
  const controller = createController(parts.pipeline, { logger });
  return {
    ...parts,
    async reconcile(why = 'test') {
      const outcome = await controller.runOnce(why);
      if (outcome.error) throw outcome.error;
      return outcome;
    },
  };
}
