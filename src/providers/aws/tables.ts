import { DescribeRouteTablesCommand, type Filter, type Route, type RouteTable } from '@aws-sdk/client-ec2';
import { PermanentError } from '../../errors.js';
import { call, isEc2Code } from './errors.js';
import type { Ec2Port } from './port.js';

/** EC2 allows this many tags per resource; candidacies and route records share a table's. */
export const MAX_TAGS_PER_RESOURCE = 50;

/** How many more tags a table can take. */
export function tagRoom(tags: Readonly<Record<string, string>>): number {
  return MAX_TAGS_PER_RESOURCE - Object.keys(tags).length;
}

/** How the config names the managed tables: explicit ids, or every table carrying these tags. */
export type TableSelector =
  | { readonly ids: readonly string[] }
  | { readonly tags: Readonly<Record<string, string>> };

/** One route as EC2 reports it, reduced to what ownership and planning need. */
export interface RawRoute {
  readonly destination: string;
  /** `eni`: NetworkInterfaceId (or an InstanceId); `none`: a blackhole whose target is gone; `other`: a gateway, peering, ... */
  readonly kind: 'eni' | 'none' | 'other';
  readonly target: string;
  readonly state: 'active' | 'blackhole';
}

export interface RouteTableView {
  readonly id: string;
  readonly vpcId: string;
  readonly routes: readonly RawRoute[];
  readonly tags: Readonly<Record<string, string>>;
  /** Destinations of the table's `local` routes: every CIDR of its VPC, secondary ones included. */
  readonly localCidrs: readonly string[];
}

function otherTarget(route: Route): string | undefined {
  return (
    route.GatewayId ??
    route.NatGatewayId ??
    route.TransitGatewayId ??
    route.VpcPeeringConnectionId ??
    route.EgressOnlyInternetGatewayId ??
    route.CarrierGatewayId ??
    route.LocalGatewayId ??
    route.CoreNetworkArn ??
    undefined
  );
}

export function toRawRoute(route: Route): RawRoute | undefined {
  const destination = route.DestinationCidrBlock ?? route.DestinationIpv6CidrBlock;
  if (destination === undefined) return undefined; // prefix-list routes are never ours
  const state = route.State === 'blackhole' ? 'blackhole' : 'active';
  const other = otherTarget(route);
  if (other !== undefined) return { destination, kind: 'other', target: other, state };
  const eni = route.NetworkInterfaceId ?? route.InstanceId;
  if (eni !== undefined) return { destination, kind: 'eni', target: eni, state };
  return { destination, kind: 'none', target: '', state };
}

export function toTableView(table: RouteTable): RouteTableView {
  const routes = (table.Routes ?? []).flatMap((r) => {
    const raw = toRawRoute(r);
    return raw ? [raw] : [];
  });
  const tags: Record<string, string> = {};
  for (const tag of table.Tags ?? []) if (tag.Key !== undefined) tags[tag.Key] = tag.Value ?? '';
  return {
    id: table.RouteTableId ?? '',
    vpcId: table.VpcId ?? '',
    routes,
    tags,
    localCidrs: routes.filter((r) => r.kind === 'other' && r.target === 'local').map((r) => r.destination),
  };
}

function describeSelector(selector: TableSelector): string {
  if ('ids' in selector) return `ids ${selector.ids.join(', ')}`;
  return `tags ${Object.entries(selector.tags)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ')}`;
}

/**
 * Reads every managed table, routes and tags included, in one DescribeRouteTables call (more only
 * when EC2 pages the answer). It filters only on table id or tag: moto answers `route.*` filters
 * with HTTP 500, and reading whole tables is what lets one call serve ownership, candidates and the
 * VPC CIDR check at once.
 */
export async function describeTables(ec2: Ec2Port, selector: TableSelector): Promise<RouteTableView[]> {
  const byIds = 'ids' in selector;
  const filters: Filter[] = byIds
    ? []
    : Object.entries(selector.tags).map(([key, value]) => ({ Name: `tag:${key}`, Values: [value] }));
  const tables: RouteTableView[] = [];
  let token: string | undefined;
  do {
    const page = await call({ action: 'DescribeRouteTables', resource: describeSelector(selector) }, () =>
      ec2.send(
        new DescribeRouteTablesCommand({
          ...(byIds ? { RouteTableIds: [...selector.ids] } : { Filters: filters }),
          ...(token && { NextToken: token }),
        }),
      ),
    ).catch((error: unknown) => {
      if (isEc2Code(error, 'InvalidRouteTableID.NotFound', 'InvalidRouteTableId.Malformed')) {
        // EC2's own message names the id it could not find; keep it, the selector alone may list several.
        const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : '';
        throw new PermanentError(
          `unknown route table in aws.routeTables (${describeSelector(selector)})${cause ? `: ${cause}` : ''}`,
          { cause: error },
        );
      }
      throw error;
    });
    tables.push(...(page.RouteTables ?? []).map(toTableView));
    token = page.NextToken;
  } while (token);
  if (byIds) {
    const seen = new Set(tables.map((t) => t.id));
    const missing = selector.ids.filter((id) => !seen.has(id));
    if (missing.length > 0)
      throw new PermanentError(`unknown route table in aws.routeTables: ${missing.join(', ')}`);
  } else if (tables.length === 0) {
    throw new PermanentError(`no route table matches aws.routeTables ${describeSelector(selector)}`);
  }
  return tables.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
