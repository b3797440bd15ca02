import { describe, expect, it } from 'vitest';
import { gceInstanceUrl, parseProviderId } from '../../src/core/provider-id.js';

describe('parseProviderId', () => {
  it.each([
    ['aws:///us-east-1a/i-0abc123', { cloud: 'aws', zone: 'us-east-1a', instanceId: 'i-0abc123' }],
    ['aws:////i-0abc123', { cloud: 'aws', zone: '', instanceId: 'i-0abc123' }],
    [
      'gce://my-project/europe-west1-b/node-1',
      { cloud: 'gce', project: 'my-project', zone: 'europe-west1-b', name: 'node-1' },
    ],
    ['kind://docker/kind/kind-control-plane', undefined],
    ['aws:///us-east-1a/not-an-instance', undefined],
    [undefined, undefined],
  ])('%s', (input, expected) => {
    expect(parseProviderId(input)).toEqual(expected);
  });

  it('builds the instance URL GCP routes report', () => {
    expect(gceInstanceUrl({ project: 'p', zone: 'z', name: 'n' })).toBe(
      'https://www.googleapis.com/compute/v1/projects/p/zones/z/instances/n',
    );
  });
});
