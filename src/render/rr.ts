import type { Config } from '../config/load.js';
import { containsAddress } from '../core/cidr.js';
import { ConfigError } from '../errors.js';
import { type BfdModel, bfdModel } from './bfd.js';
import {
  type ReadSecret,
  readSecretFile,
  requireBgp,
  requireTopology,
  type Timers,
  timers,
} from './bgp-common.js';
import type { Renderer } from './index.js';
import { type LbPolicy, lbPolicy } from './policy.js';
import { frrRr } from './rr-frr.js';
import { gobgpRr } from './rr-gobgp.js';

/** Everything both flavours say, resolved once so they cannot disagree. */
export interface RrModel {
  readonly address: string;
  readonly as: number;
  readonly clusterId: string;
  readonly port: number | undefined;
  readonly lbAs: number;
  readonly lbTimers: Timers;
  readonly lbPassword: string | undefined;
  readonly router: {
    readonly address: string;
    readonly as: number;
    readonly timers: Timers;
    readonly password: string | undefined;
  };
  readonly families: readonly (4 | 6)[];
  readonly policy: LbPolicy;
  readonly bfd: BfdModel | undefined;
}

function model(config: Config, options: Record<string, string | undefined>, readSecret: ReadSecret): RrModel {
  const bgp = requireBgp(config, 'rr');
  const topology = requireTopology(config, 'rr');
  const wanted = options.routerId;
  if (wanted === undefined && bgp.peers.length > 1) {
    throw new ConfigError('render rr: pass --router-id ADDRESS to say which route reflector (bgp.peers)', [
      { path: 'bgp.peers', message: `one of ${bgp.peers.map((p) => p.address).join(', ')}` },
    ]);
  }
  const rr = wanted === undefined ? bgp.peers[0] : bgp.peers.find((p) => p.address === wanted);
  if (rr === undefined) {
    throw new ConfigError(`render rr: ${wanted} is not one of bgp.peers`, [
      { path: 'bgp.peers', message: `no peer has address ${wanted}` },
    ]);
  }
  const policy = lbPolicy(config, 'rr');
  const router = topology.router;
  if (rr.passwordFile !== undefined && router.passwordFile === undefined) {
    // The kernel keys a listening socket by the longest matching prefix: a router inside an LB
    // range would have to sign with the LBs' key, and its own connections would never arrive.
    const range = policy.listenRanges.find((r) => containsAddress(r, router.address));
    if (range !== undefined) {
      throw new ConfigError(
        `render rr: the router ${router.address} lies inside the LB range ${range.text}, which has a TCP-MD5 key; give the router its own (bgp.topology.router.passwordFile), or narrow bgp.policy.listenRanges`,
        [{ path: 'bgp.policy.listenRanges', message: `${range.text} contains the router` }],
      );
    }
  }
  const hold = timers(rr.holdTime ?? bgp.holdTime);
  return {
    address: rr.address,
    as: rr.as,
    clusterId: topology.clusterId ?? rr.address,
    port: rr.port,
    lbAs: bgp.localAs,
    lbTimers: hold,
    lbPassword: rr.passwordFile === undefined ? undefined : readSecret(rr.passwordFile),
    router: {
      address: router.address,
      as: router.as ?? bgp.localAs,
      timers: hold,
      password: router.passwordFile === undefined ? undefined : readSecret(router.passwordFile),
    },
    families: policy.families.map((f) => f.family),
    policy,
    bfd: bfdModel(config, 'rr'),
  };
}

export function renderRrConfig(
  config: Config,
  options: Record<string, string | undefined>,
  readSecret: ReadSecret = readSecretFile,
): string {
  const flavor = options.flavor ?? 'gobgp';
  if (flavor !== 'gobgp' && flavor !== 'frr') {
    throw new ConfigError(`render rr: unknown --flavor "${flavor}"; use gobgp or frr`);
  }
  const m = model(config, options, readSecret);
  return flavor === 'gobgp' ? gobgpRr(m) : frrRr(m);
}

export const renderRr: Renderer = (config, options) => renderRrConfig(config, options);
