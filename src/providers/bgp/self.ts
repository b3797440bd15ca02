import type { Config } from '../../config/load.js';
import { ConfigError } from '../../errors.js';

/** Who this BGP speaker is: the addresses exabgp binds to, names itself by, and announces. */
export interface BgpSelf {
  readonly node: string | undefined;
  readonly nodeIp: string;
  /** Where exabgp's TCP sessions start: the pod IP when known (exabgp runs in the pod), else the node IP. */
  readonly localAddress: string;
  readonly routerId: string;
  /** The next hop every VIP is announced with. */
  readonly nextHop: string;
}

function fail(path: string, message: string): never {
  throw new ConfigError(`cannot tell which BGP speaker this is: ${message}`, [{ path, message }]);
}

/**
 * Resolves the speaker's addresses from `--node NAME` (a `targets` entry), else the Downward API
 * (HOST_IP, or NODE_NAME naming a `targets` entry; POD_IP). Fails with the variable to set, since
 * announcing a guessed next hop would blackhole the VIP.
 */
export function resolveBgpSelf(config: Config, override: { node?: string | undefined } = {}): BgpSelf {
  const bgp = config.bgp ?? fail('bgp', 'the config has no "bgp" section');
  const { identity } = config;
  const byNode = (name: string) => config.targets.find((t) => t.node === name)?.address;
  let node: string | undefined;
  let nodeIp: string | undefined;
  if (override.node !== undefined) {
    node = override.node;
    nodeIp = byNode(node) ?? fail('targets', `no targets entry has node "${node}"`);
  } else {
    node = identity.nodeName;
    nodeIp =
      identity.hostIp ??
      (node === undefined ? undefined : byNode(node)) ??
      fail(
        'env.HOST_IP',
        'set HOST_IP (Downward API status.hostIP), or NODE_NAME to a node listed in targets, or pass --node',
      );
  }
  const podIp = override.node === undefined ? identity.podIp : undefined;
  const needPod = (path: string): string =>
    podIp ?? fail(path, `${path} is pod-ip but POD_IP is not set (Downward API status.podIP)`);
  const routerId =
    bgp.routerId === 'node-ip' ? nodeIp : bgp.routerId === 'pod-ip' ? needPod('bgp.routerId') : bgp.routerId;
  const nextHop = bgp.nextHop === 'node' ? nodeIp : needPod('bgp.nextHop');
  return { node, nodeIp, localAddress: podIp ?? nodeIp, routerId, nextHop };
}
