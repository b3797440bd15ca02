import { nodeIp } from './layout.js';

/**
 * TEMPORARY: the LB pod's exabgp API process until the bgp sidecar lands: it announces the VIP
 * with the node as next hop, keeps stdout open and drains stdin (exabgp quits if it dies).
 */
export function standinHelper(vip: string, node: number): string {
  return `#!/bin/sh\necho "announce route ${vip} next-hop ${nodeIp(node)}"\nwhile IFS= read -r line; do :; done\n`;
}
