import type { Identity } from '../config/load.js';
import { ConfigError } from '../errors.js';

/*
 * Where the agent's /healthz, /readyz and /metrics listen. It runs on the host network, so
 * 0.0.0.0 answers on every address of the node, and no NetworkPolicy applies to a host-network
 * pod. Loopback is no answer either: the kubelet probes the pod's IP, which is the node's. So
 * `nodeAgent.listen` may name the node's own IP as `$(HOST_IP)` (Kubernetes' own syntax for an
 * env var in args), filled in from HOST_IP, which the DaemonSet sets from `status.hostIP`.
 */

const HOST_IP = '$(HOST_IP)';

/** `nodeAgent.listen` with `$(HOST_IP)` replaced by the node's IP; a ConfigError when it is unknown. */
export function agentListen(listen: string, identity: Pick<Identity, 'hostIp'>): string {
  const at = listen.lastIndexOf(':');
  const host = listen.slice(0, at);
  if (host !== HOST_IP) {
    if (!host.includes('$(')) return listen;
    throw new ConfigError('nodeAgent.listen names an unknown variable', [
      { path: 'nodeAgent.listen', message: `"${host}": only ${HOST_IP} is filled in` },
    ]);
  }
  const { hostIp } = identity;
  if (hostIp === undefined) {
    throw new ConfigError(`nodeAgent.listen uses ${HOST_IP} but HOST_IP is not in the environment`, [
      { path: 'env.HOST_IP', message: 'set it from the Downward API (fieldPath: status.hostIP)' },
    ]);
  }
  return `${hostIp.includes(':') ? `[${hostIp}]` : hostIp}${listen.slice(at)}`;
}
