import type { Config } from '../config/load.js';
import {
  frrWord,
  type ReadSecret,
  readSecretFile,
  requireBgp,
  requireTopology,
  timers,
} from './bgp-common.js';
import { frrNames, frrPolicy } from './frr-policy.js';
import type { Renderer } from './index.js';
import { lbPolicy } from './policy.js';

/**
 * FRR bgpd for the upstream router: iBGP to every route reflector and `maximum-paths ibgp` so
 * that zebra installs one ECMP route over all LB next hops. (gobgpd + zebra panics with Debian's
 * FRR, osrg/gobgp#2681, hence FRR.) zebra itself needs no config beyond a hostname. It applies
 * the route reflectors' LB filter once more to what they reflect: a route reflector that is
 * misconfigured or taken over still cannot put a default route or a foreign prefix here.
 */
export function renderRouterConfig(config: Config, readSecret: ReadSecret = readSecretFile): string {
  const bgp = requireBgp(config, 'router');
  const { router } = requireTopology(config, 'router');
  const policy = lbPolicy(config, 'router');
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
  for (const { family: f } of policy.families) {
    out.push(` address-family ${f === 4 ? 'ipv4' : 'ipv6'} unicast`);
    for (const rr of bgp.peers) {
      if (f === 6) out.push(`  neighbor ${rr.address} activate`);
      out.push(`  neighbor ${rr.address} route-map ${frrNames.vipIn(f)} in`);
    }
    out.push(`  maximum-paths ibgp ${router.maximumPaths}`, ' exit-address-family');
  }
  out.push('exit', ...frrPolicy(policy));
  return `${out.join('\n')}\n`;
}

export const renderRouter: Renderer = (config) => renderRouterConfig(config);
