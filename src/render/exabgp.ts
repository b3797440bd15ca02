import type { Config } from '../config/load.js';
import { type BgpSelf, resolveBgpSelf } from '../providers/bgp/self.js';
import { quoted, type ReadSecret, readSecretFile, requireBgp, timers, vipFamilies } from './bgp-common.js';
import type { Renderer } from './index.js';

/** Where `portlb bgp-api` finds the sidecar when exabgp is run by hand from a rendered config. */
export const DEFAULT_API_SOCKET = '/run/portlb/exabgp-api.sock';

/** The name of exabgp's `process` block that carries our API. */
export const API_PROCESS = 'portlb';

export interface ExabgpOptions {
  /** The command exabgp starts as its API process (the relay to the sidecar). */
  readonly run: string;
  readonly node?: string | undefined;
  readonly readSecret?: ReadSecret;
}

export interface RenderedExabgp {
  readonly text: string;
  readonly self: BgpSelf;
}

/**
 * exabgp 4.2 config for one LB (paper Appendix D), with the differences that make it fast and
 * safe: the configured hold time instead of 1800 s, no static routes (the sidecar announces
 * through the process API only while healthy), and neighbor-changes so that it can re-send the
 * whole set when a session comes back.
 */
export function renderExabgpConfig(config: Config, options: ExabgpOptions): RenderedExabgp {
  const bgp = requireBgp(config, 'exabgp');
  const self = resolveBgpSelf(config, { node: options.node });
  const readSecret = options.readSecret ?? readSecretFile;
  const families = vipFamilies(config).map((f) => (f === 4 ? 'ipv4 unicast;' : 'ipv6 unicast;'));
  const lines = [
    `# exabgp 4.2 config rendered by portlb for ${self.node ?? 'this node'} (next hop ${self.nextHop}).`,
    '# Routes come only from the process API, and only while the health gate passes.',
    `process ${API_PROCESS} {`,
    `    run ${options.run};`,
    '    encoder json;',
    '}',
  ];
  for (const peer of bgp.peers) {
    const hold = timers(peer.holdTime ?? bgp.holdTime).hold;
    lines.push(
      '',
      `neighbor ${peer.address} {`,
      `    description ${quoted(`portlb route reflector ${peer.address}`, 'description')};`,
      `    router-id ${self.routerId};`,
      `    local-address ${self.localAddress};`,
      `    local-as ${bgp.localAs};`,
      `    peer-as ${peer.as};`,
      `    hold-time ${hold};`,
    );
    if (peer.port !== undefined) lines.push(`    connect ${peer.port};`);
    if (peer.passwordFile !== undefined) {
      lines.push(`    md5-password ${quoted(readSecret(peer.passwordFile), 'bgp password')};`);
    }
    lines.push(
      '    family {',
      ...families.map((f) => `        ${f}`),
      '    }',
      '    api {',
      `        processes [ ${API_PROCESS} ];`,
      '        neighbor-changes;',
      '    }',
      '}',
    );
  }
  return { text: `${lines.join('\n')}\n`, self };
}

export const renderExabgp: Renderer = (config, options) =>
  renderExabgpConfig(config, {
    run: `portlb bgp-api --socket ${options.socket ?? DEFAULT_API_SOCKET}`,
    node: options.node,
  }).text;
