import type { Ec2Port } from '../../providers/aws/port.js';
import { createEc2Provider } from '../../providers/aws/provider.js';
import type { RouteTableView, TableSelector } from '../../providers/aws/tables.js';
import { createAwsRegistry } from '../../registry/aws/registry.js';
import type { Logger } from '../../runtime/logger.js';
import type { HealthContext } from '../../sources/aws/candidacy.js';
import { createCandidateSource } from '../../sources/aws/source.js';
import { modePipeline } from '../pipeline.js';
import { awsPlanning } from './planning.js';

export interface AwsRouteOptions {
  readonly ec2: Ec2Port;
  readonly tables: TableSelector;
  readonly owner: string;
  readonly services: readonly { readonly name: string; readonly vip: string }[];
  readonly vpcCidrs?: readonly string[] | undefined;
  readonly staleSeconds: number;
  /** Unix milliseconds. */
  readonly now: () => number;
  readonly logger: Logger;
  readonly veto?: HealthContext['veto'];
}

/**
 * The sidecar's route pipeline in `aws` mode: candidacies on the managed tables as the source,
 * the EC2 provider wrapped in the AWS registry, both fed by one DescribeRouteTables per pass.
 */
export function awsRoutePipeline(options: AwsRouteOptions) {
  const { logger } = options;
  const source = createCandidateSource({
    owner: options.owner,
    services: options.services,
    staleSeconds: options.staleSeconds,
    now: options.now,
    logger,
    veto: options.veto,
  });
  const registry = createAwsRegistry({
    provider: createEc2Provider({ ec2: options.ec2, tables: options.tables, logger }),
    ec2: options.ec2,
    owner: options.owner,
    vips: options.services.map((s) => s.vip),
    vpcCidrs: options.vpcCidrs,
    logger,
  });
  return { source, registry, pipeline: modePipeline<RouteTableView[]>(awsPlanning, { source, registry }) };
}
