import type { Mode } from '../core/mode.js';
import { awsMode } from './aws/index.js';
import { bgpMode } from './bgp/index.js';
import { gcpMode } from './gcp/index.js';
import type { ModeDescriptor } from './types.js';

/**
 * Every mode portlb knows. Adding one = a descriptor module here, its provider and its registry;
 * the descriptors are cheap, and each loads its SDKs only in `create`.
 */
const modes: Readonly<Record<Mode, ModeDescriptor>> = { bgp: bgpMode, aws: awsMode, gcp: gcpMode };

/** The cloud each providerID scheme names (`aws:///zone/i-…`, `gce://project/zone/name`). */
const byProviderScheme: Readonly<Record<string, Mode>> = { aws: 'aws', gce: 'gcp' };

export function modeDescriptor(mode: Mode): ModeDescriptor {
  return modes[mode];
}

/**
 * `auto`: the cloud from a Node's `spec.providerID`; anything else, or none, is on-prem and uses
 * BGP. A configured mode is taken as it is.
 */
export function resolveMode(
  configured: 'auto' | Mode,
  providerId: string | undefined,
): { mode: Mode; reason: string } {
  if (configured !== 'auto') return { mode: configured, reason: `mode ${configured} configured` };
  const scheme = providerId?.match(/^([a-z]+):\/\//)?.[1];
  const cloud = scheme === undefined ? undefined : byProviderScheme[scheme];
  if (cloud !== undefined) {
    return { mode: cloud, reason: `providerID ${providerId} is ${scheme === 'gce' ? 'GCE' : 'AWS'}` };
  }
  return {
    mode: 'bgp',
    reason: providerId
      ? `providerID ${providerId} is not a supported cloud; using BGP`
      : 'no providerID; using BGP',
  };
}
