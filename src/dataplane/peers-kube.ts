import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';

/**
 * The other LB pods' data-plane listeners (`podIP:port`, `[podIP]:port` for IPv6), from the LB pod selector: where a
 * tunnel LB reads the others' Maglev reports. Listed at each check (once per sync), not watched:
 * one small list call per resync. Needs `list pods` in the LB namespace, which the sidecar's
 * service account already has.
 */
export function kubernetesPeers(options: {
  readonly kubeConfig: KubeConfig;
  readonly namespace: string;
  readonly selector: string;
  /** This pod's name (POD_NAME): not a peer of itself. */
  readonly self?: string | undefined;
  readonly port: number;
}): () => Promise<string[]> {
  const core = options.kubeConfig.makeApiClient(CoreV1Api);
  return async () => {
    const pods = await core.listNamespacedPod({
      namespace: options.namespace,
      labelSelector: options.selector,
    });
    return pods.items
      .filter((p) => p.metadata?.name !== options.self && p.status?.phase === 'Running' && p.status.podIP)
      .map((p) => {
        const ip = p.status!.podIP ?? '';
        return ip.includes(':') ? `[${ip}]:${options.port}` : `${ip}:${options.port}`;
      })
      .sort();
  };
}
