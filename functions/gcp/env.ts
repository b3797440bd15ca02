import { z } from 'zod';
import { formatPath } from '../../src/config/load.js';
import { gcpFields } from '../../src/config/schema.js';
import type { Problem } from '../../src/errors.js';

/** What every portlb Cloud Function needs, from its environment (deploy/gcp/functions.tf sets it). */
export interface GcpFunctionConfig {
  readonly project: string;
  readonly network: string;
  readonly owner: string;
  readonly vips: readonly string[];
  readonly priority: number;
  /** A lifecycle message older than this is ignored: a newer one (the sidecar refreshes) says more. */
  readonly lifecycleMaxAgeSeconds: number;
  /** Compute's endpoint when not compute.googleapis.com (the stand-in in tests). */
  readonly computeEndpoint?: string | undefined;
  readonly logLevel: string;
}

const list = (text: string) =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

// The config file's own field schemas, so a value the sidecar accepts the functions accept too.
const envSchema = z.object({
  PORTLB_PROJECT: gcpFields.project,
  PORTLB_NETWORK: gcpFields.network,
  PORTLB_OWNER: gcpFields.owner.default('portlb'),
  PORTLB_VIPS: z.string().transform(list).pipe(z.array(gcpFields.vip).min(1, 'name at least one VIP')),
  PORTLB_PRIORITY: z.coerce.number().pipe(gcpFields.priority).default(1000),
  PORTLB_LIFECYCLE_MAX_AGE_SECONDS: z.coerce.number().positive().default(180),
  PORTLB_COMPUTE_ENDPOINT: z.url().optional(),
  PORTLB_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info'),
});

export type GcpEnvResult = { ok: true; config: GcpFunctionConfig } | { ok: false; problems: Problem[] };

export function parseGcpFunctionEnv(env: NodeJS.ProcessEnv): GcpEnvResult {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((i) => ({ path: `env.${formatPath(i.path)}`, message: i.message })),
    };
  }
  const e = parsed.data;
  return {
    ok: true,
    config: {
      project: e.PORTLB_PROJECT,
      network: e.PORTLB_NETWORK,
      owner: e.PORTLB_OWNER,
      vips: e.PORTLB_VIPS,
      priority: e.PORTLB_PRIORITY,
      lifecycleMaxAgeSeconds: e.PORTLB_LIFECYCLE_MAX_AGE_SECONDS,
      computeEndpoint: e.PORTLB_COMPUTE_ENDPOINT,
      logLevel: e.PORTLB_LOG_LEVEL,
    },
  };
}
