import type { V1EndpointSlice, V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { nodeView, podView } from '../../src/kube/objects.js';
import { pruneEndpointSlice, pruneNode, prunePod, pruneService } from '../../src/kube/prune.js';
import { readyBackends } from '../../src/sources/kubernetes/backends.js';

/** A pod as the API returns it: most of it is spec, status history and bookkeeping. */
const pod: V1Pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name: 'lb-1',
    namespace: 'web',
    uid: 'u-1',
    resourceVersion: '42',
    deletionTimestamp: new Date('2026-11-26T10:00:00Z'),
    labels: { app: 'portlb-lb' },
    annotations: {
      'portlb.io/rank': '2',
      'kubectl.kubernetes.io/last-applied-configuration': '{"a huge":"blob"}',
    },
    managedFields: [{ manager: 'kubelet', operation: 'Update', fieldsV1: { 'f:status': {} } }],
  },
  spec: {
    nodeName: 'n1',
    containers: [{ name: 'lb', image: 'lb:1', env: [{ name: 'X', value: 'y' }] }],
    volumes: [{ name: 'v', emptyDir: {} }],
  },
  status: {
    phase: 'Running',
    podIP: '10.244.0.5',
    podIPs: [{ ip: '10.244.0.5' }, { ip: 'fd00:244::5' }],
    hostIP: '10.0.0.1',
    conditions: [
      { type: 'PodScheduled', status: 'True' },
      { type: 'Ready', status: 'True', lastTransitionTime: new Date() },
    ],
    containerStatuses: [
      { name: 'lb', image: 'lb:1', imageID: 'sha', ready: true, restartCount: 0, started: true },
    ],
  },
};

describe('prune', () => {
  it('keeps what the pod view reads (of annotations, portlb.io/ ones), and only that', () => {
    const slim = prunePod(pod);
    expect(podView(slim)).toEqual({ ...podView(pod), annotations: { 'portlb.io/rank': '2' } });
    expect(slim.metadata?.managedFields).toBeUndefined();
    expect(podView(slim).podIps).toEqual(['10.244.0.5', 'fd00:244::5']);
    expect(slim.metadata?.resourceVersion).toBe('42');
    expect(slim.spec?.containers).toEqual([]);
    expect(slim.status?.containerStatuses).toBeUndefined();
    expect(JSON.stringify(slim).length).toBeLessThan(JSON.stringify(pod).length / 2);
  });

  it('keeps a pod that is not scheduled yet readable', () => {
    const slim = prunePod({ metadata: { name: 'p', namespace: 'web' } });
    expect(podView(slim)).toMatchObject({ name: 'p', ready: false, terminating: false, annotations: {} });
  });

  it('keeps what the node view reads', () => {
    const node: V1Node = {
      metadata: { name: 'n1', resourceVersion: '7', labels: { zone: 'a' } },
      spec: { providerID: 'aws:///eu-west-1a/i-0aaa', podCIDR: '10.244.0.0/24' },
      status: {
        addresses: [
          { type: 'InternalIP', address: '10.0.0.1' },
          { type: 'Hostname', address: 'n1' },
        ],
        conditions: [
          { type: 'MemoryPressure', status: 'False' },
          { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: 'long text' },
        ],
        images: [{ names: ['a'], sizeBytes: 1 }],
      },
    };
    const slim = pruneNode(node);
    expect(nodeView(slim)).toEqual(nodeView(node));
    expect(slim.status?.images).toBeUndefined();
    expect(slim.spec?.podCIDR).toBeUndefined();
  });

  it('keeps the endpoints and ports the backend set reads', () => {
    const slice: V1EndpointSlice = {
      metadata: { name: 'web-1', namespace: 'web', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      endpoints: [
        {
          addresses: ['10.244.1.1'],
          conditions: { ready: true },
          nodeName: 'n1',
          targetRef: { kind: 'Pod', name: 'web-1' },
        },
        { addresses: ['10.244.1.2'], conditions: { ready: true, terminating: true } },
      ],
      ports: [{ name: 'http', port: 8080, protocol: 'TCP', appProtocol: 'http' }],
    };
    const slim = pruneEndpointSlice(slice);
    expect(readyBackends([slim], { name: 'http' })).toEqual(readyBackends([slice], { name: 'http' }));
    expect(slim.endpoints?.[0]?.targetRef).toBeUndefined();
  });

  it('keeps the Service ports', () => {
    const service: V1Service = {
      metadata: { name: 'web', namespace: 'web' },
      spec: { clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
    };
    expect(pruneService(service).spec).toStrictEqual({ ports: [{ name: 'http', port: 80 }] });
  });
});
