import { z } from 'zod';
import { awsTagKeys, logLevel } from '../../src/config/fields.js';
import { exactlyOne } from '../../src/config/refine.js';
import { awsFields } from '../../src/config/schema.js';
import type { TableSelector } from '../../src/providers/aws/tables.js';
import { commaList, envNumber, type EnvResult as FunctionEnvResult, parseEnv } from '../env.js';

/** What every portlb function needs, from its environment (set by the SAM template). */
export interface FunctionConfig {
  readonly region: string;
  readonly owner: string;
  readonly vips: readonly string[];
  readonly tables: TableSelector;
  readonly vpcCidrs: readonly string[];
  readonly staleSeconds: number;
  readonly concurrency: number;
  readonly endpoint?: string | undefined;
  readonly maxAttempts: number;
  readonly logLevel: string;
  /** Where `portlb Route Stuck` events go; none: the warning and the metric only. */
  readonly eventBus?: string | undefined;
  readonly eventsEndpoint?: string | undefined;
}

/** `k=v,k2=v2` -> a tag selector, each key once, with EC2's limits on keys and values. */
const tagSelector = commaList(z.string().regex(/^[^=]+=.*$/, 'must be KEY=VALUE'))
  .transform((pairs, ctx) => {
    const tags: Record<string, string> = {};
    for (const pair of pairs) {
      const at = pair.indexOf('=');
      const key = pair.slice(0, at);
      if (key in tags) ctx.addIssue({ code: 'custom', message: `tag key "${key}" is given twice` });
      tags[key] = pair.slice(at + 1);
    }
    return tags;
  })
  .pipe(z.record(z.string(), awsFields.tagValue).superRefine(awsTagKeys));

const uniqueIds = commaList(awsFields.routeTableId).refine(
  (ids) => new Set(ids).size === ids.length,
  'names a route table twice',
);

// The config file's own field schemas (src/config/schema.ts awsFields), so a value the sidecar
// accepts the functions accept too.
const envSchema = z
  .object({
    AWS_REGION: awsFields.region,
    PORTLB_OWNER: awsFields.owner.default('portlb'),
    PORTLB_VIPS: commaList(awsFields.vip).pipe(z.array(z.string()).min(1, 'name at least one VIP')),
    PORTLB_ROUTE_TABLE_IDS: uniqueIds
      .pipe(z.array(z.string()).min(1, 'name at least one route table'))
      .optional(),
    PORTLB_ROUTE_TABLE_TAGS: tagSelector.optional(),
    PORTLB_VPC_CIDRS: commaList(awsFields.vip).default([]),
    PORTLB_STALE_SECONDS: envNumber(awsFields.staleSeconds).default(180),
    PORTLB_CONCURRENCY: envNumber(z.number().int().min(1).max(64)).default(8),
    PORTLB_EC2_ENDPOINT: awsFields.endpoint.optional(),
    PORTLB_EC2_MAX_ATTEMPTS: envNumber(z.number().int().min(1).max(20)).default(5),
    PORTLB_LOG_LEVEL: logLevel.default('info'),
    PORTLB_EVENT_BUS: awsFields.eventBus.optional(),
    PORTLB_EVENTS_ENDPOINT: awsFields.endpoint.optional(),
  })
  .superRefine(exactlyOne(['PORTLB_ROUTE_TABLE_IDS', 'PORTLB_ROUTE_TABLE_TAGS']));

export type EnvResult = FunctionEnvResult<FunctionConfig>;

export function parseFunctionEnv(env: NodeJS.ProcessEnv): EnvResult {
  return parseEnv(envSchema, env, (e) => ({
    region: e.AWS_REGION,
    owner: e.PORTLB_OWNER,
    vips: e.PORTLB_VIPS,
    // exactlyOne: one of the two is set.
    tables: e.PORTLB_ROUTE_TABLE_IDS
      ? { ids: e.PORTLB_ROUTE_TABLE_IDS }
      : { tags: e.PORTLB_ROUTE_TABLE_TAGS ?? {} },
    vpcCidrs: e.PORTLB_VPC_CIDRS,
    staleSeconds: e.PORTLB_STALE_SECONDS,
    concurrency: e.PORTLB_CONCURRENCY,
    endpoint: e.PORTLB_EC2_ENDPOINT,
    maxAttempts: e.PORTLB_EC2_MAX_ATTEMPTS,
    logLevel: e.PORTLB_LOG_LEVEL,
    eventBus: e.PORTLB_EVENT_BUS,
    eventsEndpoint: e.PORTLB_EVENTS_ENDPOINT,
  }));
}
