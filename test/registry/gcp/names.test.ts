import { describe, expect, it } from 'vitest';
import {
  markerOwner,
  ownership,
  ROUTE_PREFIX,
  routeDescription,
  routeName,
} from '../../../src/registry/gcp/names.js';

const url = (name: string, zone = 'europe-west1-b', project = 'p') =>
  `https://www.googleapis.com/compute/v1/projects/${project}/zones/${zone}/instances/${name}`;
const NAME = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

describe('routeName', () => {
  it.each([
    ['portlb', '192.0.2.0/24', url('lb-1')],
    ['portlb', '198.51.100.16/28', url('a'.repeat(63))],
    ['a'.repeat(63), '255.255.255.255/32', url('node-with-a-very-long-name-that-fills-everything-up-to-63c')],
    ['portlb', '2001:db8::/32', url('lb-1')],
    ['portlb', '2001:db8:1234:5678:9abc:def0:1234:5678/128', url('lb-1')],
    ['portlb', '0.0.0.0/0', url('x')],
  ])('is a valid Compute name for owner %s, %s', (owner, vip, target) => {
    const name = routeName(owner, vip, target);
    expect(name).toMatch(NAME);
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name.startsWith(ROUTE_PREFIX)).toBe(true);
  });

  it('is readable and deterministic', () => {
    expect(routeName('portlb', '192.0.2.0/24', url('lb-1'))).toMatch(
      /^portlb-192-0-2-0-24-lb-1-[0-9a-f]{12}$/,
    );
    expect(routeName('portlb', '192.0.2.0/24', url('lb-1'))).toBe(
      routeName('portlb', '192.0.2.0/24', url('lb-1')),
    );
  });

  it('differs when any of owner, VIP or instance differs, even where the readable part is cut', () => {
    const long = 'n'.repeat(60);
    const names = [
      routeName('portlb', '192.0.2.0/24', url(long)),
      routeName('other', '192.0.2.0/24', url(long)),
      routeName('portlb', '192.0.2.0/25', url(long)),
      routeName('portlb', '192.0.2.0/24', url(`${long}x`)),
      routeName('portlb', '192.0.2.0/24', url(long, 'europe-west1-c')),
      routeName('portlb', '192.0.2.0/24', url(long, 'europe-west1-b', 'other-project')),
    ];
    expect(new Set(names).size).toBe(names.length);
  });

  it('names one instance once, whether its URL is short or full', () => {
    expect(routeName('portlb', '192.0.2.0/24', 'projects/p/zones/europe-west1-b/instances/lb-1')).toBe(
      routeName('portlb', '192.0.2.0/24', url('lb-1')),
    );
  });

  it('has no collisions over many VIPs and nodes', () => {
    const names = new Set<string>();
    for (let a = 0; a < 100; a++) {
      for (let n = 0; n < 50; n++) names.add(routeName('portlb', `10.${a}.0.0/16`, url(`lb-${n}`)));
    }
    expect(names.size).toBe(5_000);
  });
});

describe('markerOwner and routeDescription', () => {
  it('round-trips the owner', () => {
    const description = routeDescription('team-a', '192.0.2.0/24', url('lb-1'));
    expect(description).toBe('portlb owner=team-a vip=192.0.2.0/24 instance=europe-west1-b/lb-1');
    expect(markerOwner(description)).toBe('team-a');
  });

  it.each(['', 'portlb', 'made by hand', 'portlb owner=', 'portlb owner=Bad_Owner', ' portlb owner=x'])(
    '%j carries no marker',
    (description) => expect(markerOwner(description)).toBeUndefined(),
  );
});

describe('ownership', () => {
  const target = url('lb-1');
  const ours = {
    name: routeName('portlb', '192.0.2.0/24', target),
    destRange: '192.0.2.0/24',
    nextHopInstance: target,
    description: routeDescription('portlb', '192.0.2.0/24', target),
  };

  it.each([
    ['its own route', ours, 'owned'],
    ['a route without the prefix', { ...ours, name: 'default-route-abc' }, 'unrelated'],
    [
      'another owner marker',
      { ...ours, description: routeDescription('other', '192.0.2.0/24', target) },
      'foreign',
    ],
    ['no marker', { ...ours, description: 'hand made' }, 'foreign'],
    ['our marker, another VIP than its name says', { ...ours, destRange: '192.0.2.0/25' }, 'foreign'],
    ['our marker, another next hop than its name says', { ...ours, nextHopInstance: url('lb-2') }, 'foreign'],
    [
      'a next hop that is not an instance',
      { ...ours, nextHopInstance: undefined, otherNextHop: true },
      'foreign',
    ],
    [
      'our name and marker but another owner would have named it',
      { ...ours, description: routeDescription('x', '192.0.2.0/24', target) },
      'foreign',
    ],
  ])('%s is %s', (_what, route, kind) => {
    expect(ownership(route, 'portlb').kind).toBe(kind);
  });

  it('parses back VIP and target of its own route', () => {
    expect(ownership(ours, 'portlb')).toEqual({ kind: 'owned', vip: '192.0.2.0/24', target });
  });

  it('reports the other owner of a foreign route', () => {
    const theirs = { ...ours, description: routeDescription('team-b', '192.0.2.0/24', target) };
    expect(ownership(theirs, 'portlb')).toMatchObject({ kind: 'foreign', owner: 'team-b' });
  });
});
