import { describe, expect, it } from 'vitest';
import { resolveMode } from '../../src/modes/index.js';

describe('resolveMode', () => {
  it.each([
    ['auto', 'aws:///us-east-1a/i-0123456789abcdef0', 'aws'],
    ['auto', 'gce://my-project/europe-west1-b/node-1', 'gcp'],
    ['auto', 'kind://docker/kind/kind-control-plane', 'bgp'],
    ['auto', undefined, 'bgp'],
    ['bgp', 'aws:///us-east-1a/i-0123', 'bgp'],
    ['gcp', undefined, 'gcp'],
  ] as const)('%s with providerID %s -> %s', (configured, providerId, mode) => {
    expect(resolveMode(configured, providerId).mode).toBe(mode);
  });
});
