export type Mode = 'bgp' | 'aws' | 'gcp';

/**
 * `auto`: the cloud from a Node's `spec.providerID` (`aws:///us-east-1a/i-0abc`,
 * `gce://project/zone/name`); anything else, or none, is on-prem and uses BGP.
 */
export function resolveMode(
  configured: 'auto' | Mode,
  providerId: string | undefined,
): { mode: Mode; reason: string } {
  if (configured !== 'auto') return { mode: configured, reason: `mode ${configured} configured` };
  if (providerId?.startsWith('aws://')) return { mode: 'aws', reason: `providerID ${providerId} is AWS` };
  if (providerId?.startsWith('gce://')) return { mode: 'gcp', reason: `providerID ${providerId} is GCE` };
  return {
    mode: 'bgp',
    reason: providerId
      ? `providerID ${providerId} is not a supported cloud; using BGP`
      : 'no providerID; using BGP',
  };
}
