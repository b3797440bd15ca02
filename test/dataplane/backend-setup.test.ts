import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { planBackend, setUpBackend } from '../../src/dataplane/backend-setup.js';
import { ConfigError } from '../../src/errors.js';
import { CommandError, type RunOptions } from '../../src/system/exec.js';
import { webConfig, webInput } from './fixtures.js';

const config = (dataPlane: Record<string, unknown> = {}) =>
  webConfig({
    ports: [{ port: 80 }, { port: 443 }, { port: 8080 }],
    backends: [{ address: '10.98.0.21', port: 8080 }],
    services: [
      {
        name: 'dns',
        vip: '10.1.2.0/28',
        ports: [{ port: 53, protocol: 'UDP' }],
        backends: { kubernetes: { service: 'dns' } },
      },
    ],
    dataPlane,
  });

describe('planBackend', () => {
  it('plans the VXLAN decapsulation with the MAC the LBs write, the VIPs as local, the port map and the MSS', () => {
    const plan = planBackend({ config: config(), address: '10.98.0.21' });
    expect(plan.create).toEqual([
      ['ip', 'link', 'add', 'plbvx0', 'type', 'vxlan', 'id', '4242', 'dstport', '4789', 'nolearning'],
      [
        'ip',
        'link',
        'set',
        'plbvx0',
        'address',
        '02:70:0a:62:00:15',
        'alias',
        'portlb backend owner=lab',
        'up',
      ],
    ]);
    expect(plan.vips).toEqual(['10.1.1.0/24', '10.1.2.0/28']);
    expect(plan.rpFilter).toEqual(['net.ipv4.conf.all.rp_filter', 'net.ipv4.conf.plbvx0.rp_filter']);
    // web's static entry says 8080; dns has Kubernetes backends, so its port stays.
    expect(plan.nft).toContain(
      'iifname "plbvx0" ip daddr 10.1.1.0/24 tcp dport { 80, 443 } dnat ip to 10.98.0.21:8080',
    );
    expect(plan.nft).not.toContain('udp dport 53');
    expect(plan.nft).toContain(
      'ct direction reply ct original ip daddr 10.1.1.0/24 tcp flags & (syn | ack) == syn | ack tcp option maxseg size > 1410 tcp option maxseg size set 1410',
    );
    expect(plan.nft.split('\n').slice(0, 2)).toEqual([
      'table inet portlb-backend',
      'delete table inet portlb-backend',
    ]);
  });

  it('maps every service to --port when given', () => {
    const plan = planBackend({ config: config(), address: '10.98.0.21', port: 9000 });
    expect(plan.nft).toContain('udp dport 53 dnat ip to 10.98.0.21:9000');
  });

  it('plans ipip decapsulation for ipvs (lvs_method TUN), with its smaller overhead', () => {
    const plan = planBackend({
      config: config({ kind: 'ipvs' }),
      address: '10.98.0.21',
    });
    expect(plan.encap).toBe('ipip');
    expect(plan.create[0]).toEqual(['ip', 'link', 'add', 'plbipip0', 'type', 'ipip', 'external']);
    expect(plan.nft).toContain('maxseg size set 1410');
  });

  it('refuses an address that is not IPv4', () => {
    expect(() => planBackend({ config: config(), address: '2001:db8::1' })).toThrow(ConfigError);
  });

  it('refuses an IPv6 VIP, which the tunnel does not carry, naming it', () => {
    const input = webInput({
      backends: [{ address: '10.98.0.21', port: 8080 }],
      services: [
        {
          name: 'v6',
          vip: '2001:db8:1::/64',
          ports: [{ port: 80 }],
          backends: { kubernetes: { service: 'v6' } },
        },
      ],
    });
    const withV6 = parseConfig({ ...input, allowedVipPools: ['10.1.0.0/16', '2001:db8::/32'] }, {});
    const refusal = (() => {
      try {
        planBackend({ config: withV6, address: '10.98.0.21' });
        return undefined;
      } catch (error) {
        return error;
      }
    })();
    expect(refusal).toBeInstanceOf(ConfigError);
    expect((refusal as ConfigError).problems).toEqual([
      { path: 'services[1].vip', message: '2001:db8:1::/64: tunnel forwarding carries IPv4 VIPs only' },
    ]);
  });
});

describe('setUpBackend', () => {
  /** A fake namespace: what the commands did, answering reads from that. */
  function namespace() {
    const state = {
      device: false,
      mac: '',
      local: [] as string[],
      sysctl: { all: '1', dev: '1' },
      table: '',
    };
    const commands: string[] = [];
    const run = async (argv: readonly string[], options?: Pick<RunOptions, 'input'>) => {
      const line = argv.join(' ');
      commands.push(line);
      const out = (stdout: string) => ({ stdout, stderr: '' });
      if (line.startsWith('ip -j route show table local'))
        return out(JSON.stringify(state.local.map((dst) => ({ dst }))));
      if (line === 'ip -j -d link show dev plbvx0' || line === 'ip -j link show dev plbvx0') {
        if (!state.device) throw new CommandError(argv, 1, 'Device "plbvx0" does not exist.');
        return out(
          JSON.stringify([
            {
              flags: ['UP'],
              address: state.mac,
              ifalias: 'portlb backend owner=lab',
              linkinfo: { info_kind: 'vxlan', info_data: { id: 4242, port: 4789 } },
            },
          ]),
        );
      }
      if (line.startsWith('ip link add')) state.device = true;
      if (line.startsWith('ip link set plbvx0 address')) state.mac = argv[5]!;
      if (line.startsWith('ip route replace local')) state.local.push(argv[4]!);
      if (line.startsWith('sysctl -n'))
        return out(`${line.includes('.all.') ? state.sysctl.all : state.sysctl.dev}\n`);
      if (line.startsWith('sysctl -qw')) state.sysctl[line.includes('.all.') ? 'all' : 'dev'] = '2';
      if (line.startsWith('nft -t list table')) {
        if (!state.table) throw new CommandError(argv, 1, 'Error: No such file or directory');
        return out(`table inet portlb-backend {\n\tcomment "${state.table}"\n}\n`);
      }
      if (line === 'nft -f -') state.table = /comment "([^"]+)"/.exec(options?.input ?? '')?.[1] ?? '';
      return out('');
    };
    return { run, commands };
  }

  it('sets everything up once, and a second run changes nothing', async () => {
    const ns = namespace();
    const first = await setUpBackend(ns.run, { config: config(), address: '10.98.0.21' });
    expect(first.problems).toEqual([]);
    expect(first.changed).toEqual([
      'plbvx0: vxlan decapsulation, MAC 02:70:0a:62:00:15',
      '10.1.1.0/24 local',
      '10.1.2.0/28 local',
      'net.ipv4.conf.all.rp_filter=2 (was 1)',
      'net.ipv4.conf.plbvx0.rp_filter=2 (was 1)',
      'table inet portlb-backend',
    ]);
    const again = await setUpBackend(ns.run, { config: config(), address: '10.98.0.21' });
    expect(again).toEqual({ device: 'plbvx0', changed: [], problems: [] });
  });

  it('says what it cannot do: a read-only /proc/sys, an encapsulation the kernel lacks', async () => {
    const ns = namespace();
    const run = async (argv: readonly string[], options?: Pick<RunOptions, 'input'>) => {
      if (argv[0] === 'sysctl' && argv[1] === '-qw')
        throw new CommandError(argv, 255, 'Read-only file system');
      if (argv.join(' ').startsWith('ip link add'))
        throw new CommandError(argv, 2, 'Error: Unknown device type.');
      return ns.run(argv, options);
    };
    const report = await setUpBackend(run, { config: config(), address: '10.98.0.21' });
    expect(report.problems).toEqual([
      'cannot create plbvx0 (vxlan): ip link add plbvx0 type vxlan id 4242 dstport 4789 nolearning: Error: Unknown device type.',
      expect.stringContaining('net.ipv4.conf.all.rp_filter is 1 and cannot be written here'),
      expect.stringContaining('net.ipv4.conf.plbvx0.rp_filter is 1 and cannot be written here'),
    ]);
  });
});
