import { createHash } from 'node:crypto';
import { canonicalText } from '../../core/cidr.js';
import { canonicalInstanceUrl, parseInstanceUrl } from '../../core/provider-id.js';
import { PermanentError } from '../../errors.js';

/*
 * Ownership of GCP routes, the way the Kubernetes cloud-provider route controller does it (a name
 * prefix plus a description marker), made deterministic: a route's name is a function of
 * (owner, VIP, target instance), so every writer derives the same name for the same route and
 * nobody needs a record of what was written.
 *
 *   portlb-<vip>-<instance>-<hash>        e.g. portlb-192-0-2-0-24-lb-node-1-3f0c9a4b21de
 *
 * - `portlb-`: the prefix the one filtered `routes.list` selects on.
 * - `<vip>`: the canonical CIDR with `.`, `:` and `/` as `-` (IPv6 `2001:db8::/32` -> `2001-db8--32`),
 *   at most 22 characters; `<instance>`: the instance name, cut to what is left of 63.
 *   Both are for people reading the console: they may be cut, so nothing is parsed back from them.
 * - `<hash>`: the first 12 hex digits (48 bits) of SHA-256 over `owner \n VIP \n instance URL`, the
 *   full values, so two routes that differ in any of the three never share a name, however the
 *   readable part was cut (a collision needs ~2^24 routes in one network; a VPC holds hundreds).
 *
 * The description carries the owner: `portlb owner=<owner> vip=<vip> instance=<zone>/<name>`.
 * A route is portlb's (this owner's) only when all of these hold: its name has the prefix, its
 * description's marker names this owner, its next hop is an instance, and its name is exactly the
 * one derived from (marker owner, destRange, nextHopInstance). Anything else under the prefix is
 * foreign and never touched: another owner's route, or one someone made to look like ours.
 */

export const ROUTE_PREFIX = 'portlb-';
const HASH_DIGITS = 12;
const MAX_NAME = 63;
const MAX_VIP_PART = 22;
const MARKER = /^portlb owner=([a-z0-9]([-a-z0-9]*[a-z0-9])?)(?:\s|$)/;

function clip(text: string, length: number): string {
  return text.slice(0, Math.max(0, length)).replace(/^-+|-+$/g, '');
}

function canonicalVip(vip: string): string {
  const parsed = canonicalText(vip);
  if (!parsed.ok) throw new PermanentError(`invalid VIP ${vip}: ${parsed.reason}`);
  return parsed.text;
}

function instanceName(target: string): string {
  return parseInstanceUrl(target)?.name ?? '';
}

/** The name of this owner's route for this VIP to this instance: `[a-z]([-a-z0-9]*[a-z0-9])?`, <= 63 chars. */
export function routeName(owner: string, vip: string, target: string): string {
  const cidr = canonicalVip(vip);
  // A short `projects/...` and the full URL are one instance: one name.
  const instance = canonicalInstanceUrl(target) ?? target;
  const hash = createHash('sha256')
    .update(`${owner}\n${cidr}\n${instance}`)
    .digest('hex')
    .slice(0, HASH_DIGITS);
  const vipPart = clip(cidr.toLowerCase().replace(/[.:/]/g, '-'), MAX_VIP_PART);
  const room = MAX_NAME - ROUTE_PREFIX.length - HASH_DIGITS - 2;
  const nodePart = clip(instanceName(target), room - vipPart.length - 1);
  return `${ROUTE_PREFIX}${[vipPart, nodePart, hash].filter((p) => p !== '').join('-')}`;
}

/** The description portlb writes: the owner marker first, then what the route is for (for people). */
export function routeDescription(owner: string, vip: string, target: string): string {
  const ref = parseInstanceUrl(target);
  const instance = ref ? `${ref.zone}/${ref.name}` : target;
  return `portlb owner=${owner} vip=${canonicalVip(vip)} instance=${instance}`;
}

/** The owner a description's marker names, or undefined when it carries none. */
export function markerOwner(description: string): string | undefined {
  return MARKER.exec(description)?.[1];
}

/** The fields of a Compute route the ownership rule reads. */
export interface RouteFacts {
  readonly name: string;
  readonly destRange: string;
  readonly nextHopInstance?: string | undefined;
  readonly otherNextHop?: boolean;
  readonly description: string;
}

export type Ownership =
  /** This owner's: planned, deleted, replaced. */
  | { readonly kind: 'owned'; readonly vip: string; readonly target: string }
  /** Under the prefix but not this owner's; reported so the plan says why it is left alone. */
  | { readonly kind: 'foreign'; readonly owner?: string | undefined; readonly why: string }
  /** Not portlb's business at all (no prefix). */
  | { readonly kind: 'unrelated' };

/** Is this route ours? Pure: the whole ownership rule, for one route. */
export function ownership(route: RouteFacts, owner: string): Ownership {
  if (!route.name.startsWith(ROUTE_PREFIX)) return { kind: 'unrelated' };
  const marked = markerOwner(route.description);
  if (marked === undefined) return { kind: 'foreign', why: 'no portlb owner marker in its description' };
  if (marked !== owner) return { kind: 'foreign', owner: marked, why: `owner marker ${marked}` };
  const vip = canonicalText(route.destRange);
  if (!vip.ok) return { kind: 'foreign', why: `destRange ${route.destRange} is not a CIDR` };
  if (route.nextHopInstance === undefined || route.otherNextHop) {
    return { kind: 'foreign', why: 'its next hop is not an instance' };
  }
  if (route.name !== routeName(owner, vip.text, route.nextHopInstance)) {
    return {
      kind: 'foreign',
      why: 'its name is not the one portlb derives from its owner, VIP and next hop',
    };
  }
  return { kind: 'owned', vip: vip.text, target: route.nextHopInstance };
}
