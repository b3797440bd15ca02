import fc from 'fast-check';
import type { z } from 'zod';
import { address, instanceUrl, networkInterfaceId } from '../src/config/fields.js';
import { setAt } from './config-arbitraries.js';

/*
 * Observed-routes files (`portlb plan --observed`, src/providers/file.ts): well-formed ones for
 * each mode's tables and target form, and the ways an entry comes broken. Shared by the property
 * tests and the fuzz script.
 */

export interface ModeRoutes {
  readonly mode: 'bgp' | 'aws' | 'gcp';
  readonly tables: readonly string[];
  /** The field schema of the mode's targets (what its descriptor's targetField is). */
  readonly target: z.ZodType<string>;
  readonly targets: fc.Arbitrary<string>;
  /** A target of another mode: never this mode's form. */
  readonly foreignTarget: string;
}

const hex = (n: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${n}}$`));

export const MODES: readonly ModeRoutes[] = [
  {
    mode: 'bgp',
    tables: ['bgp'],
    target: address,
    targets: fc.oneof(
      fc.integer({ min: 1, max: 254 }).map((h) => `10.99.0.${h}`),
      fc.integer({ min: 1, max: 0xffff }).map((h) => `2001:db8::${h.toString(16)}`),
    ),
    foreignTarget: 'eni-0123456789abcdef0',
  },
  {
    mode: 'aws',
    tables: ['rtb-0123456789abcdef0', 'rtb-01234567'],
    target: networkInterfaceId,
    targets: fc.oneof(hex(17), hex(8)).map((h) => `eni-${h}`),
    foreignTarget: '10.0.1.5',
  },
  {
    mode: 'gcp',
    tables: ['vpc'],
    target: instanceUrl,
    targets: fc
      .tuple(fc.constantFrom('europe-west1-b', 'us-central1-a'), fc.stringMatching(/^lb-[a-z0-9]{1,8}$/))
      .chain(([zone, name]) =>
        fc.constantFrom(
          `projects/portlb-test/zones/${zone}/instances/${name}`,
          `https://www.googleapis.com/compute/v1/projects/portlb-test/zones/${zone}/instances/${name}`,
        ),
      ),
    foreignTarget: 'i-0123456789abcdef0',
  },
];

const vip = fc.oneof(
  fc
    .tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }))
    .map(([b, c]) => `10.${b}.${c}.0/24`),
  fc
    .integer({ min: 0, max: 0xffff })
    .map((s) => (s === 0 ? '2001:db8::/48' : `2001:db8:${s.toString(16)}::/48`)),
  fc.integer({ min: 1, max: 254 }).map((h) => `192.0.2.${h}/32`),
);

export type RouteEntry = Record<string, unknown>;

function entry(m: ModeRoutes): fc.Arbitrary<RouteEntry> {
  return fc.record(
    {
      table: fc.constantFrom(...m.tables),
      vip,
      target: m.targets,
      owner: fc.constantFrom('portlb', 'lab', 'someone-else'),
      state: fc.constantFrom('active', 'blackhole'),
      id: fc.stringMatching(/^[a-z][-a-z0-9]{0,20}$/),
    },
    { requiredKeys: ['table', 'vip', 'target'] },
  );
}

/** A well-formed routes file for one mode (as a document: YAML and JSON both read to this). */
export const validRoutes: fc.Arbitrary<{ mode: ModeRoutes; routes: RouteEntry[] }> = fc.oneof(
  // Built once per mode: an arbitrary built inside chain() is built again for every draw.
  ...MODES.map((mode) => fc.array(entry(mode), { maxLength: 12 }).map((routes) => ({ mode, routes }))),
);

export interface BrokenRoutes {
  readonly mode: ModeRoutes;
  readonly document: unknown;
  /** The problem must name this path: `[3].vip`, `(root)`. */
  readonly path: string;
  readonly what: string;
}

/** A well-formed file broken in one entry, in one field. */
export const brokenRoutes: fc.Arbitrary<BrokenRoutes> = validRoutes
  .filter(({ routes }) => routes.length > 0)
  .chain(({ mode, routes }) =>
    fc.integer({ min: 0, max: routes.length - 1 }).chain((i) => {
      const field = (name: string, value: unknown, what: string) => ({
        mode,
        document: setAt(routes, [i, name], value),
        path: `[${i}].${name}`,
        what,
      });
      const { target: _, ...noTarget } = routes[i]!;
      return fc.oneof(
        fc.constantFrom(
          field('vip', 'banana', 'vip: banana'),
          field('vip', '10.1.1.5/24', 'host bits'),
          field('vip', '2001:DB8::/48', 'a non-canonical IPv6 VIP'),
          field('vip', 7, 'a number as VIP'),
          field('target', 'not-an-ip', 'target: not-an-ip'),
          field('target', mode.foreignTarget, "another mode's target"),
          field('target', ['x'], 'a list as target'),
          field('table', 'elsewhere', 'a table the config does not manage'),
          field('state', 'up', 'an unknown state'),
          field('owner', 'Not An Owner', 'an owner that is not an owner id'),
          field('id', 'has space', 'an id with a space'),
          field('zzUnknown', true, 'an unknown field'),
          { mode, document: setAt(routes, [i], noTarget), path: `[${i}].target`, what: 'no target' },
          { mode, document: setAt(routes, [i], 'bgp 10.1.1.0/24'), path: `[${i}]`, what: 'a string entry' },
        ),
        fc.constant({ mode, document: { routes }, path: '(root)', what: 'a mapping, not a list' }),
      );
    }),
  );
