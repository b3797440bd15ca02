import { CreateRouteCommand, DeleteRouteCommand, ReplaceRouteCommand } from '@aws-sdk/client-ec2';
import pLimit from 'p-limit';
import { canonicalText } from '../../core/cidr.js';
import type { Change } from '../../core/model.js';
import type { ApplyResult } from '../../core/ports.js';
import { PermanentError } from '../../errors.js';
import { call, isEc2Code } from './errors.js';
import type { Ec2Port } from './port.js';
import { describeTables } from './tables.js';

type Write = Extract<Change, { kind: 'create' | 'replace' }>;

function destination(vip: string) {
  return vip.includes(':') ? { DestinationIpv6CidrBlock: vip } : { DestinationCidrBlock: vip };
}

function where(change: Change): string {
  return `${change.table}/${change.vip}`;
}

async function createRoute(ec2: Ec2Port, change: Write): Promise<void> {
  await call({ action: 'CreateRoute', resource: where(change) }, () =>
    ec2.send(
      new CreateRouteCommand({
        RouteTableId: change.table,
        NetworkInterfaceId: change.target,
        ...destination(change.vip),
      }),
    ),
  );
}

async function replaceRoute(ec2: Ec2Port, change: Write): Promise<void> {
  await call({ action: 'ReplaceRoute', resource: where(change) }, () =>
    ec2.send(
      new ReplaceRouteCommand({
        RouteTableId: change.table,
        NetworkInterfaceId: change.target,
        ...destination(change.vip),
      }),
    ),
  );
}

/** ReplaceRoute on a destination with no route fails with this code and a "no route" message. */
function isMissingRoute(error: unknown): boolean {
  return isEc2Code(error, 'InvalidParameterValue') && /no route/i.test(String((error as Error).message));
}

/**
 * CreateRoute found a route already there (another writer, or a retry of our own). Read the table
 * again and decide from what is really there: ours and right is done, ours and wrong is replaced,
 * someone else's is refused.
 */
async function settleExisting(ec2: Ec2Port, change: Write): Promise<void> {
  const [table] = await describeTables(ec2, { ids: [change.table] });
  const route = table?.routes.find((r) => {
    const destination = canonicalText(r.destination);
    return destination.ok && destination.text === change.vip;
  });
  if (route === undefined) return createRoute(ec2, change); // removed between the two calls
  if (route.kind === 'eni' && route.target === change.target && route.state === 'active') return;
  if (route.kind === 'other') {
    throw new PermanentError(
      `${change.vip} in ${change.table} is routed to ${route.target}, which portlb does not own; left alone`,
    );
  }
  await replaceRoute(ec2, change);
}

async function create(ec2: Ec2Port, change: Write): Promise<void> {
  try {
    await createRoute(ec2, change);
  } catch (error) {
    if (!isEc2Code(error, 'RouteAlreadyExists')) throw error;
    await settleExisting(ec2, change);
  }
}

async function replace(ec2: Ec2Port, change: Write): Promise<void> {
  try {
    await replaceRoute(ec2, change);
  } catch (error) {
    if (!isMissingRoute(error)) throw error;
    await create(ec2, change);
  }
}

async function remove(ec2: Ec2Port, change: Extract<Change, { kind: 'delete' }>): Promise<void> {
  try {
    await call({ action: 'DeleteRoute', resource: where(change) }, () =>
      ec2.send(new DeleteRouteCommand({ RouteTableId: change.table, ...destination(change.vip) })),
    );
  } catch (error) {
    if (!isEc2Code(error, 'InvalidRoute.NotFound')) throw error; // already gone: the goal is met
  }
}

/**
 * Applies the planner's changes: ReplaceRoute first (one call moves a route, with no moment
 * without one), CreateRoute when there is none; every step is safe to repeat. Changes run a few at
 * a time: a failover moves every VIP in every table, and EC2 throttles bursts of writes per
 * account (the SDK's own retry absorbs short throttling).
 */
export async function applyRouteChanges(
  ec2: Ec2Port,
  changes: readonly Change[],
  options: { concurrency?: number } = {},
): Promise<ApplyResult[]> {
  const limit = pLimit(options.concurrency ?? 8);
  return Promise.all(
    changes.map((change) =>
      limit(async (): Promise<ApplyResult> => {
        try {
          if (change.kind === 'create') await create(ec2, change);
          else if (change.kind === 'replace') await replace(ec2, change);
          else await remove(ec2, change);
          return { change };
        } catch (error) {
          return { change, error };
        }
      }),
    ),
  );
}
