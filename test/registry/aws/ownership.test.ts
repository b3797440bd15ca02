import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { type RouteTableView, toTableView } from '../../../src/providers/aws/tables.js';
import {
  assertVipsOutsideVpc,
  observedRoutes,
  ownership,
  RECORD_ONLY,
} from '../../../src/registry/aws/ownership.js';

const table: RouteTableView = toTableView({
  RouteTableId: 'rtb-1',
  VpcId: 'vpc-1',
  Routes: [
    { DestinationCidrBlock: '10.0.0.0/16', GatewayId: 'local', State: 'active' },
    { DestinationCidrBlock: '100.64.0.0/16', GatewayId: 'local', State: 'active' },
    { DestinationCidrBlock: '192.0.2.0/24', NetworkInterfaceId: 'eni-a', State: 'active' },
    { DestinationCidrBlock: '198.51.100.0/24', GatewayId: 'igw-1', State: 'active' },
    { DestinationCidrBlock: '203.0.113.0/24', State: 'blackhole' },
    { DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: 'nat-1', State: 'active' },
    { DestinationPrefixListId: 'pl-1', GatewayId: 'vpce-1', State: 'active' },
  ],
  Tags: [{ Key: 'Name', Value: 'main' }],
});

describe('AWS ownership', () => {
  it('reports only configured VIPs; owns ENI and target-less blackhole routes, never gateway routes', () => {
    const observed = observedRoutes(
      [table],
      new Set(['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24']),
      'portlb',
    );
    expect(observed).toEqual([
      { table: 'rtb-1', vip: '192.0.2.0/24', target: 'eni-a', owner: 'portlb', state: 'active' },
      { table: 'rtb-1', vip: '198.51.100.0/24', target: 'igw-1', owner: undefined, state: 'active' },
      { table: 'rtb-1', vip: '203.0.113.0/24', target: '', owner: 'portlb', state: 'blackhole' },
    ]);
  });

  it.each([
    // configured, recorded, route in the table -> ownership
    [true, false, 'eni', 'owned'],
    [true, true, 'eni', 'owned'],
    [false, true, 'eni', 'owned'], // retired: its route is deleted, then its record
    [false, true, 'none', 'owned'], // a retired blackhole
    [false, false, 'eni', 'unrelated'], // no record: not portlb's, whatever its target
    [true, false, 'other', 'foreign'],
    [false, true, 'other', 'foreign'], // someone replaced it with a gateway route
    [false, true, undefined, 'record-only'], // crash between deleting the route and its record
    [true, true, undefined, 'unrelated'], // a route about to be (re)created keeps its record
    [false, false, undefined, 'unrelated'],
  ] as const)('configured %s, recorded %s, route %s: %s', (configured, recorded, kind, expected) => {
    expect(ownership(kind && { kind }, configured, recorded)).toBe(expected);
  });

  it.each([
    // configured, recorded, target is an LB's (a candidacy's ENI) -> ownership
    [false, true, true, 'owned'], // retired, still to the LB portlb pointed it at: deleted
    [false, true, false, 'foreign'], // retired, and someone pointed it elsewhere since: theirs
    [true, true, false, 'owned'], // configured: portlb's whatever the target (it moves it)
    [true, false, false, 'owned'],
  ] as const)('configured %s, recorded %s, target ours %s: %s', (configured, recorded, ours, expected) => {
    expect(ownership({ kind: 'eni', target: 'eni-x' }, configured, recorded, () => ours)).toBe(expected);
  });

  it('owns routes of recorded VIPs; reports a record whose route is gone as a record-only route', () => {
    // act
    const observed = observedRoutes(
      [table],
      new Set(['192.0.2.0/24']),
      'portlb',
      () => new Set(['203.0.113.0/24', '198.51.100.0/24', '233.252.0.0/24']),
    );
    // assess
    expect(observed).toEqual([
      { table: 'rtb-1', vip: '192.0.2.0/24', target: 'eni-a', owner: 'portlb', state: 'active' },
      { table: 'rtb-1', vip: '198.51.100.0/24', target: 'igw-1', owner: undefined, state: 'active' },
      { table: 'rtb-1', vip: '203.0.113.0/24', target: '', owner: 'portlb', state: 'blackhole' },
      {
        table: 'rtb-1',
        vip: '233.252.0.0/24',
        target: '',
        owner: 'portlb',
        state: 'blackhole',
        id: RECORD_ONLY,
      },
    ]);
  });

  it('reads every VPC CIDR from the local routes, secondary ones included', () => {
    expect(table.localCidrs).toEqual(['10.0.0.0/16', '100.64.0.0/16']);
  });

  it.each([
    [
      'inside the primary CIDR',
      '10.0.9.0/24',
      /overlaps VPC CIDR 10\.0\.0\.0\/16 of vpc-1 \(local route in rtb-1\)/,
    ],
    ['inside a secondary CIDR', '100.64.1.0/24', /overlaps VPC CIDR 100\.64\.0\.0\/16 of vpc-1/],
    ['covering the VPC', '10.0.0.0/8', /overlaps VPC CIDR 10\.0\.0\.0\/16/],
  ])('refuses a VIP %s', (_name, vip, message) => {
    expect(() => assertVipsOutsideVpc([table], [vip])).toThrow(ConfigError);
    expect(() => assertVipsOutsideVpc([table], [vip])).toThrow(message);
  });

  it('also checks aws.vpcCidrs from the config', () => {
    expect(() => assertVipsOutsideVpc([table], ['172.16.1.0/24'], ['172.16.0.0/12'])).toThrow(
      /of aws\.vpcCidrs/,
    );
  });

  it('accepts VIPs outside the VPC', () => {
    expect(() => assertVipsOutsideVpc([table], ['192.0.2.0/24'])).not.toThrow();
  });
});
