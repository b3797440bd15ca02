import {
  DescribeRouteTablesCommand,
  type DescribeRouteTablesCommandOutput,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { ec2Error } from './aws-helpers.js';

/*
 * FAULT-INJECTING LAYER: stands in for what moto does not do. It sits in the SDK middleware stack
 * of a moto-backed test client and
 *   - reports routes to chosen ENIs as `blackhole` (moto keeps every route `active`),
 *   - answers CreateRoute on an existing destination with RouteAlreadyExists (moto silently
 *     overwrites when the target is a NetworkInterfaceId),
 *   - fails chosen actions with a given error (RequestLimitExceeded, UnauthorizedOperation, ...).
 * Everything else goes to moto unchanged.
 */

export interface FaultRules {
  /** ENIs whose routes read back as blackholes. */
  blackhole: Set<string>;
  /** Emulate AWS: CreateRoute on an existing destination fails. */
  routeAlreadyExists: boolean;
  /** action -> error to throw, and how many more times (Infinity: always). */
  fail: Map<string, { error: Error; times: number }>;
  /** Actions that reached the layer, for assertions. */
  seen: string[];
}

/**
 * `outsideRetry` (default): faults surface as the caller sees them after the SDK gave up.
 * `insideRetry`: the SDK's own retry sees each injected failure (only `fail` rules apply there).
 */
export function injectFaults(
  client: EC2Client,
  where: 'outsideRetry' | 'insideRetry' = 'outsideRetry',
): FaultRules {
  const rules: FaultRules = { blackhole: new Set(), routeAlreadyExists: false, fail: new Map(), seen: [] };
  const failFirst = (action: string) => {
    rules.seen.push(action);
    const failure = rules.fail.get(action);
    if (failure && failure.times > 0) {
      failure.times -= 1;
      throw failure.error;
    }
  };
  if (where === 'insideRetry') {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        failFirst((context.commandName ?? '').replace(/Command$/, ''));
        return next(args);
      },
      { step: 'deserialize', name: 'portlbTestFaults', priority: 'low' },
    );
    return rules;
  }
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const action = (context.commandName ?? '').replace(/Command$/, '');
      failFirst(action);
      if (action === 'CreateRoute' && rules.routeAlreadyExists) {
        const input = args.input as { RouteTableId?: string; DestinationCidrBlock?: string };
        const tables = await client.send(
          new DescribeRouteTablesCommand({ RouteTableIds: [input.RouteTableId ?? ''] }),
        );
        const exists = tables.RouteTables?.[0]?.Routes?.some(
          (r) => r.DestinationCidrBlock === input.DestinationCidrBlock,
        );
        if (exists) {
          throw ec2Error(
            'RouteAlreadyExists',
            `The route identified by ${input.DestinationCidrBlock} already exists.`,
          );
        }
      }
      const result = await next(args);
      if (action === 'DescribeRouteTables' && rules.blackhole.size > 0) {
        const output = result.output as DescribeRouteTablesCommandOutput;
        for (const table of output.RouteTables ?? []) {
          for (const route of table.Routes ?? []) {
            if (route.NetworkInterfaceId && rules.blackhole.has(route.NetworkInterfaceId))
              route.State = 'blackhole';
          }
        }
      }
      return result;
    },
    { step: 'initialize', name: 'portlbTestFaults', priority: 'high' },
  );
  return rules;
}
