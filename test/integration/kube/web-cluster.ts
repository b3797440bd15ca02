/**
 * The cluster the deployment tests run the shipped manifests against: two AWS nodes, an LB pod of
 * `web` on each (labelled as deploy/k8s selects them), the backend Service and one EndpointSlice.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { fixtures } from './fixtures.js';

export const WEB_NODES = [
  {
    name: 'n1',
    address: '10.0.0.1',
    providerID: 'aws:///eu-west-1a/i-0aaa',
    pod: 'web-lb-1',
    podIP: '10.244.1.5',
  },
  {
    name: 'n2',
    address: '10.0.0.2',
    providerID: 'aws:///eu-west-1b/i-0bbb',
    pod: 'web-lb-2',
    podIP: '10.244.2.5',
  },
] as const;

export async function createWebCluster(admin: KubeConfig, namespace: string): Promise<void> {
  const fx = fixtures(admin);
  const labels = { 'app.kubernetes.io/name': 'web-lb' };
  for (const node of WEB_NODES) {
    await fx.node(node.name, { address: node.address, providerID: node.providerID });
    await fx.lbPod(namespace, node.pod, {
      node: node.name,
      hostIP: node.address,
      podIP: node.podIP,
      ready: true,
      labels,
    });
  }
  await fx.service(namespace, 'web', [{ name: 'http', port: 80, targetPort: 8080 }]);
  await fx.slice(namespace, 'web-1', 'web', {
    ports: [{ name: 'http', port: 8080 }],
    endpoints: [{ addresses: ['10.244.0.5'], conditions: { ready: true } }],
  });
}
