import { z } from 'zod';
import { logLevel } from '../../src/config/fields.js';
import { gcpFields } from '../../src/config/schema.js';
import { commaList, type EnvResult, envNumber, parseEnv } from '../env.js';

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

// The config file's own field schemas, so a value the sidecar accepts the functions accept too.
const envSchema = z.object({
  PORTLB_PROJECT: gcpFields.project,
  PORTLB_NETWORK: gcpFields.network,
  PORTLB_OWNER: gcpFields.owner.default('portlb'),
  PORTLB_VIPS: commaList(gcpFields.vip).pipe(z.array(z.string()).min(1, 'name at least one VIP')),
  PORTLB_PRIORITY: envNumber(gcpFields.priority).default(1000),
  PORTLB_LIFECYCLE_MAX_AGE_SECONDS: envNumber(gcpFields.lifecycleMaxAgeSeconds).default(180),
  PORTLB_COMPUTE_ENDPOINT: gcpFields.endpoint.optional(),
  PORTLB_LOG_LEVEL: logLevel.default('info'),
});

export type GcpEnvResult = EnvResult<GcpFunctionConfig>;

export function parseGcpFunctionEnv(env: NodeJS.ProcessEnv): GcpEnvResult {
  return parseEnv(envSchema, env, (e) => ({
    project: e.PORTLB_PROJECT,
    network: e.PORTLB_NETWORK,
    owner: e.PORTLB_OWNER,
    vips: e.PORTLB_VIPS,
    priority: e.PORTLB_PRIORITY,
    lifecycleMaxAgeSeconds: e.PORTLB_LIFECYCLE_MAX_AGE_SECONDS,
    computeEndpoint: e.PORTLB_COMPUTE_ENDPOINT,
    logLevel: e.PORTLB_LOG_LEVEL,
  }));
}
