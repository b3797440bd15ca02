import { describe, expect, it } from 'vitest';
import { backendKey } from '../../src/dataplane/model.js';
import {
  backendChange,
  backendLimits,
  backendMark,
  maglevReport,
  tunnelEndpoints,
  tunnelMac,
  tunnelProblems,
} from '../../src/dataplane/tunnel.js';
import { ConfigError } from '../../src/errors.js';
import { v4, webConfig, webModel } from './fixtures.js';

describe('tunnel addressing', () => {
  it.each([
    ['10.98.0.21', '02:70:0a:62:00:15', 0x0a620015],
    ['192.168.1.200', '02:70:c0:a8:01:c8', 0xc0a801c8],
    ['255.255.255.254', '02:70:ff:ff:ff:fe', 0xfffffffe],
  ])('names %s by MAC %s and mark %i', (address, mac, mark) => {
    expect(tunnelMac(address)).toBe(mac);
    expect(backendMark(address)).toBe(mark);
  });

  it.each(['10.98.0.300', '10.98.0', '2001:db8::1'])(
    'refuses %s rather than make a MAC or mark of it',
    (address) => {
      expect(() => tunnelMac(address)).toThrow(RangeError);
      expect(() => backendMark(address)).toThrow(RangeError);
    },
  );

  it('reaches every ready and draining backend once per address', () => {
    const model = webModel({ backends: [v4('10.98.0.22'), v4('10.98.0.21')], draining: [v4('10.98.0.9')] });
    expect(tunnelEndpoints(model).map((b) => b.address)).toEqual(['10.98.0.9', '10.98.0.21', '10.98.0.22']);
  });
});

describe('tunnelProblems', () => {
  it.each([
    [
      'two backends on one address',
      [v4('10.98.0.21', 8080), v4('10.98.0.21', 8081)],
      251,
      ['10.98.0.21:8081: same address as 10.98.0.21:8080; tunnel forwarding reaches an address, not a port'],
    ],
    [
      'more backends than table entries',
      Array.from({ length: 251 }, (_, i) => v4(`10.98.${i >> 8}.${(i & 255) + 1}`)),
      251,
      ['Maglev table size 251 must exceed the number of backends (251) (dataPlane.tableSize)'],
    ],
    ['a usable list', [v4('10.98.0.21'), v4('10.98.0.22')], 251, []],
  ])('%s', (_name, backends, size, problems) => {
    expect(tunnelProblems(backends, size)).toEqual(problems);
  });

  it('applies to tunnel forwarding only; ipvs (its own table) gets the address rule only', () => {
    const twoOnOne = [v4('10.98.0.21', 8080), v4('10.98.0.21', 8081)];
    const many = Array.from({ length: 251 }, (_, i) => v4(`10.98.1.${i}`));
    expect(backendLimits({ forwarding: 'nat', kind: 'nftables', tableSize: 251 })).toBeUndefined();
    expect(backendLimits({ forwarding: 'tunnel', kind: 'nftables', tableSize: 251 })?.([])).toEqual([]);
    const ipvs = backendLimits({ forwarding: 'tunnel', kind: 'ipvs', tableSize: 251 });
    expect(ipvs?.(twoOnOne)).toEqual([
      '10.98.0.21:8081: same address as 10.98.0.21:8080; tunnel forwarding reaches an address, not a port',
    ]);
    expect(ipvs?.(many)).toEqual([]);
    expect(backendLimits({ forwarding: 'tunnel', kind: 'nftables', tableSize: 251 })?.(many)).toEqual([
      'Maglev table size 251 must exceed the number of backends (251) (dataPlane.tableSize)',
    ]);
  });
});

describe('maglevReport', () => {
  it('says seed, size and per service the backend list and the table, alike for alike models', () => {
    const report = maglevReport(webModel({}, { forwarding: 'tunnel', tableSize: 251, seed: 9 }));
    expect(report).toEqual({
      seed: 9,
      tableSize: 251,
      services: {
        web: {
          backends: 2,
          backendSet: expect.stringMatching(/^[0-9a-f]{8}$/),
          fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/),
        },
      },
    });
    expect(maglevReport(webModel({}, { forwarding: 'tunnel', tableSize: 251, seed: 9 }))).toEqual(report);
    const other = maglevReport(webModel({}, { forwarding: 'tunnel', tableSize: 251, seed: 10 }));
    expect(other.services.web?.backendSet).toBe(report.services.web?.backendSet);
    expect(other.services.web?.fingerprint).not.toBe(report.services.web?.fingerprint);
  });

  it('leaves out services without a ready backend', () => {
    expect(maglevReport(webModel({ backends: [] }, { forwarding: 'tunnel' })).services).toEqual({});
  });
});

describe('backendChange', () => {
  it('is the share of buckets that change backend, about 1/N on one add', () => {
    const before = [v4('10.98.0.21'), v4('10.98.0.22'), v4('10.98.0.23'), v4('10.98.0.24')];
    const change = backendChange(before, [...before, v4('10.98.0.25')], { seed: 0x5eed, tableSize: 16_381 });
    expect(change.backendsBefore).toBe(4);
    expect(change.backendsAfter).toBe(5);
    expect(change.movedFraction).toBeGreaterThan(0.19);
    expect(change.movedFraction).toBeLessThan(1 / 4 + 0.05);
  });
});

describe('the dataPlane config for tunnel', () => {
  it('accepts forwarding tunnel with its defaults', () => {
    const config = webConfig();
    expect(config.dataPlane?.tableSize).toBe(16_381);
    expect(config.dataPlane?.tunnel).toMatchObject({
      vni: 4242,
      port: 4789,
      device: 'plbvx0',
      interfaces: ['eth0'],
      ownTraffic: true,
    });
  });

  it.each([
    [{ tableSize: 4096 }, 'dataPlane.tableSize'],
    [{ tunnel: { vni: 0x1000000 } }, 'dataPlane.tunnel.vni'],
    [{ tunnel: { device: 'a-name-far-too-long' } }, 'dataPlane.tunnel.device'],
    [{ tunnel: { peers: ['nope'] } }, 'dataPlane.tunnel.peers[0]'],
  ])('refuses %j, naming %s', (dataPlane, path) => {
    try {
      webConfig({ dataPlane });
      expect.unreachable('accepted');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems.map((p) => p.path)).toEqual([path]);
    }
  });

  it('keys the table by backend address and port', () => {
    expect(backendKey(v4('10.98.0.21'))).toBe('10.98.0.21:8080');
  });
});
