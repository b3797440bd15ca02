import { frrBgpBfd } from './bfd.js';
import { frrWord, LB_GROUP } from './bgp-common.js';
import { frrDenyAll, frrNames, frrPolicy } from './frr-policy.js';
import type { RrModel } from './rr.js';

const frrFamily = (f: 4 | 6) => (f === 4 ? 'ipv4 unicast' : 'ipv6 unicast');

/**
 * FRR bgpd as the route reflector. The peer-group must exist before `bgp listen range` names it.
 * With BFD, bgpd needs zebra and bfdd beside it (BFD reaches bgpd through zebra); iBGP speakers
 * that are not on one of its own subnets get multihop sessions.
 */
export function frrRr(m: RrModel): string {
  const remote = (as: number) => (as === m.as ? 'internal' : String(as));
  const r = m.router.address;
  const out = [
    `! FRR bgpd route reflector ${m.address}, rendered by portlb.`,
    ...(m.port !== undefined
      ? [`! LB speakers connect to port ${m.port}: start bgpd with -p ${m.port}.`]
      : []),
    ...(m.bfd !== undefined
      ? ['! BFD: run zebra and bfdd beside bgpd (start bgpd with -n: no kernel routes).']
      : []),
    'frr defaults datacenter',
    `hostname rr-${m.address.replaceAll(/[.:]/g, '-')}`,
    `router bgp ${m.as}`,
    ` bgp router-id ${m.address}`,
    ` bgp cluster-id ${m.clusterId}`,
    ` neighbor ${LB_GROUP} peer-group`,
    ` neighbor ${LB_GROUP} remote-as ${remote(m.lbAs)}`,
    ` neighbor ${LB_GROUP} timers ${m.lbTimers.keepalive} ${m.lbTimers.hold}`,
    ...(m.lbPassword !== undefined
      ? [` neighbor ${LB_GROUP} password ${frrWord(m.lbPassword, 'bgp password')}`]
      : []),
    ...(m.bfd !== undefined ? [frrBgpBfd(LB_GROUP, m.bfd)] : []),
    ...m.policy.listenRanges.map((range) => ` bgp listen range ${range.text} peer-group ${LB_GROUP}`),
    ' bgp listen limit 5000',
    ` neighbor ${r} remote-as ${remote(m.router.as)}`,
    ` neighbor ${r} timers ${m.router.timers.keepalive} ${m.router.timers.hold}`,
    ` neighbor ${r} timers connect 1`,
    ...(m.router.password !== undefined
      ? [` neighbor ${r} password ${frrWord(m.router.password, 'router password')}`]
      : []),
  ];
  for (const f of m.families) {
    out.push(
      ` address-family ${frrFamily(f)}`,
      ...(f === 6 ? [`  neighbor ${LB_GROUP} activate`, `  neighbor ${r} activate`] : []),
      `  neighbor ${LB_GROUP} route-reflector-client`,
      // Kept before the filter, so refused routes can be counted (show ... received-routes).
      `  neighbor ${LB_GROUP} soft-reconfiguration inbound`,
      `  neighbor ${LB_GROUP} route-map ${frrNames.vipIn(f)} in`,
      `  neighbor ${LB_GROUP} route-map ${frrNames.deny} out`,
      // `force` counts every prefix received, refused ones too; the session retries after a minute.
      `  neighbor ${LB_GROUP} maximum-prefix ${m.policy.maxPrefixes} restart 1 force`,
      `  neighbor ${r} route-reflector-client`,
      `  neighbor ${r} addpath-tx-all-paths`,
      `  neighbor ${r} route-map ${frrNames.deny} in`,
      ' exit-address-family',
    );
  }
  out.push('exit', ...frrPolicy(m.policy), ...frrDenyAll());
  return `${out.join('\n')}\n`;
}
