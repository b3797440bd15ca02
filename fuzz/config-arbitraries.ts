import fc from 'fast-check';
import { prefix } from '../src/core/cidr.js';

/*
 * fast-check arbitraries for portlb configs: valid documents of every mode and most options, and
 * the mutations that make one invalid. Shared by the property tests and the fuzz script.
 */

const label = fc.stringMatching(/^[a-z]([a-z0-9-]{0,10}[a-z0-9])?$/);
const octet = fc.integer({ min: 1, max: 254 });
const host = (first: number) => fc.tuple(octet, octet).map(([b, c]) => `${first}.${b}.${c}.1`);

/** Services with distinct names and non-overlapping VIPs inside 10.0.0.0/8 and 2001:db8::/32. */
const services = fc
  .uniqueArray(fc.integer({ min: 0, max: 0xffff }), { minLength: 1, maxLength: 6 })
  .chain((slots) =>
    fc.tuple(
      ...slots.map((slot, i) =>
        fc.record({
          name: fc.constant(`svc-${i}`),
          vip: fc.constantFrom(
            `10.${slot >> 8}.${slot & 255}.0/24`,
            `10.${slot >> 8}.${slot & 255}.7/32`,
            prefix(`2001:db8:${slot.toString(16)}::/48`).text, // canonical: 2001:db8::/48 for slot 0
          ),
          ports: fc.uniqueArray(
            fc.record({ port: fc.integer({ min: 1, max: 65535 }), protocol: fc.constantFrom('TCP', 'UDP') }),
            { minLength: 1, maxLength: 3, selector: (p) => `${p.port}/${p.protocol}` },
          ),
          backends: fc.oneof(
            fc.record({
              static: fc.array(fc.record({ address: host(192), port: fc.integer({ min: 1, max: 65535 }) }), {
                minLength: 1,
                maxLength: 3,
              }),
            }),
            fc.record({
              kubernetes: fc.record(
                {
                  service: label,
                  namespace: label,
                  port: fc.oneof(fc.integer({ min: 1, max: 65535 }), fc.constant('http')),
                },
                { requiredKeys: ['service'] },
              ),
            }),
          ),
        }),
      ),
    ),
  );

const peers = fc
  .uniqueArray(octet, { minLength: 1, maxLength: 3 })
  .map((hosts) => hosts.map((h) => ({ address: `172.16.0.${h}`, as: 65000 })));

const bgp = fc.record(
  {
    localAs: fc.integer({ min: 1, max: 4294967294 }).filter((as) => as !== 23456 && as !== 65535),
    routerId: fc.constantFrom('node-ip', 'pod-ip', '10.255.0.1'),
    nextHop: fc.constantFrom('node', 'pod'),
    holdTime: fc.integer({ min: 3, max: 30 }),
    communities: fc.array(
      fc
        .tuple(fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 65535 }))
        .map(([a, b]) => `${a}:${b}`),
      { maxLength: 3 },
    ),
    peers,
  },
  { requiredKeys: ['localAs', 'peers'] },
);

const aws = fc.record(
  {
    region: fc.constantFrom('us-east-1', 'eu-central-2', 'us-gov-west-1', 'ap-southeast-4'),
    routeTables: fc.oneof(
      fc.record({
        ids: fc.uniqueArray(fc.stringMatching(/^rtb-[0-9a-f]{17}$/), { minLength: 1, maxLength: 3 }),
      }),
      fc.record({ tags: fc.constant({ 'portlb.io/managed': 'true' }) }),
    ),
    endpoint: fc.constantFrom('http://127.0.0.1:5000', 'https://ec2.us-east-1.amazonaws.com'),
    publish: fc.constantFrom('tags', 'eventbridge'),
    candidacy: fc
      .tuple(fc.integer({ min: 1, max: 600 }), fc.integer({ min: 1, max: 600 }))
      .map(([refresh, extra]) => ({ refreshSeconds: refresh, staleSeconds: refresh + extra })),
  },
  { requiredKeys: ['routeTables'] },
);

const gcp = fc.record({
  project: fc.constantFrom('my-project', 'example.com:prod-123'),
  network: label.filter((l) => /^[a-z]/.test(l)),
});

const health = fc
  .tuple(fc.double({ min: 0.1, max: 60, noNaN: true }), fc.double({ min: 0.01, max: 1, noNaN: true }))
  .map(([interval, share]) => ({
    intervalSeconds: interval,
    timeoutSeconds: Math.max(0.01, interval * share),
  }));

/** A document parseConfig accepts, in any mode. */
export const validConfig = fc
  .record({
    mode: fc.constantFrom('bgp', 'aws', 'gcp', 'auto'),
    owner: label,
    services,
    bgp,
    aws,
    gcp,
    health,
    drain: fc.record({ seconds: fc.integer({ min: 0, max: 3600 }) }),
    reconcile: fc
      .integer({ min: 1, max: 3600 })
      .chain((resync) =>
        fc.record({ resyncSeconds: fc.constant(resync), debounceMs: fc.integer({ min: 0, max: 999 }) }),
      ),
    server: fc.record({ listen: fc.constantFrom('0.0.0.0:9402', '[::]:0', '127.0.0.1:65535') }),
  })
  .map(({ mode, bgp, aws, gcp, ...rest }) => ({
    mode,
    allowedVipPools: ['10.0.0.0/8', '2001:db8::/32'],
    clusterNetworks: { nodes: ['192.168.0.0/16'], pods: ['172.16.0.0/12'] },
    ...rest,
    ...(mode === 'bgp' || mode === 'auto' ? { bgp } : {}),
    ...(mode === 'aws' || mode === 'auto' ? { aws } : {}),
    ...(mode === 'gcp' ? { gcp } : {}),
  }));

/** Where a document holds something: the path segments, the value, and the object or array holding it. */
export interface Place {
  readonly path: readonly (string | number)[];
  readonly value: unknown;
}

export function places(value: unknown, path: (string | number)[] = []): Place[] {
  const here: Place = { path, value };
  if (Array.isArray(value)) return [here, ...value.flatMap((v, i) => places(v, [...path, i]))];
  if (typeof value === 'object' && value !== null) {
    return [here, ...Object.entries(value).flatMap(([k, v]) => places(v, [...path, k]))];
  }
  return [here];
}

/** The config path format problems use: `services[0].vip`, `(root)`. */
export function pathText(path: readonly (string | number)[]): string {
  let out = '';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : out === '' ? key : `.${key}`;
  return out || '(root)';
}

export function setAt(document: unknown, path: readonly (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  const copy = Array.isArray(document) ? [...document] : { ...(document as Record<string, unknown>) };
  (copy as Record<string | number, unknown>)[head!] = setAt(
    (document as Record<string | number, unknown>)[head!],
    rest,
    value,
  );
  return copy;
}

export interface Mutation {
  readonly document: unknown;
  /** The field the problem must name: it, or something inside it. */
  readonly path: string;
  readonly what: string;
}

/**
 * Mutations no field accepts: an object where a scalar goes, an unknown key in an object, a
 * number in a list (every list holds strings or objects), a required field removed, or a value
 * that breaks one of the rules (special-purpose VIP, non-canonical CIDR, out-of-range timer).
 */
export function mutation(document: unknown): fc.Arbitrary<Mutation> {
  const all = places(document).filter((p) => p.path.length > 0);
  const scalars = all.filter((p) => typeof p.value !== 'object' || p.value === null);
  const objects = places(document).filter(
    (p) => typeof p.value === 'object' && p.value !== null && !Array.isArray(p.value),
  );
  const lists = all.filter((p) => Array.isArray(p.value));
  const at = <T extends Place>(list: T[]) => fc.constantFrom(...list);
  const targeted: [string, unknown, string][] = [
    ['services.0.vip', '127.0.0.0/8', 'a loopback VIP'],
    ['services.0.vip', '10.0.0.5/24', 'host bits'],
    ['services.0.vip', '2001:DB8::/48', 'upper-case IPv6'],
    ['services.0.vip', '::ffff:10.0.0.0/120', 'a mapped VIP'],
    ['services.0.name', 'Web_1', 'not a DNS label'],
    ['health.timeoutSeconds', 1e9, 'a timer no one can wait for'],
    ['reconcile.debounceMs', 1e12, 'a huge debounce'],
    ['server.listen', '0.0.0.0:70000', 'a port above 65535'],
    ['allowedVipPools.0', '10.0.0.0/33', 'a bad pool'],
  ];
  return fc.oneof(
    at(scalars).map((p) => ({
      document: setAt(document, p.path, { bogus: true }),
      path: pathText(p.path),
      what: 'an object for a scalar',
    })),
    at(objects).map((p) => ({
      document: setAt(document, [...p.path, 'zzUnknown'], { bogus: true }),
      path: pathText(p.path),
      what: 'an unknown key',
    })),
    at(lists).map((p) => ({
      document: setAt(document, [...p.path, (p.value as unknown[]).length], 42),
      path: pathText(p.path),
      what: 'a number in a list',
    })),
    fc.constantFrom('mode', 'allowedVipPools', 'services').map((key) => {
      const { [key]: _, ...rest } = document as Record<string, unknown>;
      return { document: rest, path: key, what: `no ${key}` };
    }),
    fc.constantFrom(...targeted).map(([dotted, value, what]) => {
      const path = dotted.split('.').map((k) => (/^\d+$/.test(k) ? Number(k) : k));
      return { document: setAt(document, path, value), path: pathText(path), what };
    }),
  );
}
