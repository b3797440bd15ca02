import type { Config } from '../config/load.js';
import { type Prefix, prefix } from '../core/cidr.js';
import { ConfigError } from '../errors.js';
import { requireBgp, vipFamilies } from './bgp-common.js';

/** One accepted range: the prefix itself and every more specific one up to `maxLength`. */
export interface AcceptedRange {
  readonly prefix: Prefix;
  readonly maxLength: number;
}

/** What the route reflectors and the router take from LB speakers in one address family. */
export interface FamilyPolicy {
  readonly family: 4 | 6;
  readonly accept: readonly AcceptedRange[];
  /** The next hop must lie in one of these (the node network, or the pod network with nextHop: pod). */
  readonly nextHops: readonly Prefix[];
}

/**
 * The one filter every BGP peer around the LB pods applies, default deny: resolved once from the
 * config so that both route-reflector flavours and the router cannot disagree.
 */
export interface LbPolicy {
  readonly families: readonly FamilyPolicy[];
  readonly maxPrefixes: number;
  /** Where LB speakers connect from: the RRs' dynamic-neighbor ranges. */
  readonly listenRanges: readonly Prefix[];
}

const bits = (family: 4 | 6) => (family === 4 ? 32 : 128);

export function lbPolicy(config: Config, peer: string): LbPolicy {
  const bgp = requireBgp(config, peer);
  const hopField = bgp.nextHop === 'pod' ? 'pods' : 'nodes';
  const hopRanges = config.clusterNetworks[hopField].map(prefix);
  const families = vipFamilies(config).map((family): FamilyPolicy => {
    const nextHops = hopRanges.filter((r) => r.family === family);
    if (nextHops.length === 0) {
      throw new ConfigError(
        `render ${peer} needs an IPv${family} range in clusterNetworks.${hopField}: LB next hops (bgp.nextHop: ${bgp.nextHop}) must lie in it, and nothing else is accepted`,
        [{ path: `clusterNetworks.${hopField}`, message: `no IPv${family} range` }],
      );
    }
    const accept = bgp.policy.vipsOnly
      ? config.services.map((s) => prefix(s.vip)).map((p) => ({ prefix: p, maxLength: p.length }))
      : config.allowedVipPools.map(prefix).map((p) => ({ prefix: p, maxLength: bits(p.family) }));
    return { family, accept: accept.filter((a) => a.prefix.family === family), nextHops };
  });
  const listen = bgp.policy.listenRanges ?? [...config.clusterNetworks.nodes, ...config.clusterNetworks.pods];
  if (listen.length === 0) {
    throw new ConfigError(
      `render ${peer} needs bgp.policy.listenRanges, or clusterNetworks.nodes or .pods: the ranges LB speakers connect from`,
      [{ path: 'clusterNetworks', message: 'no node or pod range' }],
    );
  }
  return { families, maxPrefixes: bgp.policy.maxPrefixes, listenRanges: listen.map(prefix) };
}
