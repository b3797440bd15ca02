import { describe, expect, it } from 'vitest';
import { gceInstanceUrl, nodeAddress, nodeView, parseProviderId, podView } from '../../src/kube/objects.js';

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

describe('views', () => {
  it('reads a watch event pod (timestamps as strings) and a listed one (Dates) alike', () => {
    const base = {
      metadata: { name: 'p', namespace: 'lb', uid: 'u' },
      spec: { nodeName: 'n1', containers: [] },
      status: { conditions: [{ type: 'Ready', status: 'True' }], hostIP: '10.0.0.1' },
    };
    expect(
      podView({ ...base, metadata: { ...base.metadata, deletionTimestamp: new Date() } }).terminating,
    ).toBe(true);
    const raw = JSON.parse(
      JSON.stringify({ ...base, metadata: { ...base.metadata, deletionTimestamp: new Date() } }),
    );
    expect(podView(raw)).toMatchObject({
      terminating: true,
      ready: true,
      hostIp: '10.0.0.1',
      nodeName: 'n1',
    });
    expect(podView(base).terminating).toBe(false);
  });

  it('prefers InternalIP of the wanted family for a node address', () => {
    const node = nodeView({
      metadata: { name: 'n' },
      status: {
        addresses: [
          { type: 'Hostname', address: 'n' },
          { type: 'ExternalIP', address: '203.0.113.1' },
          { type: 'InternalIP', address: 'fd00::1' },
          { type: 'InternalIP', address: '10.0.0.1' },
        ],
      },
    });
    expect(nodeAddress(node)).toBe('fd00::1');
    expect(nodeAddress(node, 4)).toBe('10.0.0.1');
    expect(node.ready).toBeUndefined();
  });
});
