import { ConfigError } from '../errors.js';
import { gobgpBfd } from './bfd.js';
import { LB_GROUP, quoted, type Timers } from './bgp-common.js';
import { gobgpApplyPolicy, gobgpPolicy } from './gobgp-policy.js';
import type { RrModel } from './rr.js';

const gobgpFamily = (f: 4 | 6) => (f === 4 ? 'ipv4-unicast' : 'ipv6-unicast');

/** One gobgp `[[neighbors]]` or `[[peer-groups]]` table: an RR client with its timers and families. */
function gobgpPeer(
  table: 'neighbors' | 'peer-groups',
  head: { key: string; value: string; as: number; password: string | undefined },
  t: Timers,
  m: RrModel,
): string[] {
  const lb = table === 'peer-groups';
  const out = [
    `[[${table}]]`,
    `  [${table}.config]`,
    `    ${head.key} = "${head.value}"`,
    `    peer-as = ${head.as}`,
  ];
  if (head.password !== undefined) out.push(`    auth-password = ${quoted(head.password, 'bgp password')}`);
  out.push(
    `  [${table}.timers.config]`,
    `    hold-time = ${t.hold}`,
    `    keepalive-interval = ${t.keepalive}`,
    // Only the static neighbor dials out; dynamic neighbors are accepted, never dialled.
    ...(lb ? [] : ['    connect-retry = 1']),
    ...(lb && m.bfd !== undefined ? gobgpBfd(table, m.bfd) : []),
    `  [${table}.route-reflector.config]`,
    '    route-reflector-client = true',
    `    route-reflector-cluster-id = "${m.clusterId}"`,
  );
  for (const f of m.families) {
    out.push(
      `  [[${table}.afi-safis]]`,
      `    [${table}.afi-safis.config]`,
      `      afi-safi-name = "${gobgpFamily(f)}"`,
    );
    // Counted before the import policy: a flood of refused prefixes still closes the session.
    if (lb)
      out.push(
        `    [${table}.afi-safis.prefix-limit.config]`,
        `      max-prefixes = ${m.policy.maxPrefixes}`,
      );
    // add-paths towards the router only: it must see every LB's path to install ECMP.
    else
      out.push(`    [${table}.afi-safis.add-paths.config]`, '      send-max = 255', '      receive = true');
  }
  return out;
}

/**
 * gobgpd TOML (paper Appendix C, GoBGP v4: scripts/build-gobgp.sh). v4 sets the TCP-MD5 key on
 * its listener for each dynamic-neighbor range (Debian's 3.10 does not), and runs BFD for the
 * dynamic neighbors of a peer group; its BFD is single-hop only.
 */
export function gobgpRr(m: RrModel): string {
  const { router } = m;
  if (m.bfd !== undefined && !m.bfd.singleHop.includes(m.address)) {
    throw new ConfigError(
      `render rr --flavor gobgp: GoBGP's BFD is single-hop only (RFC 5881); list ${m.address} in bgp.bfd.singleHop (its LB speakers must be on its link), or use --flavor frr (multihop)`,
      [{ path: 'bgp.bfd.singleHop', message: `${m.address} is not listed` }],
    );
  }
  const out = [
    `# gobgpd (GoBGP v4) route reflector ${m.address}, rendered by portlb.`,
    '[global.config]',
    `  as = ${m.as}`,
    `  router-id = "${m.address}"`,
    `  local-address-list = ["${m.address}"]`,
    `  port = ${m.port ?? 179}`,
    '[global.use-multiple-paths.config]',
    '  enabled = true',
    ...gobgpApplyPolicy(),
    '',
    '# The upstream router: every LB path goes to it (add-paths), so it can install ECMP.',
    ...gobgpPeer(
      'neighbors',
      { key: 'neighbor-address', value: router.address, as: router.as, password: router.password },
      router.timers,
      m,
    ),
    '',
    '# LB speakers: dynamic neighbors from the LB ranges, all route-reflector clients.',
    ...gobgpPeer(
      'peer-groups',
      { key: 'peer-group-name', value: LB_GROUP, as: m.lbAs, password: m.lbPassword },
      m.lbTimers,
      m,
    ),
  ];
  for (const range of m.policy.listenRanges) {
    out.push(
      '',
      '[[dynamic-neighbors]]',
      '  [dynamic-neighbors.config]',
      `    prefix = "${range.text}"`,
      `    peer-group = "${LB_GROUP}"`,
    );
  }
  out.push('', ...gobgpPolicy(m.policy, router.address));
  return `${out.join('\n')}\n`;
}
