import { describe, expect, it } from 'vitest';
import { nodeAddress, nodeView, podView } from '../../src/kube/objects.js';

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
