import type { Config } from '../config/load.js';
import { ConfigError } from '../errors.js';
import {
  frrWord,
  quoted,
  type ReadSecret,
  readSecretFile,
  requireBgp,
  requireTopology,
  type Timers,
  timers,
  vipFamilies,
} from './bgp-common.js';
import type { Renderer } from './index.js';

/** The peer-group every LB speaker joins through a dynamic-neighbor range. */
const LB_GROUP = 'portlb-lb';

/** Everything both flavours say, resolved once so they cannot disagree. */
interface RrModel {
  readonly address: string;
  readonly as: number;
  readonly clusterId: string;
  readonly port: number | undefined;
  readonly lbAs: number;
  readonly lbTimers: Timers;
  readonly lbPassword: string | undefined;
  readonly ranges: readonly string[];
  readonly router: {
    readonly address: string;
    readonly as: number;
    readonly timers: Timers;
    readonly password: string | undefined;
  };
  readonly families: readonly (4 | 6)[];
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
  const ranges = [...config.clusterNetworks.nodes, ...config.clusterNetworks.pods];
  if (ranges.length === 0) {
    throw new ConfigError(
      'render rr needs clusterNetworks.nodes or .pods: the ranges LB speakers connect from',
      [{ path: 'clusterNetworks', message: 'no node or pod range' }],
    );
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
    ranges,
    router: {
      address: topology.router.address,
      as: topology.router.as ?? bgp.localAs,
      timers: hold,
      password:
        topology.router.passwordFile === undefined ? undefined : readSecret(topology.router.passwordFile),
    },
    families: vipFamilies(config),
  };
}

const gobgpFamily = (f: 4 | 6) => (f === 4 ? 'ipv4-unicast' : 'ipv6-unicast');

/** One gobgp `[[neighbors]]` or `[[peer-groups]]` table: an RR client with its timers and families. */
function gobgpPeer(
  table: 'neighbors' | 'peer-groups',
  head: { key: string; value: string; as: number; password: string | undefined },
  t: Timers,
  m: RrModel,
): string[] {
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
    ...(table === 'neighbors' ? ['    connect-retry = 1'] : []),
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
    // add-paths towards the router only: it must see every LB's path to install ECMP.
    if (table === 'neighbors') {
      out.push(`    [${table}.afi-safis.add-paths.config]`, '      send-max = 255', '      receive = true');
    }
  }
  return out;
}

/** gobgpd TOML (paper Appendix C), the shape verified in the reference lab. */
function gobgp(m: RrModel): string {
  const { router } = m;
  if (m.lbPassword !== undefined) {
    // Checked with Debian's gobgpd 3.10: with auth-password on the dynamic-neighbor peer-group no
    // LB session ever comes up (the listener gets no key for the range); FRR's does.
    throw new ConfigError(
      `render rr: gobgpd does not apply TCP-MD5 to dynamic neighbors; use --flavor frr for ${m.address}, or drop its passwordFile`,
      [{ path: 'bgp.peers', message: `${m.address} has a passwordFile` }],
    );
  }
  const out = [
    `# gobgpd route reflector ${m.address}, rendered by portlb.`,
    '[global.config]',
    `  as = ${m.as}`,
    `  router-id = "${m.address}"`,
    `  local-address-list = ["${m.address}"]`,
    `  port = ${m.port ?? 179}`,
    '[global.use-multiple-paths.config]',
    '  enabled = true',
    '',
    '# The upstream router: every LB path goes to it (add-paths), so it can install ECMP.',
    ...gobgpPeer(
      'neighbors',
      { key: 'neighbor-address', value: router.address, as: router.as, password: router.password },
      router.timers,
      m,
    ),
    '',
    '# LB speakers: dynamic neighbors from the node and pod ranges, all route-reflector clients.',
    ...gobgpPeer(
      'peer-groups',
      { key: 'peer-group-name', value: LB_GROUP, as: m.lbAs, password: m.lbPassword },
      m.lbTimers,
      m,
    ),
  ];
  for (const range of m.ranges) {
    out.push(
      '',
      '[[dynamic-neighbors]]',
      '  [dynamic-neighbors.config]',
      `    prefix = "${range}"`,
      `    peer-group = "${LB_GROUP}"`,
    );
  }
  return `${out.join('\n')}\n`;
}

const frrFamily = (f: 4 | 6) => (f === 4 ? 'ipv4 unicast' : 'ipv6 unicast');

/** FRR bgpd as the route reflector. The peer-group must exist before `bgp listen range` names it. */
function frr(m: RrModel): string {
  const remote = (as: number) => (as === m.as ? 'internal' : String(as));
  const r = m.router.address;
  const out = [
    `! FRR bgpd route reflector ${m.address}, rendered by portlb.`,
    ...(m.port !== undefined
      ? [`! LB speakers connect to port ${m.port}: start bgpd with -p ${m.port}.`]
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
    ...m.ranges.map((range) => ` bgp listen range ${range} peer-group ${LB_GROUP}`),
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
      `  neighbor ${r} route-reflector-client`,
      `  neighbor ${r} addpath-tx-all-paths`,
      ' exit-address-family',
    );
  }
  return `${out.join('\n')}\n`;
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
  return flavor === 'gobgp' ? gobgp(m) : frr(m);
}

export const renderRr: Renderer = (config, options) => renderRrConfig(config, options);
