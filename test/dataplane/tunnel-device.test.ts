import { describe, expect, it } from 'vitest';
import {
  deviceAlias,
  parseTunnelLive,
  planTunnel,
  type TunnelLive,
} from '../../src/dataplane/tunnel-device.js';
import { v4, webModel } from './fixtures.js';

const model = webModel({}, { forwarding: 'tunnel' });
const ours = {
  kind: 'vxlan',
  vni: 4242,
  port: 4789,
  learning: false,
  alias: deviceAlias('lab'),
  up: true,
  noarp: true,
};
const inPlace: TunnelLive = {
  device: ours,
  fdb: [
    { mac: '02:70:0a:62:00:15', dst: '10.98.0.21' },
    { mac: '02:70:0a:62:00:16', dst: '10.98.0.22' },
  ],
  routes: ['10.1.1.0/24'],
  local: ['127.0.0.0/8', '10.98.0.1/32'],
};

describe('parseTunnelLive', () => {
  it('reads what ip and bridge print (captured from iproute2 6.1)', () => {
    const live = parseTunnelLive({
      link: '[{"ifindex":2,"ifname":"plbvx0","flags":["BROADCAST","MULTICAST","NOARP","UP","LOWER_UP"],"linkinfo":{"info_kind":"vxlan","info_data":{"id":4242,"port":4789,"learning":false}},"ifalias":"portlb owner=lab"}]',
      fdb: '[{"mac":"02:70:0a:62:00:16","dst":"10.98.0.22","flags":["self"],"state":"permanent"},{"mac":"00:00:00:00:00:00","flags":["self"]}]',
      routes: '[{"dst":"10.1.1.0/24","scope":"link","flags":[]}]',
      local:
        '[{"type":"local","dst":"10.1.2.0/24","dev":"lo"},{"type":"local","dst":"10.98.0.1","dev":"eth1"}]',
    });
    expect(live).toEqual({
      device: ours,
      fdb: [{ mac: '02:70:0a:62:00:16', dst: '10.98.0.22' }],
      routes: ['10.1.1.0/24'],
      local: ['10.1.2.0/24', '10.98.0.1/32'],
    });
  });

  it('reads a namespace without the device', () => {
    expect(parseTunnelLive({ local: '' })).toEqual({ fdb: [], routes: [], local: [] });
  });
});

describe('planTunnel', () => {
  it('does nothing when everything is in place', () => {
    expect(planTunnel(model, inPlace)).toEqual({ action: 'apply', steps: [], changes: [] });
  });

  it('creates the device, one forwarding entry per backend and the VIP route', () => {
    const plan = planTunnel(model, { fdb: [], routes: [], local: [] });
    expect(plan).toMatchObject({
      action: 'apply',
      steps: [
        ['ip', 'link', 'add', 'plbvx0', 'type', 'vxlan', 'id', '4242', 'dstport', '4789', 'nolearning'],
        ['ip', 'link', 'set', 'plbvx0', 'alias', 'portlb owner=lab'],
        ['ip', 'link', 'set', 'plbvx0', 'arp', 'off', 'up'],
        [
          'bridge',
          'fdb',
          'replace',
          '02:70:0a:62:00:15',
          'dev',
          'plbvx0',
          'dst',
          '10.98.0.21',
          'self',
          'permanent',
        ],
        [
          'bridge',
          'fdb',
          'replace',
          '02:70:0a:62:00:16',
          'dev',
          'plbvx0',
          'dst',
          '10.98.0.22',
          'self',
          'permanent',
        ],
        ['ip', 'route', 'replace', '10.1.1.0/24', 'dev', 'plbvx0'],
      ],
    });
  });

  it('adds a new backend before it takes away a gone one, and keeps a draining one', () => {
    const next = webModel(
      { backends: [v4('10.98.0.23')], draining: [v4('10.98.0.22')] },
      { forwarding: 'tunnel' },
    );
    const plan = planTunnel(next, inPlace);
    expect(plan).toMatchObject({
      steps: [
        [
          'bridge',
          'fdb',
          'replace',
          '02:70:0a:62:00:17',
          'dev',
          'plbvx0',
          'dst',
          '10.98.0.23',
          'self',
          'permanent',
        ],
        ['bridge', 'fdb', 'del', '02:70:0a:62:00:15', 'dev', 'plbvx0', 'self'],
      ],
      changes: ['+10.98.0.23', '-10.98.0.21'],
    });
  });

  it('recreates its device when the VNI or port changed', () => {
    const plan = planTunnel(model, { ...inPlace, device: { ...ours, vni: 7 } });
    expect(plan).toMatchObject({
      action: 'apply',
      changes: [
        'recreated plbvx0: vxlan 7/UDP 4789 -> 4242/4789',
        '+10.98.0.21',
        '+10.98.0.22',
        'route 10.1.1.0/24',
      ],
    });
  });

  it('refuses a device of that name it did not create', () => {
    expect(planTunnel(model, { ...inPlace, device: { ...ours, alias: undefined } })).toMatchObject({
      action: 'refuse',
      reason: { code: 'not_owned' },
    });
  });

  it('says the LB’s own traffic cannot use the tunnel while the VIP is local here', () => {
    const plan = planTunnel(model, { ...inPlace, local: ['10.1.1.0/24'] });
    expect(plan).toMatchObject({
      action: 'apply',
      notServing: expect.stringContaining('the VIP range 10.1.1.0/24 is local in this namespace'),
    });
  });

  it('routes no VIP into the device without ownTraffic, and takes away a route left from before', () => {
    const plan = planTunnel({ ...model, tunnel: { ...model.tunnel, ownTraffic: false } }, inPlace);
    expect(plan).toMatchObject({ steps: [['ip', 'route', 'del', '10.1.1.0/24', 'dev', 'plbvx0']] });
  });
});
