import type { Config } from '../config/load.js';
import {
  frrWord,
  type ReadSecret,
  readSecretFile,
  requireBgp,
  requireTopology,
  timers,
  vipFamilies,
} from './bgp-common.js';
import type { Renderer } from './index.js';

/**
 * FRR bgpd for the upstream router: iBGP to every route reflector and `maximum-paths ibgp` so
 * that zebra installs one ECMP route over all LB next hops. (gobgpd + zebra panics with Debian's
 * FRR, osrg/gobgp#2681, hence FRR.) zebra itself needs no config beyond a hostname.
 */
export function renderRouterConfig(config: Config, readSecret: ReadSecret = readSecretFile): string {
  const bgp = requireBgp(config, 'router');
  const { router } = requireTopology(config, 'router');
  const as = router.as ?? bgp.localAs;
  const password = router.passwordFile === undefined ? undefined : readSecret(router.passwordFile);
  const out = [
    `! FRR bgpd upstream router ${router.address}, rendered by portlb.`,
    'frr defaults datacenter',
    'hostname router',
    `router bgp ${as}`,
    ` bgp router-id ${router.address}`,
  ];
  for (const rr of bgp.peers) {
    const t = timers(rr.holdTime ?? bgp.holdTime);
    out.push(
      ` neighbor ${rr.address} remote-as ${rr.as === as ? 'internal' : rr.as}`,
      ` neighbor ${rr.address} timers ${t.keepalive} ${t.hold}`,
      ` neighbor ${rr.address} timers connect 1`,
    );
    if (rr.port !== undefined) out.push(` neighbor ${rr.address} port ${rr.port}`);
    if (password !== undefined)
      out.push(` neighbor ${rr.address} password ${frrWord(password, 'router password')}`);
  }
  for (const f of vipFamilies(config)) {
    out.push(` address-family ${f === 4 ? 'ipv4' : 'ipv6'} unicast`);
    if (f === 6) for (const rr of bgp.peers) out.push(`  neighbor ${rr.address} activate`);
    out.push(`  maximum-paths ibgp ${router.maximumPaths}`, ' exit-address-family');
  }
  return `${out.join('\n')}\n`;
}

export const renderRouter: Renderer = (config) => renderRouterConfig(config);
