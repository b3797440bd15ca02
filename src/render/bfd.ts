import type { Config } from '../config/load.js';
import { ConfigError } from '../errors.js';
import { type BgpSelf, resolveBgpSelf } from '../providers/bgp/self.js';
import { requireBgp } from './bgp-common.js';
import type { Renderer } from './index.js';

/** BFD timers, resolved once for both ends: each LB's bfdd and the route reflectors. */
export interface BfdModel {
  readonly intervalMs: number;
  readonly multiplier: number;
  /** Route reflectors whose BFD is single-hop (RFC 5881); the others are multihop (RFC 5883). */
  readonly singleHop: readonly string[];
}

export function bfdModel(config: Config, peer: string): BfdModel | undefined {
  const bgp = requireBgp(config, peer);
  const unknown = bgp.bfd?.singleHop.filter((a) => !bgp.peers.some((p) => p.address === a)) ?? [];
  if (unknown.length > 0) {
    throw new ConfigError(
      `render ${peer}: bgp.bfd.singleHop names ${unknown.join(', ')}, which is not in bgp.peers`,
      [{ path: 'bgp.bfd.singleHop', message: `${unknown.join(', ')}: no such route reflector` }],
    );
  }
  return bgp.bfd;
}

/** FRR bgpd: BFD on a neighbor or peer-group, with the detect multiplier and rx / tx intervals. */
export function frrBgpBfd(neighbor: string, b: BfdModel): string {
  return ` neighbor ${neighbor} bfd ${b.multiplier} ${b.intervalMs} ${b.intervalMs}`;
}

/** GoBGP v4's native BFD on a `[[neighbors]]` or `[[peer-groups]]` table (intervals in microseconds). */
export function gobgpBfd(table: 'neighbors' | 'peer-groups', b: BfdModel): string[] {
  return [
    `  [${table}.bfd.config]`,
    '    enabled = true',
    `    desired-minimum-tx-interval = ${b.intervalMs * 1000}`,
    `    required-minimum-receive = ${b.intervalMs * 1000}`,
    `    detection-multiplier = ${b.multiplier}`,
  ];
}

export interface RenderedBfdd {
  readonly text: string;
  readonly self: BgpSelf;
}

/**
 * FRR bfdd for one LB, run beside exabgp (exabgp has no BFD): one session per route reflector
 * from the address exabgp's sessions come from, so that each RR's BFD for that BGP neighbor has a
 * partner. When the LB's node goes silent every RR's session times out within interval x
 * multiplier and the RR drops the LB's paths, long before the BGP hold time.
 */
export function renderBfddConfig(config: Config, options: { node?: string | undefined } = {}): RenderedBfdd {
  const bgp = requireBgp(config, 'bfdd');
  const self = resolveBgpSelf(config, { node: options.node });
  const b = bfdModel(config, 'bfdd');
  if (b === undefined) {
    throw new ConfigError('render bfdd needs bgp.bfd: without it the route reflectors run no BFD', [
      { path: 'bgp.bfd', message: 'missing (bfd: {} turns it on with 300 ms x 3)' },
    ]);
  }
  const out = [
    `! FRR bfdd beside exabgp for ${self.node ?? 'this LB'} (sessions from ${self.localAddress}), rendered by portlb.`,
    `hostname lb-${self.localAddress.replaceAll(/[.:]/g, '-')}`,
    'bfd',
  ];
  for (const rr of bgp.peers) {
    const single = b.singleHop.includes(rr.address);
    out.push(
      ` peer ${rr.address}${single ? '' : ' multihop'} local-address ${self.localAddress}`,
      `  detect-multiplier ${b.multiplier}`,
      `  receive-interval ${b.intervalMs}`,
      `  transmit-interval ${b.intervalMs}`,
      // bgpd's own multihop sessions accept any TTL; a stricter LB end would flap a longer path.
      ...(single ? [] : ['  minimum-ttl 1']),
      ' exit',
    );
  }
  out.push('exit');
  return { text: `${out.join('\n')}\n`, self };
}

export const renderBfdd: Renderer = (config, options) =>
  renderBfddConfig(config, { node: options.node }).text;
