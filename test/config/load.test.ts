import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../src/config/load.js';
import { ConfigError, type Problem } from '../../src/errors.js';

const base = () => ({
  mode: 'bgp',
  allowedVipPools: ['10.1.0.0/16', '2001:db8:1::/48'],
  services: [
    {
      name: 'web',
      vip: '10.1.1.0/24',
      ports: [{ port: 80 }],
      backends: { static: [{ address: '10.98.0.21', port: 8080 }] },
    },
  ],
  bgp: { localAs: 65000, peers: [{ address: '10.99.0.2', as: 65000 }] },
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

type Doc = ReturnType<typeof base> & Record<string, unknown>;

describe('parseConfig accepts', () => {
  it('a minimal BGP config and fills the defaults', () => {
    const config = parseConfig(base(), { NODE_NAME: 'node1', HOST_IP: '10.99.0.11', POD_IP: '10.244.1.5' });
    expect(config.owner).toBe('portlb');
    expect(config.bgp?.holdTime).toBe(9);
    expect(config.bgp?.nextHop).toBe('node');
    expect(config.health).toMatchObject({ intervalSeconds: 1, rise: 2, fall: 2, probe: { type: 'tcp' } });
    expect(config.drain.seconds).toBe(10);
    expect(config.services[0]?.ports[0]?.protocol).toBe('TCP');
    expect(config.identity).toEqual({
      nodeName: 'node1',
      hostIp: '10.99.0.11',
      podIp: '10.244.1.5',
      podName: undefined,
      podNamespace: undefined,
    });
  });

  it('an IPv6 VIP', () => {
    const doc: Doc = base();
    doc.services[0]!.vip = '2001:db8:1:1::/64';
    expect(problems(doc)).toEqual([]);
  });

  it('a long hold time with the explicit override', () => {
    const doc: Doc = base();
    Object.assign(doc.bgp, { holdTime: 90, allowLongHoldTime: true });
    expect(problems(doc)).toEqual([]);
  });
});

describe('parseConfig refuses, naming the field', () => {
  it.each<[string, (doc: Doc) => void, string, string]>([
    ['an unknown mode', (d) => (d.mode = 'ospf'), 'mode', 'expected one of'],
    [
      'a non-canonical CIDR',
      (d) => (d.services[0]!.vip = '10.1.1.5/24'),
      'services[0].vip',
      'did you mean 10.1.1.0/24',
    ],
    [
      'a VIP outside the allowed pools',
      (d) => (d.services[0]!.vip = '10.2.0.0/24'),
      'services[0].vip',
      'outside allowedVipPools',
    ],
    [
      'overlapping VIPs',
      (d) => d.services.push({ ...d.services[0]!, name: 'api', vip: '10.1.0.0/20' }),
      'services[1].vip',
      'overlaps services[0].vip',
    ],
    [
      'a VIP overlapping the node range',
      (d) => (d.clusterNetworks = { nodes: ['10.1.1.0/25'] }),
      'services[0].vip',
      'overlaps clusterNetworks.nodes[0]',
    ],
    [
      'a VIP overlapping the pod range',
      (d) => (d.clusterNetworks = { pods: ['10.0.0.0/8'] }),
      'services[0].vip',
      'overlaps clusterNetworks.pods[0]',
    ],
    ['a hold time above 30 s', (d) => Object.assign(d.bgp, { holdTime: 180 }), 'bgp.holdTime', 'above 30 s'],
    [
      'a peer hold time above 30 s',
      (d) => Object.assign(d.bgp.peers[0]!, { holdTime: 60 }),
      'bgp.peers[0].holdTime',
      'above 30 s',
    ],
    ['a hold time below 3 s', (d) => Object.assign(d.bgp, { holdTime: 1 }), 'bgp.holdTime', 'at least 3 s'],
    [
      'a bad peer address',
      (d) => (d.bgp.peers[0]!.address = '10.99.0'),
      'bgp.peers[0].address',
      'not an IPv4 or IPv6 address',
    ],
    [
      'a bad community',
      (d) => Object.assign(d.bgp, { communities: ['no-export'] }),
      'bgp.communities[0]',
      'ASN:VALUE',
    ],
    ['bgp mode without a bgp section', (d) => delete (d as Partial<Doc>).bgp, 'bgp', 'needs a "bgp" section'],
    ['aws mode without an aws section', (d) => (d.mode = 'aws'), 'aws', 'needs a "aws" section'],
    [
      'a duplicate service name',
      (d) => d.services.push({ ...d.services[0]!, vip: '10.1.2.0/24' }),
      'services[1].name',
      'already used',
    ],
    ['an unknown key (a typo)', (d) => (d.servics = []), '(root)', 'servics'],
    [
      'a port out of range',
      (d) => (d.services[0]!.ports[0]!.port = 70000),
      'services[0].ports[0].port',
      '<=65535',
    ],
    [
      'a bad route table id',
      (d) => Object.assign(d, { mode: 'aws', aws: { routeTables: { ids: ['table-1'] } } }),
      'aws.routeTables.ids[0]',
      'must be a route table id',
    ],
    [
      'a VIP inside the VPC',
      (d) =>
        Object.assign(d, {
          mode: 'aws',
          aws: { routeTables: { ids: ['rtb-0a1b2c3d'] }, vpcCidrs: ['10.1.0.0/16'] },
        }),
      'services[0].vip',
      'overlaps aws.vpcCidrs[0]',
    ],
    [
      'a resync period a timer cannot hold',
      (d) => (d.reconcile = { resyncSeconds: 3e9 }),
      'reconcile.resyncSeconds',
      'at most',
    ],
    ['a bad listen address', (d) => (d.server = { listen: '9402' }), 'server.listen', 'HOST:PORT'],
  ])('%s', (_name, mutate, path, message) => {
    const doc = base() as Doc;
    mutate(doc);
    const found = problems(doc);
    expect(found.map((p) => p.path)).toContain(path);
    expect(found.find((p) => p.path === path)?.message).toContain(message);
  });

  it('a bad Downward API value', () => {
    expect(problems(base(), { HOST_IP: 'node-1' })).toEqual([
      { path: 'env.HOST_IP', message: 'not an IPv4 or IPv6 address' },
    ]);
  });

  it('reports every problem at once', () => {
    const doc = base() as Doc;
    doc.mode = 'bgpx';
    doc.services[0]!.vip = '10.2.0.0/24';
    Object.assign(doc.bgp, { holdTime: 120 });
    doc.bgp.peers[0]!.address = 'x';
    expect(
      problems(doc)
        .map((p) => p.path)
        .sort(),
    ).toEqual(['bgp.holdTime', 'bgp.peers[0].address', 'mode', 'services[0].vip']);
  });
});

describe('loadConfig', () => {
  it('reads YAML and reports YAML errors with a line number', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'portlb-config-'));
    const path = join(dir, 'bad.yaml');
    await writeFile(path, 'mode: bgp\nservices: [\n');
    await expect(loadConfig(path, {})).rejects.toMatchObject({ message: `invalid YAML in ${path}` });
  });

  it('names a missing file', async () => {
    await expect(loadConfig('/nonexistent/portlb.yaml', {})).rejects.toThrow(
      'cannot read config file /nonexistent/portlb.yaml',
    );
  });

  it('loads the shipped example', async () => {
    const config = await loadConfig('examples/bgp-lab.yaml', {});
    expect(config.services.map((s) => s.vip)).toEqual(['10.1.1.0/24']);
  });
});
