import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { ConfigError, type Problem } from '../../src/errors.js';

/*
 * One row per class of bad input issue 11 names: each is refused with a message on the field
 * that is wrong, and each dangerous value passes only with its explicit opt-in.
 */

type Doc = Record<string, unknown> & {
  services: Record<string, unknown>[];
  bgp: Record<string, unknown> & { peers: Record<string, unknown>[] };
};

const service = (name: string, vip: string) => ({
  name,
  vip,
  ports: [{ port: 80 }],
  backends: { static: [{ address: '10.98.0.21', port: 8080 }] },
});

const base = (): Doc => ({
  mode: 'bgp',
  allowedVipPools: ['10.1.0.0/16', '2001:db8:1::/48'],
  services: [service('web', '10.1.1.0/24')],
  bgp: { localAs: 65000, peers: [{ address: '10.99.0.2', as: 65000 }] },
});

const aws = (extra: Record<string, unknown> = {}) => ({
  mode: 'aws',
  aws: { routeTables: { ids: ['rtb-0123456789abcdef0'] }, ...extra },
});

function problems(document: unknown, env: NodeJS.ProcessEnv = {}): Problem[] {
  try {
    parseConfig(document, env);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

function mutated(mutate: (doc: Doc) => void): Doc {
  const doc = base();
  mutate(doc);
  return doc;
}

const vip =
  (v: string, pools: string[] = ['0.0.0.0/0', '::/0']) =>
  (d: Doc) => {
    d.allowedVipPools = pools;
    d.services[0]!.vip = v;
  };

describe('refused, with a message on the field', () => {
  it.each<[string, (doc: Doc) => void, string, string, NodeJS.ProcessEnv?]>([
    // BGP protocol bounds (RFC 4271, 6286, 1997)
    ['a fractional hold time', (d) => (d.bgp.holdTime = 9.5), 'bgp.holdTime', 'whole seconds'],
    [
      'a hold time above 65535',
      (d) => Object.assign(d.bgp, { holdTime: 70000, allowLongHoldTime: true }),
      'bgp.holdTime',
      '65535',
    ],
    ['a hold time of 1 s', (d) => (d.bgp.holdTime = 1), 'bgp.holdTime', '0 or at least 3 s'],
    [
      'a per-peer hold time of 1 s',
      (d) => (d.bgp.peers[0]!.holdTime = 1),
      'bgp.peers[0].holdTime',
      'at least 3 s',
    ],
    [
      'a per-peer fractional hold time',
      (d) => (d.bgp.peers[0]!.holdTime = 4.5),
      'bgp.peers[0].holdTime',
      'whole seconds',
    ],
    ['a hold time of 0 without the opt-in', (d) => (d.bgp.holdTime = 0), 'bgp.holdTime', 'allowLongHoldTime'],
    ['a router id of five octets', (d) => (d.bgp.routerId = '1.2.3.4.5'), 'bgp.routerId', 'dotted quad'],
    ['an IPv6 router id', (d) => (d.bgp.routerId = '2001:db8::1'), 'bgp.routerId', 'dotted quad'],
    ['a router id of 0.0.0.0', (d) => (d.bgp.routerId = '0.0.0.0'), 'bgp.routerId', 'RFC 6286'],
    ['a router id with leading zeros', (d) => (d.bgp.routerId = '010.0.0.1'), 'bgp.routerId', 'dotted quad'],
    [
      'a community half above 16 bits',
      (d) => (d.bgp.communities = ['65000:65536']),
      'bgp.communities[0]',
      '0-65535',
    ],
    ['an AS above 32 bits', (d) => (d.bgp.localAs = 2 ** 32), 'bgp.localAs', '4294967295'],
    ['AS 0', (d) => (d.bgp.peers[0]!.as = 0), 'bgp.peers[0].as', '>=1'],
    ['AS_TRANS', (d) => (d.bgp.localAs = 23456), 'bgp.localAs', 'reserved AS number'],
    [
      'a VIP over a route reflector',
      vip('10.99.0.0/24'),
      'services[0].vip',
      'overlaps bgp.peers[0].address (10.99.0.2)',
    ],
    [
      'a VIP over a static backend',
      vip('10.98.0.0/16'),
      'services[0].vip',
      'services[0].backends.static[0].address',
    ],
    [
      'a VIP over the node the sidecar runs on',
      vip('10.99.0.11/32'),
      'services[0].vip',
      'overlaps env.HOST_IP',
      { HOST_IP: '10.99.0.11' },
    ],
    [
      'a probe path that would split the request',
      (d) => (d.health = { probe: { type: 'http', path: '/x HTTP/1.1\r\nHost: evil' } }),
      'health.probe.path',
      'printable ASCII without spaces',
    ],
    [
      'a duplicate peer (same address, other spelling)',
      (d) => {
        d.bgp.peers = [
          { address: '2001:db8::2', as: 65000 },
          { address: '2001:DB8::2', as: 65000 },
        ];
      },
      'bgp.peers[1].address',
      'already used by bgp.peers[0]',
    ],
    [
      'the router among the route reflectors',
      (d) => (d.bgp.topology = { router: { address: '10.99.0.2' } }),
      'bgp.topology.router.address',
      'route reflector',
    ],
    [
      'an IPv6 cluster id',
      (d) => (d.bgp.topology = { router: { address: '10.9.0.1' }, clusterId: '::1' }),
      'bgp.topology.clusterId',
      'dotted quad',
    ],
    // special-purpose VIPs
    ['a loopback VIP', vip('127.0.0.0/8'), 'services[0].vip', '"loopback"'],
    ['a VIP on the metadata address', vip('169.254.169.254/32'), 'services[0].vip', '"cloud-metadata"'],
    ['a link-local VIP', vip('169.254.0.0/24'), 'services[0].vip', '"link-local"'],
    ['a multicast VIP', vip('239.1.1.0/24'), 'services[0].vip', '"multicast"'],
    ['the broadcast address', vip('255.255.255.255/32'), 'services[0].vip', '"broadcast"'],
    ['a class E VIP', vip('240.0.0.0/24'), 'services[0].vip', '"reserved"'],
    ['a "this network" VIP', vip('0.0.0.0/8'), 'services[0].vip', '"unspecified"'],
    ['an IPv4 default route', vip('0.0.0.0/0'), 'services[0].vip', '"default-route"'],
    ['an IPv6 default route', vip('::/0'), 'services[0].vip', '"default-route"'],
    [
      'a VIP covering link-local and more',
      vip('128.0.0.0/1'),
      'services[0].vip',
      '"link-local", "multicast"',
    ],
    ['an IPv6 loopback VIP', vip('::1/128'), 'services[0].vip', '"loopback"'],
    ['an IPv6 unspecified VIP', vip('::/128'), 'services[0].vip', '"unspecified"'],
    ['an IPv6 link-local VIP', vip('fe80::/64'), 'services[0].vip', '"link-local"'],
    ['an IPv6 multicast VIP', vip('ff02::/16'), 'services[0].vip', '"multicast"'],
    ["AWS's IPv6 metadata address", vip('fd00:ec2::254/128'), 'services[0].vip', '"cloud-metadata"'],
    ['an IPv4-compatible VIP', vip('::a01:100/120'), 'services[0].vip', '"ipv4-compatible"'],
    ['an IPv4-mapped VIP', vip('::ffff:10.1.1.0/120'), 'services[0].vip', 'did you mean 10.1.1.0/24'],
    ['a mapped loopback VIP', vip('::ffff:127.0.0.1/128'), 'services[0].vip', '"loopback"'],
    // mapped forms meet the overlap checks of the IPv4 range they stand for
    [
      'a mapped VIP over the node range',
      (d) => {
        vip('::ffff:10.99.0.0/120')(d);
        d.allowSpecialPurposeVips = ['ipv4-mapped'];
        d.clusterNetworks = { nodes: ['10.99.0.0/24'] };
      },
      'services[0].vip',
      'overlaps clusterNetworks.nodes[0] (10.99.0.0/24)',
    ],
    [
      'a mapped VIP over another VIP',
      (d) => {
        d.allowSpecialPurposeVips = ['ipv4-mapped'];
        d.allowedVipPools = ['10.1.0.0/16', '::ffff:0:0/96'];
        d.services.push(service('api', '::ffff:10.1.1.0/120'));
      },
      'services[1].vip',
      'overlaps services[0].vip (10.1.1.0/24)',
    ],
    [
      'an IPv4 VIP outside a mapped pool range that is not its own',
      (d) => (d.allowedVipPools = ['::ffff:10.2.0.0/112']),
      'services[0].vip',
      'outside allowedVipPools',
    ],
    // canonical forms
    [
      'a non-canonical IPv6 VIP',
      (d) => (d.services[0]!.vip = '2001:DB8:1:0::/64'),
      'services[0].vip',
      'did you mean 2001:db8:1::/64',
    ],
    [
      'an IPv6 VIP with leading zeros',
      (d) => (d.services[0]!.vip = '2001:db8:0001::/64'),
      'services[0].vip',
      'did you mean 2001:db8:1::/64',
    ],
    [
      'an IPv6 VIP with host bits',
      (d) => (d.services[0]!.vip = '2001:db8:1::1/64'),
      'services[0].vip',
      'did you mean 2001:db8:1::/64',
    ],
    [
      'a prefix length with a leading zero',
      (d) => (d.services[0]!.vip = '10.1.1.0/024'),
      'services[0].vip',
      'did you mean 10.1.1.0/24',
    ],
    [
      'a zone in a CIDR',
      (d) => (d.services[0]!.vip = '2001:db8:1::%eth0/64'),
      'services[0].vip',
      'did you mean 2001:db8:1::/64',
    ],
    [
      'a non-canonical pool',
      (d) => (d.allowedVipPools = ['2001:DB8::/32']),
      'allowedVipPools[0]',
      'did you mean 2001:db8::/32',
    ],
    // host addresses
    [
      'a backend on 0.0.0.0',
      (d) => (d.services[0]!.backends = { static: [{ address: '0.0.0.0', port: 80 }] }),
      'services[0].backends.static[0].address',
      'not a host',
    ],
    [
      'a backend on the metadata server',
      (d) => (d.services[0]!.backends = { static: [{ address: '169.254.169.254', port: 80 }] }),
      'services[0].backends.static[0].address',
      'metadata',
    ],
    [
      'a multicast peer',
      (d) => (d.bgp.peers[0]!.address = '224.0.0.5'),
      'bgp.peers[0].address',
      'not a host',
    ],
    [
      'an IPv4-mapped peer',
      (d) => (d.bgp.peers[0]!.address = '::ffff:10.99.0.2'),
      'bgp.peers[0].address',
      'did you mean 10.99.0.2',
    ],
    [
      'an IPv4 address with leading zeros',
      (d) => (d.bgp.peers[0]!.address = '10.099.0.2'),
      'bgp.peers[0].address',
      'not an IPv4 or IPv6',
    ],
    [
      'a target given twice',
      (d) =>
        (d.targets = [
          { node: 'a', address: '10.99.0.11' },
          { node: 'b', address: '10.99.0.11' },
        ]),
      'targets[1].address',
      'already used',
    ],
    [
      'a target node that is no node name',
      (d) => (d.targets = [{ node: 'Node_1', address: '10.99.0.11' }]),
      'targets[0].node',
      'DNS subdomain',
    ],
    // timers and ports
    [
      'a debounce of hours',
      (d) => (d.reconcile = { debounceMs: 1e10 }),
      'reconcile.debounceMs',
      'at most 60000',
    ],
    [
      'a debounce longer than the resync',
      (d) => (d.reconcile = { resyncSeconds: 5, debounceMs: 6000 }),
      'reconcile.debounceMs',
      'not below resyncSeconds',
    ],
    [
      'a resync of a year',
      (d) => (d.reconcile = { resyncSeconds: 31_536_000 }),
      'reconcile.resyncSeconds',
      'at most 86400',
    ],
    [
      'a probe every microsecond',
      (d) => (d.health = { intervalSeconds: 1e-6, timeoutSeconds: 1e-6 }),
      'health.intervalSeconds',
      'at least',
    ],
    [
      'a probe timeout above its interval',
      (d) => (d.health = { intervalSeconds: 1, timeoutSeconds: 2 }),
      'health.timeoutSeconds',
      'at most intervalSeconds',
    ],
    ['a rise of a million', (d) => (d.health = { rise: 1e6 }), 'health.rise', '<=100'],
    ['a drain of a day', (d) => (d.drain = { seconds: 86_400 }), 'drain.seconds', '<=3600'],
    [
      'an infinite lease',
      (d) => (d.kubernetes = { lbPodSelector: 'a=b', lease: { durationSeconds: 1e9 } }),
      'kubernetes.lease.durationSeconds',
      'at most',
    ],
    [
      'a listen port above 65535',
      (d) => (d.server = { listen: '0.0.0.0:65536' }),
      'server.listen',
      '0-65535',
    ],
    [
      'a listen address with a bad IPv6',
      (d) => (d.server = { listen: '[fe80:::1]:9402' }),
      'server.listen',
      'not an IPv6',
    ],
    [
      'a node agent port above 65535',
      (d) => (d.nodeAgent = { listen: '$(HOST_IP):99999' }),
      'nodeAgent.listen',
      '0-65535',
    ],
    [
      'a route protocol FRR uses',
      (d) => (d.nodeAgent = { routeProtocol: 186 }),
      'nodeAgent.routeProtocol',
      "FRR bgp's",
    ],
    [
      'a netns that is a path',
      (d) => (d.nodeAgent = { netns: '../../etc' }),
      'nodeAgent.netns',
      'namespace name',
    ],
    [
      'the same port twice',
      (d) => (d.services[0]!.ports = [{ port: 80 }, { port: 80, protocol: 'TCP' }]),
      'services[0].ports[1]',
      'already used',
    ],
    // AWS and GCP identifiers, cross-field rules
    [
      'an availability zone as region',
      (d) => Object.assign(d, aws({ region: 'us-east-1a' })),
      'aws.region',
      'AWS region',
    ],
    [
      'an upper-case region',
      (d) => Object.assign(d, aws({ region: 'US-EAST-1' })),
      'aws.region',
      'AWS region',
    ],
    [
      'an endpoint that is no URL',
      (d) => Object.assign(d, aws({ endpoint: 'localhost:5000' })),
      'aws.endpoint',
      'http:// or https://',
    ],
    [
      'an ftp endpoint',
      (d) => Object.assign(d, aws({ endpoint: 'ftp://moto' })),
      'aws.endpoint',
      'http:// or https://',
    ],
    [
      'a short route table id',
      (d) => Object.assign(d, aws({ routeTables: { ids: ['rtb-12'] } })),
      'aws.routeTables.ids[0]',
      'route table id',
    ],
    [
      'an upper-case route table id',
      (d) => Object.assign(d, aws({ routeTables: { ids: ['rtb-0123ABCD'] } })),
      'aws.routeTables.ids[0]',
      'route table id',
    ],
    [
      'a route table twice',
      (d) => Object.assign(d, aws({ routeTables: { ids: ['rtb-0123abcd', 'rtb-0123abcd'] } })),
      'aws.routeTables.ids[1]',
      'already used',
    ],
    [
      'ids and tags at once',
      (d) => Object.assign(d, aws({ routeTables: { ids: ['rtb-0123abcd'], tags: { a: 'b' } } })),
      'aws.routeTables',
      '"ids" or "tags", not both',
    ],
    [
      'neither ids nor tags',
      (d) => Object.assign(d, aws({ routeTables: {} })),
      'aws.routeTables',
      'needs "ids" or "tags"',
    ],
    [
      'an aws: tag key',
      (d) => Object.assign(d, aws({ routeTables: { tags: { 'aws:x': 'y' } } })),
      'aws.routeTables.tags.aws:x',
      'reserved by AWS',
    ],
    [
      'a bad event bus',
      (d) => Object.assign(d, aws({ eventBus: 'my bus' })),
      'aws.eventBus',
      'event bus name',
    ],
    [
      'a candidacy stale before its refresh',
      (d) => Object.assign(d, aws({ candidacy: { refreshSeconds: 60, staleSeconds: 60 } })),
      'aws.candidacy.staleSeconds',
      'must be above refreshSeconds',
    ],
    [
      'a stale time below the default refresh',
      (d) => Object.assign(d, aws({ candidacy: { staleSeconds: 30 } })),
      'aws.candidacy.staleSeconds',
      'above refreshSeconds',
    ],
    [
      'a GCP project id with capitals',
      (d) => Object.assign(d, { mode: 'gcp', gcp: { project: 'My-Project', network: 'default' } }),
      'gcp.project',
      'GCP project id',
    ],
    [
      'a GCP project id too short',
      (d) => Object.assign(d, { mode: 'gcp', gcp: { project: 'abc', network: 'default' } }),
      'gcp.project',
      'GCP project id',
    ],
    [
      'a GCP network with a space',
      (d) => Object.assign(d, { mode: 'gcp', gcp: { project: 'my-project', network: 'my net' } }),
      'gcp.network',
      'GCP name',
    ],
    [
      'a GCP endpoint that is no URL',
      (d) =>
        Object.assign(d, { mode: 'gcp', gcp: { project: 'my-project', network: 'default', endpoint: 'x' } }),
      'gcp.endpoint',
      'URL',
    ],
    // alternatives and messages
    [
      'static and kubernetes backends at once',
      (d) =>
        (d.services[0]!.backends = {
          static: [{ address: '10.98.0.21', port: 80 }],
          kubernetes: { service: 'web' },
        }),
      'services[0].backends',
      '"static" or "kubernetes", not both',
    ],
    [
      'no backends at all',
      (d) => (d.services[0]!.backends = {}),
      'services[0].backends',
      'needs "static" or "kubernetes"',
    ],
    [
      'a Kubernetes port that is neither',
      (d) => (d.services[0]!.backends = { kubernetes: { service: 'web', port: true } }),
      'services[0].backends.kubernetes.port',
      'port number (1-65535) or a port name',
    ],
    [
      'an unknown special-purpose category',
      (d) => (d.allowSpecialPurposeVips = ['everything']),
      'allowSpecialPurposeVips[0]',
      'expected one of',
    ],
    // what reaches another program: the API server, exabgp's environment, the EC2 API
    [
      'a label selector that is not one',
      (d) => (d.kubernetes = { lbPodSelector: 'app = lb = x' }),
      'kubernetes.lbPodSelector',
      'label selector',
    ],
    [
      'an exabgp setting no environment takes',
      (d) => (d.bgp.exabgp = { env: { 'exabgp.api=ack': 'false' } }),
      'bgp.exabgp.env.exabgp.api=ack',
      'environment name',
    ],
    [
      'a cloud target that is no ENI, in aws mode',
      (d) =>
        Object.assign(d, aws(), { targets: [{ node: 'n1', address: '10.99.0.11', cloudTarget: 'i-0abc' }] }),
      'targets[0].cloudTarget',
      'network interface id',
    ],
    [
      'a cloud target that is neither, in auto mode',
      (d) =>
        Object.assign(d, aws(), {
          mode: 'auto',
          targets: [{ node: 'n1', address: '10.99.0.11', cloudTarget: 'node-1' }],
        }),
      'targets[0].cloudTarget',
      'eni-...) or an instance URL',
    ],
    // modes
    ['auto with only a bgp section', (d) => (d.mode = 'auto'), 'mode', 'write mode: bgp'],
    [
      'a router id from an IPv6 node address',
      () => undefined,
      'bgp.routerId',
      'IPv6',
      { HOST_IP: '2001:db8:99::11' },
    ],
  ])('%s', (_name, mutate, path, message, env = {}) => {
    const found = problems(mutated(mutate), env);
    expect(found.map((p) => p.path)).toContain(path);
    expect(
      found
        .filter((p) => p.path === path)
        .map((p) => p.message)
        .join(' | '),
    ).toContain(message);
  });
});

describe('the opt-ins accept what they name, and only that', () => {
  it.each<[string, (doc: Doc) => void]>([
    [
      'a loopback VIP with "loopback"',
      (d) => {
        vip('127.0.0.0/8')(d);
        d.allowSpecialPurposeVips = ['loopback'];
      },
    ],
    [
      'the metadata address with "cloud-metadata"',
      (d) => {
        vip('169.254.169.254/32')(d);
        d.allowSpecialPurposeVips = ['cloud-metadata'];
      },
    ],
    [
      'a default route with "default-route"',
      (d) => {
        vip('0.0.0.0/0')(d);
        d.allowSpecialPurposeVips = ['default-route'];
      },
    ],
    [
      'a mapped VIP with "ipv4-mapped"',
      (d) => {
        vip('::ffff:10.1.1.0/120')(d);
        d.allowSpecialPurposeVips = ['ipv4-mapped'];
      },
    ],
    [
      'a hold time of 0 with allowLongHoldTime',
      (d) => Object.assign(d.bgp, { holdTime: 0, allowLongHoldTime: true }),
    ],
    [
      'a hold time of 65535 with allowLongHoldTime',
      (d) => Object.assign(d.bgp, { holdTime: 65535, allowLongHoldTime: true }),
    ],
    ['documentation ranges, which need no opt-in', vip('192.0.2.0/24')],
    ['shared address space, which needs no opt-in', vip('100.64.0.0/24')],
    [
      'a loopback backend (the LB box itself)',
      (d) => (d.services[0]!.backends = { static: [{ address: '127.0.0.1', port: 80 }] }),
    ],
    ['a link-local IPv6 peer', (d) => (d.bgp.peers[0]!.address = 'fe80::2')],
    [
      'a kubernetes port by name',
      (d) => (d.services[0]!.backends = { kubernetes: { service: 'web', port: 'http' } }),
    ],
    [
      'auto with an aws section',
      (d) => Object.assign(d, { mode: 'auto', aws: { routeTables: { tags: { managed: 'yes' } } } }),
    ],
    [
      'an https endpoint on loopback',
      (d) => Object.assign(d, aws({ endpoint: 'http://127.0.0.1:5000', region: 'us-gov-west-1' })),
    ],
    [
      'a domain-scoped GCP project',
      (d) =>
        Object.assign(d, { mode: 'gcp', gcp: { project: 'example.com:my-project', network: 'default' } }),
    ],
    [
      'a set-based label selector',
      (d) => (d.kubernetes = { lbPodSelector: 'app.kubernetes.io/name=lb,tier in (edge, core),!canary' }),
    ],
    [
      'cloud targets of either cloud in auto mode',
      (d) =>
        Object.assign(d, aws(), {
          mode: 'auto',
          targets: [
            { node: 'n1', address: '10.99.0.11', cloudTarget: 'eni-0123456789abcdef0' },
            {
              node: 'n2',
              address: '10.99.0.12',
              cloudTarget: 'projects/p-123456/zones/us-east1-b/instances/lb-2',
            },
          ],
        }),
    ],
    [
      'IPv6 listen addresses',
      (d) => Object.assign(d, { server: { listen: '[::]:9402' }, nodeAgent: { listen: '$(HOST_IP):9403' } }),
    ],
  ])('%s', (_name, mutate) => {
    expect(problems(mutated(mutate))).toEqual([]);
  });

  it('one opt-in does not let another category through', () => {
    const doc = mutated(vip('169.254.169.254/32'));
    doc.allowSpecialPurposeVips = ['link-local'];
    expect(
      problems(doc)
        .map((p) => p.message)
        .join(),
    ).toContain('"cloud-metadata"');
  });
});

describe('no knock-on problems', () => {
  it('a bad pool does not make every VIP "outside allowedVipPools"', () => {
    const doc = base();
    doc.allowedVipPools = ['10.1.0.0/16', '10.2.0.0/33'];
    expect(problems(doc)).toEqual([
      { path: 'allowedVipPools[1]', message: '"10.2.0.0/33" is not a valid CIDR' },
    ]);
  });

  it('a value out of range gets one message, not a second from the rule that pairs it', () => {
    const doc = base();
    doc.reconcile = { debounceMs: 1e10 };
    expect(problems(doc)).toEqual([{ path: 'reconcile.debounceMs', message: 'must be at most 60000 ms' }]);
  });
});
