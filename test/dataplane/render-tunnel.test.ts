import { describe, expect, it } from 'vitest';
import { buildMaglevTable } from '../../src/core/maglev.js';
import { backendKey } from '../../src/dataplane/model.js';
import { flowMapDefinition, hookSpec } from '../../src/dataplane/nft-table.js';
import type { LiveTable } from '../../src/dataplane/nftables-live.js';
import { renderNftables } from '../../src/dataplane/render-nftables.js';
import { nftDuration } from '../../src/dataplane/render-tunnel.js';
import { tunnelMac } from '../../src/dataplane/tunnel.js';
import { ConfigError } from '../../src/errors.js';
import { expectGolden } from '../render/golden.js';
import { servicesModel, tunnelModel, v4, webModel } from './fixtures.js';

const tunnel = { forwarding: 'tunnel' as const, tableSize: 251 };

/** The Maglev map's elements as the renderer writes them, bucket -> MAC. */
function mapElements(body: string, name: string): Map<number, string> {
  const block = body.slice(body.indexOf(`map ${name} {`));
  const text = block.slice(block.indexOf('elements = {') + 12, block.indexOf('}'));
  return new Map(
    text
      .split(',')
      .map((e) => e.trim().split(' : '))
      .map(([bucket, mac]) => [Number(bucket), mac!]),
  );
}

describe('render nftables, forwarding tunnel', () => {
  it('renders the fixture as a netdev table (golden)', async () => {
    const rendered = renderNftables(await tunnelModel());
    expect(rendered.family).toBe('netdev');
    expectGolden('nftables-tunnel.nft', rendered.script);
  });

  it('writes each service’s Maglev table as its map: bucket -> the MAC of the backend the table names', async () => {
    const model = await tunnelModel();
    const { body } = renderNftables(model);
    for (const service of model.services) {
      const table = buildMaglevTable(service.backends.map(backendKey), 251, model.seed);
      const elements = mapElements(body, `maglev-${service.name}`);
      expect(elements.size).toBe(251);
      for (let bucket = 0; bucket < 251; bucket++) {
        expect(elements.get(bucket)).toBe(tunnelMac(service.backends[table.entries[bucket]!]!.address));
      }
    }
  });

  it('hashes the 5-tuple with the seed into the table, remembers the flow, and forwards it into the tunnel', () => {
    const { body } = renderNftables(webModel({}, { ...tunnel, seed: 0xdeadbeef }));
    expect(body).toContain(
      'ether daddr set ip saddr . tcp sport . ip daddr . tcp dport map @flows-web-tcp-80 update @flows-web-tcp-80 { ip saddr . tcp sport . ip daddr . tcp dport : ether daddr } fwd to "plbvx0"',
    );
    expect(body).toContain(
      'meta mark set jhash ip saddr . tcp sport . ip daddr . tcp dport mod 251 seed 0xdeadbeef ether daddr set meta mark map @maglev-web meta mark set 0x00000000 add @flows-web-tcp-80 { ip saddr . tcp sport . ip daddr . tcp dport : ether daddr } fwd to "plbvx0"',
    );
  });

  it('counts rules per chain; drops VIP traffic no frontend takes', () => {
    const rendered = renderNftables(webModel({}, tunnel));
    expect(rendered.shape).toEqual({
      ingress: 2,
      egress: 3,
      'svc-web-tcp-80': 3,
      'own-web-tcp-80': 3,
      owner: 1,
    });
    expect(rendered.body).toContain('\t\tip daddr 10.1.1.0/24 drop\n');
    expect(rendered.ruleMaps).toEqual(['maglev-web', 'backends']);
  });

  it('keeps a service whose backends all drain on its remembered flows only: no table, no new flow', () => {
    const rendered = renderNftables(webModel({ backends: [], draining: [v4('10.98.0.21')] }, tunnel));
    expect(rendered.shape['svc-web-tcp-80']).toBe(1);
    expect(rendered.body).not.toContain('maglev-web');
    expect(rendered.body).toContain('0x0a620015 : 02:70:0a:62:00:15'); // still reachable for its flows
  });

  it('writes no rule at all for a service without backends, and still drops its VIP traffic', () => {
    const rendered = renderNftables(webModel({ backends: [] }, tunnel));
    expect(rendered.shape).toEqual({ ingress: 1, egress: 1, owner: 1 });
  });

  it('leaves out the egress chain and the probe map without ownTraffic', () => {
    const base = webModel({}, tunnel);
    const rendered = renderNftables({ ...base, tunnel: { ...base.tunnel, ownTraffic: false } });
    expect(Object.keys(rendered.shape)).toEqual(['ingress', 'svc-web-tcp-80', 'owner']);
    expect(rendered.ruleMaps).toEqual(['maglev-web']);
  });

  it('hooks every configured interface', () => {
    const base = webModel({}, tunnel);
    const rendered = renderNftables({ ...base, tunnel: { ...base.tunnel, interfaces: ['eth0', 'eth1'] } });
    expect(rendered.body).toContain(
      'type filter hook ingress devices = { eth0, eth1 } priority filter; policy accept;',
    );
  });

  it.each([
    ['the seed', webModel({}, { ...tunnel, seed: 7 })],
    ['the table size', webModel({}, { ...tunnel, tableSize: 257 })],
    ['a backend', webModel({ backends: [v4('10.98.0.21')] }, tunnel)],
  ])('changes its intent hash with %s', (_name, model) => {
    expect(renderNftables(model).intent).not.toBe(renderNftables(webModel({}, tunnel)).intent);
  });

  it('refuses an IPv6 VIP with a message naming the service', async () => {
    const model = await servicesModel(tunnel);
    expect(() => renderNftables(model)).toThrow(ConfigError);
    try {
      renderNftables(model);
    } catch (error) {
      expect((error as ConfigError).problems).toEqual([
        {
          path: 'services[2].vip',
          message: '2001:db8:1:1::/120: tunnel forwarding carries IPv4 VIPs only (use nat)',
        },
      ]);
    }
  });
});

describe('the tunnel table’s transaction', () => {
  const model = webModel({}, tunnel);
  const rendered = renderNftables(model);
  const defined = flowMapDefinition(model.tunnel.maxFlows, model.tunnel.flowTimeoutSeconds);
  const live = (over: Partial<LiveTable> = {}): LiveTable => ({
    marker: { owner: 'lab', intent: 'old' },
    shape: {},
    fingerprint: 'f',
    chains: {
      ingress: hookSpec('ingress', 0, ['eth0']),
      egress: hookSpec('egress', 0, ['plbvx0']),
      'svc-web-tcp-80': undefined,
      'svc-gone-tcp-80': undefined,
      owner: undefined,
    },
    maps: { 'flows-web-tcp-80': defined, 'flows-gone-tcp-80': defined, 'maglev-web': 'size=0 timeout=0' },
    ...over,
  });

  it('creates the table whole when there is none', () => {
    expect(rendered.scriptFor(undefined)).toBe(rendered.body);
    expect(rendered.script).toBe(rendered.body);
  });

  it('keeps the flow maps and base chains, replaces every rule, chain and map else, in one script', () => {
    const script = rendered.scriptFor(live());
    const lines = script.split('\n');
    expect(lines.slice(0, 8)).toEqual([
      'table netdev portlb',
      'flush table netdev portlb',
      'delete chain netdev portlb svc-web-tcp-80',
      'delete chain netdev portlb svc-gone-tcp-80',
      'delete chain netdev portlb owner',
      'delete map netdev portlb flows-gone-tcp-80',
      'delete map netdev portlb maglev-web',
      'table netdev portlb {',
    ]);
    // The comment stays as it is: nft refuses a table's comment twice in one script.
    expect(script).not.toContain('comment "managed by portlb');
    expect(script).not.toContain('delete map netdev portlb flows-web-tcp-80');
    expect(script).not.toMatch(/delete chain netdev portlb (ingress|egress)\n/);
  });

  it('replaces a flow map whose size or timeout changed, and a base chain whose interfaces changed', () => {
    const script = rendered.scriptFor(
      live({
        chains: { ingress: hookSpec('ingress', 0, ['eth9']) },
        maps: { 'flows-web-tcp-80': flowMapDefinition(1024, 60) },
      }),
    );
    expect(script).toContain('delete chain netdev portlb ingress\n');
    expect(script).toContain('delete map netdev portlb flows-web-tcp-80\n');
  });
});

describe('nftDuration', () => {
  it.each([
    [900, '15m'],
    [60, '1m'],
    [61, '1m1s'],
    [3600, '1h'],
    [5400, '1h30m'],
    [86_400, '1d'],
    [1, '1s'],
  ])('prints %i s as %s, as nft does', (seconds, text) => {
    expect(nftDuration(seconds)).toBe(text);
  });
});
