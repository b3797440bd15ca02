import { z } from 'zod';
import { formatPath } from '../../src/config/load.js';
import { parsePrefix } from '../../src/core/cidr.js';
import type { Problem } from '../../src/errors.js';
import type { TableSelector } from '../../src/providers/aws/tables.js';

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

const list = (text: string) =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

const cidrList = z
  .string()
  .transform(list)
  .pipe(
    z.array(
      z.string().superRefine((value, ctx) => {
        const parsed = parsePrefix(value);
        if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.reason });
      }),
    ),
  );

const envSchema = z
  .object({
    AWS_REGION: z.string().min(1, 'the Lambda runtime sets it; set it when running elsewhere'),
    PORTLB_OWNER: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/)
      .max(63)
      .default('portlb'),
    PORTLB_VIPS: cidrList.pipe(z.array(z.string()).min(1, 'name at least one VIP')),
    PORTLB_ROUTE_TABLE_IDS: z
      .string()
      .transform(list)
      .pipe(z.array(z.string().regex(/^rtb-[0-9a-f]+$/, 'must be a route table id (rtb-...)')))
      .optional(),
    PORTLB_ROUTE_TABLE_TAGS: z
      .string()
      .transform(list)
      .pipe(z.array(z.string().regex(/^[^=]+=.*$/, 'must be KEY=VALUE')))
      .optional(),
    PORTLB_VPC_CIDRS: cidrList.default([]),
    PORTLB_STALE_SECONDS: z.coerce.number().positive().default(180),
    PORTLB_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(8),
    PORTLB_EC2_ENDPOINT: z.url().optional(),
    PORTLB_EC2_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
    PORTLB_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info'),
    PORTLB_EVENT_BUS: z.string().min(1).max(256).optional(),
    PORTLB_EVENTS_ENDPOINT: z.url().optional(),
  })
  .superRefine((env, ctx) => {
    const ids = (env.PORTLB_ROUTE_TABLE_IDS?.length ?? 0) > 0;
    const tags = (env.PORTLB_ROUTE_TABLE_TAGS?.length ?? 0) > 0;
    if (ids === tags) {
      ctx.addIssue({
        code: 'custom',
        path: ['PORTLB_ROUTE_TABLE_IDS'],
        message: 'set exactly one of PORTLB_ROUTE_TABLE_IDS and PORTLB_ROUTE_TABLE_TAGS',
      });
    }
  });

export type EnvResult = { ok: true; config: FunctionConfig } | { ok: false; problems: Problem[] };

export function parseFunctionEnv(env: NodeJS.ProcessEnv): EnvResult {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((i) => ({ path: `env.${formatPath(i.path)}`, message: i.message })),
    };
  }
  const e = parsed.data;
  const tables: TableSelector = e.PORTLB_ROUTE_TABLE_IDS?.length
    ? { ids: e.PORTLB_ROUTE_TABLE_IDS }
    : {
        tags: Object.fromEntries(
          (e.PORTLB_ROUTE_TABLE_TAGS ?? []).map((pair) => {
            const at = pair.indexOf('=');
            return [pair.slice(0, at), pair.slice(at + 1)];
          }),
        ),
      };
  return {
    ok: true,
    config: {
      region: e.AWS_REGION,
      owner: e.PORTLB_OWNER,
      vips: e.PORTLB_VIPS,
      tables,
      vpcCidrs: e.PORTLB_VPC_CIDRS,
      staleSeconds: e.PORTLB_STALE_SECONDS,
      concurrency: e.PORTLB_CONCURRENCY,
      endpoint: e.PORTLB_EC2_ENDPOINT,
      maxAttempts: e.PORTLB_EC2_MAX_ATTEMPTS,
      logLevel: e.PORTLB_LOG_LEVEL,
      eventBus: e.PORTLB_EVENT_BUS,
      eventsEndpoint: e.PORTLB_EVENTS_ENDPOINT,
    },
  };
}
