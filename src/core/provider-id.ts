/** A Node's cloud instance, read from its `spec.providerID`. */
export type CloudInstance =
  | { readonly cloud: 'aws'; readonly zone: string; readonly instanceId: string }
  | { readonly cloud: 'gce'; readonly project: string; readonly zone: string; readonly name: string };

/**
 * A Node's `spec.providerID` as the cloud's instance: `aws:///us-east-1a/i-0abc` (the zone may be
 * empty: `aws:////i-0abc`) or `gce://project/zone/name`. Anything else is on-prem: undefined.
 * The instance is read from here, never from a metadata service: an ordinary pod cannot reach
 * IMDSv2 (hop limit 1).
 */
export function parseProviderId(providerId: string | undefined): CloudInstance | undefined {
  if (providerId === undefined) return undefined;
  const text = providerId.trim();
  const aws = /^aws:\/\/\/([^/]*)\/(i-[0-9a-f]+)$/.exec(text);
  if (aws) return { cloud: 'aws', zone: aws[1] ?? '', instanceId: aws[2] ?? '' };
  const gce = /^gce:\/\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(text);
  if (gce) return { cloud: 'gce', project: gce[1] ?? '', zone: gce[2] ?? '', name: gce[3] ?? '' };
  return undefined;
}

/** The Compute API's URL for a GCE instance, as routes report `nextHopInstance`. */
export function gceInstanceUrl(instance: { project: string; zone: string; name: string }): string {
  return `https://www.googleapis.com/compute/v1/projects/${instance.project}/zones/${instance.zone}/instances/${instance.name}`;
}

export interface InstanceRef {
  readonly project: string;
  readonly zone: string;
  readonly name: string;
}

const INSTANCE_PATH =
  /(?:^|\/)projects\/([a-z0-9.:-]+)\/zones\/([a-z0-9-]+)\/instances\/([a-z]([-a-z0-9]*[a-z0-9])?)$/;

/** An instance URL in any of the forms Compute accepts (full, `projects/...`), or undefined. */
export function parseInstanceUrl(url: string): InstanceRef | undefined {
  const match = INSTANCE_PATH.exec(url);
  if (match === null) return undefined;
  return { project: match[1] ?? '', zone: match[2] ?? '', name: match[3] ?? '' };
}

/** The one spelling of an instance URL portlb compares: the full `https://www.googleapis.com/...` form. */
export function canonicalInstanceUrl(url: string): string | undefined {
  const ref = parseInstanceUrl(url);
  return ref && gceInstanceUrl(ref);
}
