/** Objects the Kubernetes tests create through the real API, and a poll helper. */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CoreV1Api,
  DiscoveryV1Api,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1EndpointSlice,
} from '@kubernetes/client-node';

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export async function eventually<T>(
  what: string,
  probe: () => T | Promise<T>,
  accept: (value: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await probe();
    if (accept(last)) return last;
    await sleep(25);
  }
  throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last)}`);
}

export function fixtures(kc: KubeConfig) {
  const core = kc.makeApiClient(CoreV1Api);
  const discovery = kc.makeApiClient(DiscoveryV1Api);
  return {
    core,
    discovery,
    async node(name: string, options: { address: string; providerID?: string; ready?: boolean }) {
      await core.createNode({ body: { metadata: { name }, spec: { providerID: options.providerID } } });
      await this.nodeReady(name, options.ready ?? true, options.address);
    },
    async nodeReady(name: string, ready: boolean, address?: string) {
      await core.patchNodeStatus(
        {
          name,
          body: {
            status: {
              conditions: [
                {
                  type: 'Ready',
                  status: ready ? 'True' : 'False',
                  reason: ready ? 'KubeletReady' : 'KubeletNotReady',
                  lastHeartbeatTime: new Date().toISOString(),
                  lastTransitionTime: new Date().toISOString(),
                },
              ],
              ...(address && { addresses: [{ type: 'InternalIP', address }] }),
            },
          },
        },
        mergePatch,
      );
    },
    async lbPod(
      namespace: string,
      name: string,
      options: {
        node: string;
        hostIP: string;
        /** The pod's own IP (status.podIP); none when absent, as before the CNI has set one up. */
        podIP?: string;
        ready: boolean;
        labels?: Record<string, string>;
        annotations?: Record<string, string>;
      },
    ) {
      await core.createNamespacedPod({
        namespace,
        body: {
          metadata: {
            name,
            labels: options.labels ?? { app: 'portlb-lb' },
            annotations: options.annotations ?? {},
            // Keeps a deleted pod around while terminating, whatever the (absent) kubelet does.
            finalizers: ['portlb.io/test'],
          },
          spec: { nodeName: options.node, containers: [{ name: 'lb', image: 'example.invalid/lb:1' }] },
        },
      });
      await this.podReady(namespace, name, options.ready, options.hostIP, options.podIP);
    },
    async podReady(namespace: string, name: string, ready: boolean, hostIP?: string, podIP?: string) {
      await core.patchNamespacedPodStatus(
        {
          name,
          namespace,
          body: {
            status: {
              phase: 'Running',
              conditions: [
                {
                  type: 'Ready',
                  status: ready ? 'True' : 'False',
                  lastTransitionTime: new Date().toISOString(),
                },
              ],
              ...(hostIP && { hostIP, hostIPs: [{ ip: hostIP }] }),
              ...(podIP && { podIP, podIPs: [{ ip: podIP }] }),
            },
          },
        },
        mergePatch,
      );
    },
    async annotate(namespace: string, name: string, annotations: Record<string, string | null>) {
      await core.patchNamespacedPod({ name, namespace, body: { metadata: { annotations } } }, mergePatch);
    },
    async service(
      namespace: string,
      name: string,
      ports: { name: string; port: number; targetPort: number }[],
    ) {
      await core.createNamespacedService({
        namespace,
        body: { metadata: { name }, spec: { ports: ports.map((p) => ({ ...p, protocol: 'TCP' })) } },
      });
    },
    async slice(
      namespace: string,
      name: string,
      service: string,
      body: Omit<V1EndpointSlice, 'addressType'>,
    ) {
      await discovery.createNamespacedEndpointSlice({
        namespace,
        body: {
          ...body,
          addressType: 'IPv4',
          metadata: { name, labels: { 'kubernetes.io/service-name': service } },
        },
      });
    },
    async patchSlice(namespace: string, name: string, body: Partial<V1EndpointSlice>) {
      await discovery.patchNamespacedEndpointSlice({ name, namespace, body }, mergePatch);
    },
  };
}
